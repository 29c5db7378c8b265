import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { groupMessagesPerPartition } from "../../connector/ports/kafka/patches";
import { installKafkajs } from "../../connector/ports/kafka/seam";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Encoder = require("kafkajs/src/protocol/encoder") as new () => { writeVarLong(v: number): void; writeUVarInt(v: number): void; buffer: Buffer };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Partitioners } = require("kafkajs") as typeof import("kafkajs");

/** Reference encodings written from the Kafka protocol spec, independent of kafkajs. */
function uvarint(v: bigint): number[] {
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
const zigzag64 = (n: bigint): bigint => (n >= 0n ? n << 1n : (-n << 1n) - 1n);

describe("kafkajs 2.2.4 performance patches", () => {
  it("are installed by the seam when the connector loads kafkajs (a fresh process, as the CLI runs)", () => {
    const seam = join(__dirname, "..", "..", "connector", "ports", "kafka", "seam.js");
    const out = execFileSync(process.execPath, ["-e", `process.stdout.write(JSON.stringify(require(${JSON.stringify(seam)}).installKafkajs().parts))`]).toString();
    assert.deepEqual(JSON.parse(out), { patches: true, fetchShaping: true, rejoinHook: true, murmur2: true, codecs: true });
    // In this mocha process the root hooks install the seam before any test file loads kafkajs.
    assert.equal(installKafkajs().parts.patches, true);
  });

  it("says what is off, and what that costs, when kafkajs was loaded before the seam", () => {
    const seam = join(__dirname, "..", "..", "connector", "ports", "kafka", "seam.js");
    const out = execFileSync(process.execPath, ["-e", `require("kafkajs"); process.stdout.write(JSON.stringify(require(${JSON.stringify(seam)}).installKafkajs().problems))`]).toString();
    assert.deepEqual(JSON.parse(out), ["allocation patches off (kafkajs was loaded before the connector, or another version): more CPU per message"]);
  });

  it("writes varlongs and uvarints byte for byte as the protocol defines", () => {
    const values = [0, 1, -1, 63, -64, 64, 127, 128, -129, 300, 2 ** 31 - 1, -(2 ** 31), 2 ** 40 + 7, -(2 ** 45) - 3, 2 ** 51 - 1, -(2 ** 51) + 1, 2 ** 52, -(2 ** 53) + 1, 1732470000000];
    for (const v of values) {
      const e = new Encoder();
      e.writeVarLong(v);
      assert.deepEqual([...e.buffer], uvarint(zigzag64(BigInt(v))), `varlong ${v}`);
    }
    for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 21, 2 ** 28, 2 ** 31 - 1]) {
      const e = new Encoder();
      e.writeUVarInt(v);
      assert.deepEqual([...e.buffer], uvarint(BigInt(v)), `uvarint ${v}`);
    }
  });

  it("groups messages by partition in order, as kafkajs does", () => {
    const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0 }));
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` }));
    const partitioner = Partitioners.DefaultPartitioner();
    const got = groupMessagesPerPartition({ topic: "t", partitionMetadata, messages, partitioner: partitioner as never });
    const want: Record<number, unknown[]> = {};
    for (const m of messages) (want[partitioner({ topic: "t", partitionMetadata, message: m } as never)] ??= []).push(m);
    assert.deepEqual(got, want);
    assert.deepEqual(groupMessagesPerPartition({ topic: "t", partitionMetadata: [], messages, partitioner: partitioner as never }), {});
  });
});
