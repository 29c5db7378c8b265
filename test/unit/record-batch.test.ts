import { strict as assert } from "node:assert";
import { PendingRecord, type RecordArgs, type RecordBatchArgs } from "../../connector/ports/kafka/record-batch";
import { Compression, connectorEncoders, kafkajsEncoders, Long } from "../../bench/kafkajs-encoders";

const kafkajs = kafkajsEncoders();
const kafkajsRecord = kafkajs.record;
const kafkajsBatch = kafkajs.recordBatch;
const ours = connectorEncoders();
const Types = Compression.Types;

const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

/** Records as the produce request builds them: every shape of key, value, header and timestamp kafkajs takes. */
function recordArgs(): RecordArgs[] {
  const keys: unknown[] = [null, undefined, bytes(0, 1), bytes(16, 2), "key-€", bytes(300, 3)];
  const values: unknown[] = [bytes(100, 4), bytes(0, 5), null, "text ✓", bytes(1024, 6), bytes(20_000, 7), bytes(127, 8), bytes(128, 9)];
  const headers: (Record<string, unknown> | undefined)[] = [undefined, {}, { a: "x" }, { "ü-key": bytes(5, 10), list: ["1", "22", bytes(3, 11)] }, { big: bytes(200, 12) }];
  const deltas = [0, 1, -3, 63, 64, 2 ** 20, -(2 ** 33), 2 ** 52 + 2, 1_733_000_000_000];
  const out: RecordArgs[] = [];
  for (let i = 0; i < 60; i++) {
    out.push({ offsetDelta: i, timestampDelta: deltas[i % deltas.length], key: keys[i % keys.length], value: values[i % values.length], ...(headers[i % headers.length] ? { headers: headers[i % headers.length]! } : {}) });
  }
  return out;
}

describe("record batch encoder (one buffer per batch)", () => {
  it("writes each record as kafkajs does", () => {
    for (const a of recordArgs()) {
      const want = kafkajsRecord(a).buffer;
      const r = ours.record(a);
      const got = Buffer.alloc(r.size);
      assert.equal(r.write(got, 0), r.size);
      assert.deepEqual(got, want, JSON.stringify({ ...a, value: undefined }));
    }
  });

  for (const [name, compression] of [["uncompressed", Types.None], ["gzip", Types.GZIP]] as const) {
    it(`writes ${name} batches byte for byte as kafkajs does`, async () => {
      const args = recordArgs();
      const common: RecordBatchArgs = { compression, firstTimestamp: 1_733_000_000_000, maxTimestamp: "1733000000999" as unknown as number, lastOffsetDelta: args.length - 1, producerId: Long.fromValue(4711), producerEpoch: 3, firstSequence: 12_345 };
      const want = await kafkajsBatch({ ...common, records: args.map(kafkajsRecord) });
      const got = await ours.recordBatch({ ...common, records: args.map(ours.record) });
      assert.deepEqual(got.buffer, want.buffer);
      // kafkajs' own record encoders (another caller) are copied in unchanged
      const mixed = await ours.recordBatch({ ...common, records: args.map((a, i) => (i % 2 ? kafkajsRecord(a) : ours.record(a))) });
      assert.deepEqual(mixed.buffer, want.buffer);
    });
  }

  it("takes kafkajs' defaults: an empty, transactional batch with no producer id", async () => {
    const at = { firstTimestamp: 5, maxTimestamp: 9 };
    assert.deepEqual((await ours.recordBatch({ ...at, transactional: true })).buffer, (await kafkajsBatch({ ...at, transactional: true })).buffer);
    assert.deepEqual((await ours.recordBatch({ ...at, records: [ours.record({ value: "v" })] })).buffer, (await kafkajsBatch({ ...at, records: [kafkajsRecord({ value: "v" })] })).buffer);
  });

  it("sizes a record exactly, so the batch buffer is filled to the last byte", () => {
    const r = new PendingRecord(7, 2 ** 40, bytes(3, 1), bytes(5000, 2), [[Buffer.from("h"), null]]);
    const buf = Buffer.alloc(r.size + 4, 0xee);
    assert.equal(r.write(buf, 2), r.size + 2);
    assert.equal(buf[r.size + 2], 0xee);
  });
});
