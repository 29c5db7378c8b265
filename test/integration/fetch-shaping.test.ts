// Kafka's fetch limits count compressed bytes and kafkajs decompresses a whole fetch at once, so a
// very compressible topic used to put many times the limit in memory. The consumer port scales its
// limits by the ratio it has seen (connector/ports/kafkajs-fetch-shaping.ts).
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { KafkaJsPort } from "../../connector/ports/kafka-port";
import { createLogger } from "../../connector/logger";
import { decompressionRatio } from "../../connector/ports/kafkajs-fetch-shaping";
import { kcatProduce, sharedBrokers, uniqueName, type SharedBrokers } from "../helpers/brokers";
import { waitFor } from "../helpers/connector";

describe("Kafka consumer port: fetch limits follow the compression ratio (real Kafka, lz4 from kcat)", function () {
  this.timeout(120_000);
  let b: SharedBrokers;
  before(async function () {
    this.timeout(180_000);
    b = await sharedBrokers();
  });

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
  async function drain(topic: string): Promise<number> {
    const group = uniqueName("shape-g");
    const port = new KafkaJsPort(
      { brokers: [b.kafka.bootstrap], clientId: group, eventHubs: false, offsetReset: "earliest", commitIntervalMs: 1000, partitionsConsumedConcurrently: PARTITIONS, sessionTimeoutMs: 10_000 },
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
      await waitFor(`all ${PARTITIONS * PER_PARTITION} records of ${topic}`, () => seen >= PARTITIONS * PER_PARTITION, 60_000);
      assert.equal(seen, PARTITIONS * PER_PARTITION);
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
});
