// The consumer port's drain on a real Kafka: batches that finish only after disconnect() has begun
// must still have their offsets committed, or a clean SIGTERM hands them to the next member again.
// kafkajs' consumer.commitOffsets does nothing once stop() has started, which this test caught.
import { strict as assert } from "node:assert";
import { Kafka, logLevel } from "kafkajs";
import { KafkaJsPort } from "../../connector/ports/kafka-port";
import { createLogger } from "../../connector/logger";
import type { ConsumerBatch } from "../../connector/ports/types";
import { kcatProduce, sharedBrokers, uniqueName, type SharedBrokers } from "../helpers/brokers";
import { waitFor } from "../helpers/connector";

describe("Kafka consumer drain (real Kafka)", function () {
  this.timeout(60_000);
  let b: SharedBrokers;
  before(async function () {
    this.timeout(180_000);
    b = await sharedBrokers();
  });

  async function committed(groupId: string, topic: string): Promise<Map<number, number>> {
    const admin = new Kafka({ brokers: [b.kafka.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return new Map((t?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    } finally {
      await admin.disconnect();
    }
  }

  it("commits the offsets of batches still running when disconnect() is called, on every partition", async () => {
    const topic = uniqueName("drain");
    const group = uniqueName("drain-g");
    const partitions = 3;
    await b.kafka.createTopic(topic, partitions);
    const port = new KafkaJsPort(
      {
        brokers: [b.kafka.bootstrap],
        clientId: group,
        eventHubs: false,
        offsetReset: "earliest",
        // Far longer than the test: only the drain can commit.
        commitIntervalMs: 600_000,
        partitionsConsumedConcurrently: partitions,
        sessionTimeoutMs: 10_000,
      },
      createLogger("fatal"),
    );
    const consumer = port.consumer(group, topic);
    try {
      const perPartition = 4;
      const records = Array.from({ length: partitions * perPartition }, (_, i) => ({ value: `m${i}`, partition: Math.floor(i / perPartition) }));
      await kcatProduce(b.kafka.bootstrap, topic, records);

      // Hold every batch until disconnect() has begun, as PUBACKs still outstanding at SIGTERM would.
      const held: ConsumerBatch[] = [];
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      await consumer.connect();
      await consumer.run(async (batch) => {
        held.push(batch);
        await released;
        const last = batch.records[batch.records.length - 1];
        if (last) batch.resolveOffset(last.offset);
      });
      await waitFor("a batch from every partition", () => new Set(held.map((h) => h.partition)).size === partitions, 30_000);
      assert.deepEqual(await committed(group, topic), new Map([[0, -1], [1, -1], [2, -1]]), "nothing is committed before the drain");

      const drained = consumer.disconnect();
      await new Promise((r) => setTimeout(r, 200)); // let stop() begin
      assert.ok(held.every((h) => !h.isActive()), "the running batches see the consumer stopping");
      release();
      await drained;

      const expected = new Map(Array.from({ length: partitions }, (_, p) => [p, perPartition] as [number, number]));
      assert.deepEqual(await committed(group, topic), expected, "each partition's next offset is committed");
    } finally {
      await port.close();
    }
  });
});
