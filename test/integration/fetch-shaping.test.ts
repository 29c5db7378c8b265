// Kafka's fetch limits count compressed bytes and kafkajs decompresses a whole fetch at once, so a
// very compressible topic used to put many times the limit in memory. The consumer port scales its
// limits by the ratio it has seen, and caps a fetch at about MAX_RECORDS_PER_FETCH records of the
// sizes it has seen (connector/ports/kafkajs-fetch-shaping.ts).
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { KafkaJsPort } from "../../connector/ports/kafka/port";
import { createLogger } from "../../connector/logger";
import { MAX_RECORDS_PER_FETCH, decompressionRatio } from "../../connector/ports/kafka/fetch-shaping";
import { consumerGroupPrototype } from "../../connector/ports/kafka/internals";
import { kcatProduce, sharedBrokersFixture, uniqueName } from "../helpers/brokers";
import { waitFor } from "../helpers/wait";

describe("Kafka consumer port: fetch limits follow the compression ratio and the record size (real Kafka, kcat)", function () {
  this.timeout(120_000);
  const b = sharedBrokersFixture();

  const PARTITIONS = 3;
  const PER_PARTITION = 5000;
  // 1 KB values of which 64 bytes differ: lz4 compresses a batch of them about 8-15 times, so a
  // partition's 5 MB are well under 1 MiB on disk and an unscaled fetch takes all of it at once.
  const filler = "x".repeat(960);

  async function fill(topic: string): Promise<void> {
    await b.kafka.createTopic(topic, PARTITIONS);
    const records = Array.from({ length: PARTITIONS * PER_PARTITION }, (_, i) => ({
      value: randomBytes(32).toString("hex") + filler,
      partition: Math.floor(i / PER_PARTITION),
    }));
    await kcatProduce(b.kafka.bootstrap, topic, records, {
      timeoutMs: 60_000,
      config: { "compression.codec": "lz4", "linger.ms": "100", "batch.num.messages": "10000", "batch.size": "1000000" },
    });
  }

  /** Drains `topic` from the start; returns the size of the largest batch kafkajs handed over. */
  async function drain(topic: string, partitions = PARTITIONS, total = PARTITIONS * PER_PARTITION): Promise<number> {
    const group = uniqueName("shape-g");
    const port = new KafkaJsPort(
      { brokers: [b.kafka.bootstrap], clientId: group, eventHubs: false, offsetReset: "earliest", commitIntervalMs: 1000, partitionsConsumedConcurrently: partitions, sessionTimeoutMs: 10_000 },
      createLogger("fatal"),
    );
    const consumer = port.consumer(group, topic);
    let seen = 0;
    let largest = 0;
    try {
      await consumer.connect();
      await consumer.run(async (batch) => {
        largest = Math.max(largest, batch.records.length);
        seen += batch.records.length;
        const last = batch.records[batch.records.length - 1];
        if (last) batch.resolveOffset(last.offset);
      });
      await waitFor(`all ${total} records of ${topic}`, () => seen >= total, 60_000);
      assert.equal(seen, total);
      return largest;
    } finally {
      await consumer.disconnect();
      await port.close();
    }
  }

  it("after the first compressed fetch, fetches hold a fraction of a partition instead of all of it", async () => {
    const first = uniqueName("shape-a");
    const second = uniqueName("shape-b");
    await fill(first);
    await fill(second);
    await drain(first); // teaches the ratio, as a route's first fetches do
    assert.ok(decompressionRatio.value > 4, `lz4 ratio seen: ${decompressionRatio.value.toFixed(1)}`);
    const largest = await drain(second);
    assert.ok(largest <= PER_PARTITION / 2, `largest batch ${largest} records; a partition holds ${PER_PARTITION}`);
  });

  it("with small uncompressed records, fetches after the first hold about MAX_RECORDS_PER_FETCH records, not 4 MiB of them", async () => {
    const parts = 6;
    const perPartition = 12_000;
    const topic = uniqueName("shape-small");
    await b.kafka.createTopic(topic, parts);
    // 100-byte values that do not compress: 4 MiB of them is about 37,000 records.
    const records = Array.from({ length: parts * perPartition }, (_, i) => ({ value: randomBytes(50).toString("hex"), partition: Math.floor(i / perPartition) }));
    await kcatProduce(b.kafka.bootstrap, topic, records, { timeoutMs: 60_000, config: { "linger.ms": "50", "batch.num.messages": "500" } });
    // Records per fetch, counted around the connector's own wrapper on kafkajs' ConsumerGroup.
    const proto = consumerGroupPrototype<{ fetch(nodeId: number): Promise<Array<{ messages: unknown[] }>> }>()!;
    const shaped = proto.fetch;
    const perFetch: number[] = [];
    proto.fetch = async function (this: unknown, nodeId: number) {
      const batches = await shaped.call(this, nodeId);
      const n = batches.reduce((sum, batch) => sum + batch.messages.length, 0);
      if (n > 0) perFetch.push(n);
      return batches;
    };
    try {
      await drain(topic, parts, parts * perPartition);
    } finally {
      proto.fetch = shaped;
    }
    const [first, ...rest] = perFetch;
    // The compression ratio is process-wide, and other tests in this process may have taught it
    // one; nothing here is compressed, so it stays what it was, and both limits are divided by it.
    const r = decompressionRatio.value;
    assert.ok(first !== undefined && first > (2 * MAX_RECORDS_PER_FETCH) / r, `the first fetch, before any record was seen, takes the byte limits' worth: ${first} (ratio ${r.toFixed(1)})`);
    // Kafka adds whole record batches (500 records here) until a limit is reached.
    const largest = Math.max(...rest);
    assert.ok(largest <= (1.2 * MAX_RECORDS_PER_FETCH) / r + 500, `records per fetch after the first: ${rest.join(", ")} (ratio ${r.toFixed(1)})`);
  });
});
