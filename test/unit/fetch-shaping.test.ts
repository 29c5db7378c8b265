import { strict as assert } from "node:assert";
import { compressFrame } from "lz4-napi";
import { lz4Codec } from "../../connector/ports/kafka/codecs";
import {
  DecompressionRatio,
  MAX_RECORDS_PER_FETCH,
  MIN_FETCH_BYTES,
  RecordSize,
  decompressionRatio,
  rotate,
  scaledFetchLimits,
} from "../../connector/ports/kafka/fetch-shaping";
import { installKafkajs } from "../../connector/ports/kafka/seam";

const MiB = 1024 * 1024;

describe("kafkajs fetch shaping", () => {
  it("tracks decompressed bytes per compressed byte, and follows the data as it changes", () => {
    const r = new DecompressionRatio(1000);
    assert.equal(r.value, 1, "nothing decompressed yet");
    r.record(100, 6000);
    assert.equal(r.value, 60);
    for (let i = 0; i < 60; i++) r.record(100, 100);
    assert.ok(r.value < 1.5, `after much uncompressible data the ratio falls back (got ${r.value})`);
    r.record(100, 50);
    assert.ok(r.value >= 1, "never below 1");
  });

  it("divides the configured fetch limits by the ratio, down to a floor", () => {
    const configured = { maxBytes: 4 * MiB, maxBytesPerPartition: MiB };
    assert.deepEqual(scaledFetchLimits(configured, 1), configured);
    assert.deepEqual(scaledFetchLimits(configured, 0.5), configured, "a ratio below 1 changes nothing");
    assert.deepEqual(scaledFetchLimits(configured, 4), { maxBytes: MiB, maxBytesPerPartition: MiB / 4 });
    assert.deepEqual(scaledFetchLimits(configured, 1000), { maxBytes: MIN_FETCH_BYTES, maxBytesPerPartition: MIN_FETCH_BYTES });
  });

  it("lowers the byte limits to about MAX_RECORDS_PER_FETCH records when records are small", () => {
    const configured = { maxBytes: 4 * MiB, maxBytesPerPartition: MiB };
    const small = scaledFetchLimits(configured, 1, 112);
    assert.equal(small.maxBytes, MAX_RECORDS_PER_FETCH * 112);
    assert.equal(small.maxBytesPerPartition, MiB, "a partition may still fill what the total allows");
    assert.deepEqual(scaledFetchLimits(configured, 1, 16_396), configured, "16 KB records: the byte limits bind first");
    assert.deepEqual(scaledFetchLimits(configured, 1, undefined), configured, "no records seen yet");
    // Compressed 4 times: the budget is in uncompressed bytes, the limits count what is stored.
    assert.equal(scaledFetchLimits(configured, 4, 112).maxBytes, Math.floor((MAX_RECORDS_PER_FETCH * 112) / 4));
    assert.equal(scaledFetchLimits(configured, 1, 1).maxBytes, MIN_FETCH_BYTES, "never below the floor");
  });

  it("estimates stored bytes per record from a sample of each fetched batch", () => {
    const size = new RecordSize();
    assert.equal(size.value, undefined);
    const rec = (value: number, headers?: Record<string, Buffer>) => ({ key: null, value: Buffer.alloc(value), ...(headers ? { headers } : {}) });
    size.sample([{ messages: Array.from({ length: 500 }, () => rec(100)) }, { messages: [] }]);
    assert.equal(size.value, 112, "value plus 12 bytes of framing");
    size.sample([{ messages: [rec(100, { "mqtt.topic": Buffer.from("a/b") })] }]);
    assert.ok(size.value! > 112, `headers count (got ${size.value})`);
    // A topic whose records grow: the estimate follows rather than averaging over all time.
    for (let i = 0; i < 1000; i++) size.sample([{ messages: Array.from({ length: 32 }, () => rec(16_384)) }]);
    assert.ok(size.value! > 16_300, `follows larger records (got ${size.value})`);
  });

  it("rotates a list", () => {
    assert.deepEqual(rotate([0, 1, 2], 0), [0, 1, 2]);
    assert.deepEqual(rotate([0, 1, 2], 1), [1, 2, 0]);
    assert.deepEqual(rotate([0, 1, 2], 5), [2, 0, 1]);
    assert.deepEqual(rotate([], 3), []);
  });

  it("lists partitions in a different order on each fetch of a kafkajs consumer", () => {
    assert.ok(installKafkajs().parts.fetchShaping, "installed on kafkajs 2.2.4");
    const proto = (require("kafkajs/src/consumer/consumerGroup") as {
      prototype: { filterPartitionsByNode(this: unknown, nodeId: number, tp: Array<{ topic: string; partitions: number[] }>): Array<{ topic: string; partitions: number[] }> };
    }).prototype;
    // kafkajs' own method asks this for the partitions each broker leads; here broker 1 leads all.
    const group = { findReadReplicaForPartitions: (_topic: string, partitions: number[]) => ({ 1: partitions }) };
    const orders = [0, 1, 2, 3].map(() => proto.filterPartitionsByNode.call(group, 1, [{ topic: "t", partitions: [0, 1, 2] }])[0]!.partitions);
    assert.deepEqual(orders, [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2]]);
  });

  it("rotates each broker's partitions on that broker's own fetches", () => {
    const proto = (require("kafkajs/src/consumer/consumerGroup") as {
      prototype: { filterPartitionsByNode(this: unknown, nodeId: number, tp: Array<{ topic: string; partitions: number[] }>): Array<{ topic: string; partitions: number[] }> };
    }).prototype;
    // Broker 1 leads partitions 0 and 2, broker 2 leads 1 and 3; their fetchers alternate.
    const leaders: Record<number, number[]> = { 1: [0, 2], 2: [1, 3] };
    const group = { findReadReplicaForPartitions: () => leaders };
    const tp = [{ topic: "t", partitions: [0, 1, 2, 3] }];
    const seen: number[][] = [];
    for (let i = 0; i < 4; i++) for (const node of [1, 2]) seen.push(proto.filterPartitionsByNode.call(group, node, tp)[0]!.partitions);
    assert.deepEqual(seen.filter((_, i) => i % 2 === 0), [[0, 2], [2, 0], [0, 2], [2, 0]], "broker 1 alternates its two partitions");
    assert.deepEqual(seen.filter((_, i) => i % 2 === 1), [[1, 3], [3, 1], [1, 3], [3, 1]], "broker 2 alternates its two partitions");
  });

  it("counts what the lz4 codec inflates in the process-wide ratio", async () => {
    const raw = Buffer.alloc(512 * 1024, "telemetry ");
    const frame = await compressFrame(raw);
    const before = decompressionRatio.value;
    const out = await lz4Codec().decompress(frame);
    assert.equal(out.length, raw.length);
    assert.ok(decompressionRatio.value > before, `ratio rose from ${before} (got ${decompressionRatio.value})`);
  });
});
