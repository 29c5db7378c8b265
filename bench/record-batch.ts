/**
 * `npm run bench:encode`: what encoding one produce batch costs, kafkajs' own record and batch
 * encoders against the connector's (connector/ports/kafka/record-batch.ts), in one process, the two
 * alternating so both meet the same machine. Per record: CPU µs, and the bytes allocated (heap plus
 * the buffers outside it), which is what the garbage collector then has to find.
 * Options: --records N per batch (default 500), --rounds N (default 200).
 */
import { parseArgs } from "node:util";
import { installKafkajs } from "../connector/ports/kafka/seam";
import { connectorEncoders, kafkajsEncoders, type Encoders } from "./kafkajs-encoders";
import { makeFiller, stamp } from "./common";

installKafkajs(); // the patched Encoder underneath both, as in the connector
const { values } = parseArgs({ options: { records: { type: "string" }, rounds: { type: "string" } } });
const RECORDS = Number(values.records ?? 500);
const ROUNDS = Number(values.rounds ?? 200);

const kafkajs: Encoders = kafkajsEncoders();
const ours: Encoders = connectorEncoders();

/** One batch as the produce request builds it: the record spread with its deltas, then the batch. */
async function encode(e: Encoders, messages: { key: Buffer | null; value: Buffer }[]): Promise<number> {
  const now = Date.now();
  const records = messages.map((m, i) => e.record({ ...m, offsetDelta: i, timestampDelta: 0 }));
  const batch = await e.recordBatch({ records, firstTimestamp: now, maxTimestamp: now, lastOffsetDelta: records.length - 1 });
  return batch.buffer.length;
}

const allocated = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
};

async function measure(e: Encoders, messages: { key: Buffer | null; value: Buffer }[]): Promise<{ us: number; bytes: number }> {
  // Allocation is counted over rounds that fit between collections; timing over all rounds.
  let bytes = 0;
  let counted = 0;
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < ROUNDS; r++) {
    const before = allocated();
    await encode(e, messages);
    const grew = allocated() - before;
    if (grew > 0) {
      bytes += grew;
      counted++;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { us: (cpu.user + cpu.system) / (ROUNDS * messages.length), bytes: counted ? bytes / (counted * messages.length) : 0 };
}

async function main(): Promise<void> {
  process.stdout.write(`record batch encoding, ${RECORDS} records per batch, ${ROUNDS} batches per pass, passes alternating\n\n`);
  process.stdout.write("| payload | kafkajs µs/record | connector µs/record | ratio | kafkajs bytes allocated/record | connector bytes allocated/record |\n|---:|---:|---:|---:|---:|---:|\n");
  for (const size of [100, 1024, 16384]) {
    const filler = makeFiller(size);
    const messages = Array.from({ length: size > 4096 ? Math.min(RECORDS, 50) : RECORDS }, (_, i) => ({ key: null, value: stamp(filler, i, 0) }));
    const a = (await encode(kafkajs, messages)) === (await encode(ours, messages));
    if (!a) throw new Error("the two encoders wrote batches of different sizes");
    const k: { us: number; bytes: number }[] = [];
    const o: { us: number; bytes: number }[] = [];
    for (let pass = 0; pass < 3; pass++) {
      k.push(await measure(kafkajs, messages));
      o.push(await measure(ours, messages));
    }
    // The best pass of each: noise only ever adds time.
    const kb = k.reduce((x, y) => (y.us < x.us ? y : x));
    const ob = o.reduce((x, y) => (y.us < x.us ? y : x));
    process.stdout.write(`| ${size} B | ${kb.us.toFixed(2)} | ${ob.us.toFixed(2)} | ${(ob.us / kb.us).toFixed(2)} | ${Math.round(kb.bytes)} | ${Math.round(ob.bytes)} |\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:encode failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
