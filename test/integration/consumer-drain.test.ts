// The Kafka consumer port on a real Kafka: batches are handed off before they are delivered, so the
// commits on the drain, after a failed delivery and before a rebalance are what keep a clean
// SIGTERM or a group change from losing or repeating messages. The first test caught that kafkajs'
// consumer.commitOffsets silently does nothing once stop() has begun.
import { strict as assert } from "node:assert";
import { Writable } from "node:stream";
import { Kafka, logLevel } from "kafkajs";
import pino from "pino";
import { KafkaJsPort } from "../../connector/ports/kafka-port";
import { createLogger } from "../../connector/logger";
import type { ConsumerBatch } from "../../connector/ports/types";
import { kcatProduce, sharedBrokers, uniqueName, type SharedBrokers } from "../helpers/brokers";
import { waitFor } from "../helpers/connector";

describe("Kafka consumer port: hand-off, drain, rewind, rebalance (real Kafka)", function () {
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

  function consumerPort(group: string, partitionsConsumedConcurrently = 3, log = createLogger((process.env.TEST_LOG_LEVEL as "fatal" | undefined) ?? "fatal")): KafkaJsPort {
    return new KafkaJsPort(
      {
        brokers: [b.kafka.bootstrap],
        clientId: group,
        eventHubs: false,
        offsetReset: "earliest",
        // Far longer than the tests: only the drain, a rewind or a rebalance can commit.
        commitIntervalMs: 600_000,
        partitionsConsumedConcurrently,
        sessionTimeoutMs: 10_000,
      },
      log,
    );
  }

  async function produce(topic: string, partitions: number, perPartition: number): Promise<void> {
    const records = Array.from({ length: partitions * perPartition }, (_, i) => ({ value: `m${i}`, partition: Math.floor(i / perPartition) }));
    await kcatProduce(b.kafka.bootstrap, topic, records);
  }

  const everyPartition = (partitions: number, offset: number) => new Map(Array.from({ length: partitions }, (_, p) => [p, offset] as [number, number]));

  it("on disconnect() waits for running batches and handed-off deliveries, then commits every partition", async () => {
    const topic = uniqueName("drain");
    const group = uniqueName("drain-g");
    const partitions = 3;
    const perPartition = 4;
    await b.kafka.createTopic(topic, partitions);
    await produce(topic, partitions, perPartition);
    const port = consumerPort(group);
    const consumer = port.consumer(group, topic);
    try {
      // Partition 0's batch is still in the handler at SIGTERM; the others are handed off with their
      // PUBACKs outstanding. Both must be committed before the group is left.
      const seen: ConsumerBatch[] = [];
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      await consumer.connect();
      await consumer.run(async (batch) => {
        seen.push(batch);
        const first = batch.records[0]!.offset;
        const last = batch.records[batch.records.length - 1]!.offset;
        if (batch.partition === 0) await released;
        batch.handOff(first, last, released);
      });
      await waitFor("a batch from every partition", () => new Set(seen.map((h) => h.partition)).size === partitions, 30_000);
      assert.deepEqual(await committed(group, topic), everyPartition(partitions, -1), "nothing is committed before the drain");

      let done = false;
      const drained = consumer.disconnect().then(() => (done = true));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(done, false, "disconnect() waits for the outstanding deliveries");
      assert.ok(seen.every((h) => !h.isActive()), "the running batch sees the consumer stopping");
      release();
      await drained;
      assert.deepEqual(await committed(group, topic), everyPartition(partitions, perPartition), "each partition's next offset is committed");
    } finally {
      await port.close();
    }
  });

  it("fetches a partition again from the first offset of a failed delivery, and commits only what was delivered", async () => {
    const topic = uniqueName("rewind");
    const group = uniqueName("rewind-g");
    await b.kafka.createTopic(topic, 1);
    await produce(topic, 1, 5);
    const port = consumerPort(group, 1);
    const consumer = port.consumer(group, topic);
    try {
      const batches: string[][] = [];
      let failed = -1;
      await consumer.connect();
      await consumer.run(async (batch) => {
        const offsets = batch.records.map((r) => r.offset);
        batches.push(offsets);
        // The first delivery of offset 2 fails (the MQTT connection went away, say).
        const fail = failed < 0 && offsets.includes("2");
        if (fail) failed = batches.length - 1;
        batch.handOff(offsets[0]!, offsets[offsets.length - 1]!, fail ? Promise.reject(new Error("PUBACK never came")) : Promise.resolve());
      });
      await waitFor("offset 4 fetched again after the rewind", () => batches.flat().filter((o) => o === "4").length >= 2, 30_000);
      await consumer.disconnect();
      assert.ok(failed >= 0);
      const from = Number(batches[failed]![0]);
      const later = batches.slice(failed + 1).map((o) => Number(o[0]));
      assert.ok(later.includes(from), `a later batch starts at the failed batch's first offset ${from}: ${JSON.stringify(batches)}`);
      assert.ok(later.every((o) => o >= from), `nothing before offset ${from} is fetched again: ${JSON.stringify(batches)}`);
      assert.deepEqual(await committed(group, topic), new Map([[0, 5]]), "committed up to the end once delivered");
    } finally {
      await port.close();
    }
  });

  it("before a rebalance, waits for handed-off deliveries and commits them, so the partition's next owner does not repeat them", async function () {
    this.timeout(90_000);
    const topic = uniqueName("rebal");
    const group = uniqueName("rebal-g");
    const partitions = 2;
    const perPartition = 5;
    await b.kafka.createTopic(topic, partitions);
    await produce(topic, partitions, perPartition);
    // A's log says when its rejoin hook starts waiting; only then do A's PUBACKs "arrive".
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const logA: { msg: string; why?: string; batches?: number }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split("\n").filter(Boolean)) {
          const entry = JSON.parse(line) as { msg: string; why?: string; batches?: number };
          logA.push(entry);
          if (entry.msg === "waiting for outstanding deliveries" && entry.why === "rebalance") setTimeout(release, 500);
        }
        done();
      },
    });
    const portA = consumerPort(group, 3, pino({ level: "debug" }, sink));
    const portB = consumerPort(group);
    const a = portA.consumer(group, topic);
    const bConsumer = portB.consumer(group, topic);
    try {
      // A takes both partitions and hands everything off, with the deliveries still outstanding.
      const handedOff = new Set<number>();
      await a.connect();
      await a.run(async (batch) => {
        batch.handOff(batch.records[0]!.offset, batch.records[batch.records.length - 1]!.offset, released);
        if (batch.records.some((r) => r.offset === String(perPartition - 1))) handedOff.add(batch.partition);
      });
      await waitFor("A handed off both partitions", () => handedOff.size === partitions, 30_000);

      const seenByB: string[] = [];
      await bConsumer.connect();
      await bConsumer.run(async (batch) => {
        seenByB.push(...batch.records.map((r) => `${batch.partition}:${r.offset}`));
        batch.handOff(batch.records[0]!.offset, batch.records[batch.records.length - 1]!.offset, Promise.resolve());
      });
      await waitFor("both members in the group", () => groupSize(group).then((n) => n === 2), 30_000);
      assert.deepEqual(await committed(group, topic), everyPartition(partitions, perPartition), "A committed its deliveries before it rejoined");
      assert.ok(
        logA.some((e) => e.msg === "outstanding deliveries settled" && e.why === "rebalance" && (e.batches ?? 0) >= 1),
        "A's rejoin waited for its outstanding deliveries",
      );
      await new Promise((r) => setTimeout(r, 2000)); // room for B to fetch what it should not
      assert.deepEqual(seenByB, [], "B starts from A's committed offsets");
    } finally {
      await portA.close();
      await portB.close();
    }
  });

  async function groupSize(groupId: string): Promise<number> {
    const admin = new Kafka({ brokers: [b.kafka.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([groupId]);
      return groups[0]?.state === "Stable" ? groups[0].members.length : 0;
    } finally {
      await admin.disconnect();
    }
  }
});
