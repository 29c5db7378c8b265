// Scenario 3: Mosquitto (persistence on) is restarted mid-stream, with traffic
// in both directions. Every MQTT client — the connector's subscription and
// publisher, the load generator, the far-end subscriber — has a persistent
// session, so what the broker had queued survives the restart; the connector
// reconnects by itself and neither loses PUBACK-owed MQTT messages nor commits
// Kafka offsets of publishes that were never acknowledged.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { ensureRunning, faultBrokers, type FaultBrokers } from "./support/brokers";
import { ConnectorProcess, note, writeConfig } from "./support/connector-process";
import { progress, scenarioDir, Scope, secondsUntilGrowth, ticker, waitUntil } from "./support/env";
import { createTopics, makeTopology, TopicEndWatch, topologyYaml } from "./support/scenario";
import { awaitKafkaDelivery, awaitMqttDelivery, kafkaAdmin, KafkaLoad, MqttCollector, MqttLoad, printSummary, SeqTally } from "./support/streams";

const N = 10_000;
const RATE = 400;

describe("fault scenario 3: Mosquitto restarted mid-stream (persistence on), both directions", function () {
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

  it("reconnects by itself and delivers every message", async () => {
    const topo = makeTopology(3, { m2k: true, k2m: true });
    const m2k = topo.m2k!;
    const k2m = topo.k2m!;
    await createTopics(b, topo);
    const dir = scenarioDir("3-mosquitto-restart");
    const configDir = writeConfig(dir, topologyYaml(b, topo));
    const admin = kafkaAdmin(b.kafka.bootstrap);
    await admin.connect();
    scope.add(() => admin.disconnect());

    const k2mTally = new SeqTally("s3k", N, (seq) => seq % k2m.partitions); // lane: the source partition
    const collector = new MqttCollector({ url: b.mqtt.url, filter: k2m.mqttTopic, clientId: `${topo.id}-far-end`, onMessage: (_t, p) => k2mTally.offer(p) });
    await collector.start();
    scope.add(() => collector.stop());

    const proc = await ConnectorProcess.start({ configDir, logFile: join(dir, "connector.log"), instance: 0, label: "connector" });
    scope.add(() => proc.kill());
    await proc.waitReady(60_000);
    note(proc, "ready");

    const mLoad = new MqttLoad({ url: b.mqtt.url, topic: m2k.mqttTopic, tag: "s3m", count: N, ratePerSec: RATE, clientId: `${topo.id}-load` });
    const kLoad = new KafkaLoad({ bootstrap: b.kafka.bootstrap, topic: k2m.kafkaTopic, partitions: k2m.partitions, tag: "s3k", count: N, ratePerSec: RATE });
    const inKafka = new TopicEndWatch(admin, m2k.kafkaTopic);
    scope.add(() => inKafka.stop());
    await Promise.all([mLoad.start(), kLoad.start()]);
    scope.add(() => mLoad.stop());
    scope.add(() => kLoad.stop());
    const stopTicker = ticker(5_000, () => `s3: mqtt→kafka ${mLoad.describe()}, in Kafka ${inKafka.value} | kafka→mqtt ${kLoad.describe()}, received ${k2mTally.total} | mosquitto ${b.mqtt.running ? "up" : "DOWN"}`);
    scope.add(stopTicker);

    await waitUntil("a third of the stream through, both ways", () => inKafka.value >= N / 3 && k2mTally.total >= N / 3, 60_000);
    progress(`s3: restarting Mosquitto (mqtt→kafka in Kafka ${inKafka.value}, kafka→mqtt received ${k2mTally.total})`);
    const t = Date.now();
    await b.mqtt.stop(); // SIGTERM: mosquitto writes its persistence file on the way out
    await b.mqtt.start();
    progress(`s3: Mosquitto back after ${((Date.now() - t) / 1000).toFixed(1)} s`);
    // How long each direction takes to move again (reported, not asserted; Kafka's end is polled every 0.5 s).
    const resumed = Promise.all([secondsUntilGrowth(() => inKafka.value, 90_000), secondsUntilGrowth(() => k2mTally.total, 90_000)]);
    await waitUntil("the connector to be ready again", async () => (await fetch(`http://127.0.0.1:${proc.httpPort}/readyz`).catch(() => undefined))?.status === 200, 60_000, 200);
    note(proc, `ready again ${((Date.now() - t) / 1000).toFixed(1)} s after the restart began`);

    const [m2kResume, k2mResume] = await resumed;
    const fmt = (x: number | undefined) => (x === undefined ? "not within 90 s" : `${x.toFixed(1)} s`);
    progress(`s3: after Mosquitto was back, mqtt→kafka moved again after ${fmt(m2kResume)}, kafka→mqtt after ${fmt(k2mResume)}`);
    await waitUntil("both load generators to finish", () => mLoad.acked >= N && kLoad.produced >= N, 120_000, 250);
    progress(`s3: streams sent (${mLoad.describe()}; ${kLoad.describe()}); waiting for delivery`);
    const [m2kTally] = await Promise.all([
      awaitKafkaDelivery({ bootstrap: b.kafka.bootstrap, admin, topic: m2k.kafkaTopic, tag: "s3m", expected: N, timeoutMs: 120_000 }),
      awaitMqttDelivery({ tally: k2mTally, collector, timeoutMs: 120_000 }),
    ]);
    stopTicker();
    const exit = await proc.terminate();
    note(proc, `SIGTERM: exit ${exit.code}; ${proc.statsSummary()}`);

    printSummary(3, [
      { label: "mqtt->kafka", sent: N, tally: m2kTally },
      { label: "kafka->mqtt", sent: N, tally: k2mTally },
    ]);
    if (mLoad.errors) progress(`s3: the MQTT load generator re-published ${mLoad.errors} messages (${mLoad.lastError})`);
    assert.equal(m2kTally.lost, 0, `mqtt->kafka lost ${m2kTally.lost}: ${m2kTally.missing()}`);
    assert.equal(k2mTally.lost, 0, `kafka->mqtt lost ${k2mTally.lost}: ${k2mTally.missing()}`);
  });
});
