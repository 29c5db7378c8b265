// The Kafka consumer port on a real Kafka. Offsets are committed on a timer, so the commits on the
// drain and before a rebalance are what keep a clean SIGTERM or a group change (rolling update,
// scale-out) from delivering messages twice. The first test caught that kafkajs'
// consumer.commitOffsets silently does nothing once stop() has begun.
import { strict as assert } from "node:assert";
import { KafkaJsPort } from "../../connector/ports/kafka/port";
import { createLogger } from "../../connector/logger";
import type { ConsumerBatch } from "../../connector/ports/types";
import { committedOffsets, kcatProduce, sharedBrokersFixture, uniqueName, withKafkaAdmin } from "../helpers/brokers";
import { waitFor } from "../helpers/wait";

describe("Kafka consumer port: commits on drain and rebalance (real Kafka)", function () {
  this.timeout(60_000);
  const b = sharedBrokersFixture();

  const committed = (groupId: string, topic: string) => committedOffsets(b.kafka.bootstrap, groupId, topic);

  function consumerPort(group: string, partitionsConsumedConcurrently: number): KafkaJsPort {
    return new KafkaJsPort(
      {
        brokers: [b.kafka.bootstrap],
        clientId: group,
        eventHubs: false,
        offsetReset: "earliest",
        // Far longer than the tests: only the drain or a rebalance can commit.
        commitIntervalMs: 600_000,
        partitionsConsumedConcurrently,
        sessionTimeoutMs: 10_000,
      },
      createLogger("fatal"),
    );
  }

  /** Members of a group that has settled (Stable), else 0. */
  function groupSize(groupId: string): Promise<number> {
    return withKafkaAdmin(b.kafka.bootstrap, async (admin) => {
      const { groups } = await admin.describeGroups([groupId]);
      return groups[0]?.state === "Stable" ? groups[0].members.length : 0;
    });
  }

  /** `perPartition` records into each partition, in partition order. */
  function produce(topic: string, partitions: number, perPartition: number): Promise<void> {
    return kcatProduce(b.kafka.bootstrap, topic, Array.from({ length: partitions * perPartition }, (_, i) => ({ value: `m${i}`, partition: Math.floor(i / perPartition) })));
  }

  it("commits the offsets of batches still running when disconnect() is called, on every partition", async () => {
    const topic = uniqueName("drain");
    const group = uniqueName("drain-g");
    const partitions = 3;
    await b.kafka.createTopic(topic, partitions);
    const port = consumerPort(group, partitions);
    const consumer = port.consumer(group, topic);
    try {
      const perPartition = 4;
      await produce(topic, partitions, perPartition);

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

  it("commits before a rebalance, so a member joining the group does not deliver again what was delivered", async function () {
    this.timeout(90_000);
    const topic = uniqueName("rebal");
    const group = uniqueName("rebal-g");
    const partitions = 2;
    const perPartition = 5;
    await b.kafka.createTopic(topic, partitions);
    await produce(topic, partitions, perPartition);
    const portA = consumerPort(group, partitions);
    const portB = consumerPort(group, partitions);
    const a = portA.consumer(group, topic);
    const bConsumer = portB.consumer(group, topic);
    try {
      // A takes both partitions and delivers everything; the commit timer never fires in this test.
      const deliveredByA = new Set<string>();
      let aDeliveries = 0;
      await a.connect();
      await a.run(async (batch) => {
        for (const r of batch.records) deliveredByA.add(`${batch.partition}:${r.offset}`);
        aDeliveries += batch.records.length;
        batch.resolveOffset(batch.records[batch.records.length - 1]!.offset);
      });
      await waitFor("A delivered everything", () => deliveredByA.size === partitions * perPartition, 30_000);
      assert.deepEqual(await committed(group, topic), new Map([[0, -1], [1, -1]]), "nothing is committed yet");

      const seenByB: string[] = [];
      await bConsumer.connect();
      await bConsumer.run(async (batch) => {
        seenByB.push(...batch.records.map((r) => `${batch.partition}:${r.offset}`));
        batch.resolveOffset(batch.records[batch.records.length - 1]!.offset);
      });
      await waitFor("both members in the group", () => groupSize(group).then((n) => n === 2), 60_000);
      assert.deepEqual(await committed(group, topic), new Map([[0, perPartition], [1, perPartition]]), "A committed before it rejoined");
      await new Promise((r) => setTimeout(r, 2000)); // room for either member to fetch what it should not
      assert.deepEqual(seenByB, [], "B starts from A's committed offsets");
      assert.equal(aDeliveries, partitions * perPartition, "A, which kept a partition, did not fetch it again either");
    } finally {
      await portA.close();
      await portB.close();
    }
  });
});
