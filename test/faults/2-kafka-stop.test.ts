// Scenario 2: the Kafka broker is stopped for 10 s mid-stream and started
// again, with traffic in both directions. The connector process keeps running:
// MQTT→Kafka must hold its PUBACKs and retry, Kafka→MQTT must resume its
// consumer group, all by itself.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { ensureRunning, faultBrokers, type FaultBrokers } from "./support/brokers";
import { ConnectorProcess, note, writeConfig } from "./support/connector-process";
import { progress, scenarioDir, Scope, secondsUntilGrowth, sleep, ticker, waitUntil } from "./support/env";
import { createTopics, makeTopology, TopicEndWatch, topologyYaml } from "./support/scenario";
import { awaitKafkaDelivery, awaitMqttDelivery, kafkaAdmin, KafkaLoad, MqttCollector, MqttLoad, printSummary, SeqTally } from "./support/streams";

const N = 10_000;
const RATE = 400;
const OUTAGE_MS = 10_000;

describe("fault scenario 2: Kafka stopped for 10 s mid-stream, both directions", function () {
  this.timeout(240_000);
  const scope = new Scope();
  let b: FaultBrokers;

  before(async () => {
    b = await faultBrokers();
    await ensureRunning(b);
  });
  after(async () => {
    await scope.dispose();
    await ensureRunning(b);
  });

  it("resumes by itself and delivers every message", async () => {
    const topo = makeTopology(2, { m2k: true, k2m: true });
    const m2k = topo.m2k!;
    const k2m = topo.k2m!;
    await createTopics(b, topo);
    const dir = scenarioDir("2-kafka-stop");
    const configDir = writeConfig(dir, topologyYaml(b, topo));
    const admin = kafkaAdmin(b.kafka.bootstrap);
    await admin.connect();
    scope.add(() => admin.disconnect());

    const k2mTally = new SeqTally("s2k", N, (seq) => seq % k2m.partitions); // lane: the source partition
    const collector = new MqttCollector({ url: b.mqtt.url, filter: k2m.mqttTopic, clientId: `${topo.id}-far-end`, onMessage: (_t, p) => k2mTally.offer(p) });
    await collector.start();
    scope.add(() => collector.stop());

    const proc = await ConnectorProcess.start({ configDir, logFile: join(dir, "connector.log"), instance: 0, label: "connector" });
    scope.add(() => proc.kill());
    await proc.waitReady(60_000);
    note(proc, "ready");

    const mLoad = new MqttLoad({ url: b.mqtt.url, topic: m2k.mqttTopic, tag: "s2m", count: N, ratePerSec: RATE, clientId: `${topo.id}-load` });
    const kLoad = new KafkaLoad({ bootstrap: b.kafka.bootstrap, topic: k2m.kafkaTopic, partitions: k2m.partitions, tag: "s2k", count: N, ratePerSec: RATE });
    const inKafka = new TopicEndWatch(admin, m2k.kafkaTopic);
    scope.add(() => inKafka.stop());
    await Promise.all([mLoad.start(), kLoad.start()]);
    scope.add(() => mLoad.stop());
    scope.add(() => kLoad.stop());
    const stopTicker = ticker(5_000, () => `s2: mqtt→kafka ${mLoad.describe()}, in Kafka ${inKafka.value} | kafka→mqtt ${kLoad.describe()}, received ${k2mTally.total} | kafka ${b.kafka.running ? "up" : "DOWN"}`);
    scope.add(stopTicker);

    await waitUntil("a quarter of the stream through, both ways", () => inKafka.value >= N / 4 && k2mTally.total >= N / 4, 60_000);
    progress(`s2: stopping Kafka (mqtt→kafka in Kafka ${inKafka.value}, kafka→mqtt received ${k2mTally.total})`);
    let t = Date.now();
    await b.kafka.stop();
    progress(`s2: Kafka stopped (took ${((Date.now() - t) / 1000).toFixed(1)} s); down for ${OUTAGE_MS / 1000} s`);
    await sleep(OUTAGE_MS);
    t = Date.now();
    await b.kafka.start();
    progress(`s2: Kafka started again (took ${((Date.now() - t) / 1000).toFixed(1)} s)`);
    // How long each direction takes to move again once Kafka answers (reported, not asserted).
    const resumed = Promise.all([secondsUntilGrowth(() => inKafka.value, 90_000), secondsUntilGrowth(() => k2mTally.total, 90_000)]);
    assert.ok(proc.running, "the connector survived the outage");

    const [m2kResume, k2mResume] = await resumed;
    const fmt = (x: number | undefined) => (x === undefined ? "not within 90 s" : `${x.toFixed(1)} s`);
    progress(`s2: after Kafka was back, mqtt→kafka moved again after ${fmt(m2kResume)}, kafka→mqtt after ${fmt(k2mResume)}`);
    await waitUntil("both load generators to finish", () => mLoad.acked >= N && kLoad.produced >= N, 120_000, 250);
    progress(`s2: streams sent (${mLoad.describe()}; ${kLoad.describe()}); waiting for delivery`);
    const [m2kTally] = await Promise.all([
      awaitKafkaDelivery({ bootstrap: b.kafka.bootstrap, admin, topic: m2k.kafkaTopic, tag: "s2m", expected: N, timeoutMs: 120_000 }),
      awaitMqttDelivery({ tally: k2mTally, collector, timeoutMs: 120_000 }),
    ]);
    stopTicker();
    const exit = await proc.terminate();
    note(proc, `SIGTERM: exit ${exit.code}; ${proc.statsSummary()}`);

    printSummary(2, [
      { label: "mqtt->kafka", sent: N, tally: m2kTally },
      { label: "kafka->mqtt", sent: N, tally: k2mTally },
    ]);
    if (kLoad.errors) progress(`s2: the Kafka-side load generator retried ${kLoad.errors} sends during the outage (a retried batch can land twice at the source)`);
    assert.equal(m2kTally.lost, 0, `mqtt->kafka lost ${m2kTally.lost}: ${m2kTally.missing()}`);
    assert.equal(k2mTally.lost, 0, `kafka->mqtt lost ${k2mTally.lost}: ${k2mTally.missing()}`);
  });
});
