// Scenario 5: SIGTERM to the connector under load in both directions. The
// drain must complete (exit code 0): intake stops, accepted MQTT messages are
// sent to Kafka and PUBACKed, published Kafka records are PUBACKed and their
// offsets committed. A replacement with the same identity then takes the rest
// of the stream. Nothing may be lost and — since nothing crashed — nothing
// may arrive twice.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { ensureRunning, faultBrokers, type FaultBrokers } from "./support/brokers";
import { ConnectorProcess, note, writeConfig } from "./support/connector-process";
import { progress, scenarioDir, Scope, ticker, waitUntil } from "./support/env";
import { createTopics, makeTopology, TopicEndWatch, topologyYaml } from "./support/scenario";
import { awaitKafkaDelivery, awaitMqttDelivery, kafkaAdmin, KafkaLoad, MqttCollector, MqttLoad, printSummary, SeqTally } from "./support/streams";

const N = 10_000;
const RATE = 500;
const DRAIN_TIMEOUT_S = 30;

describe("fault scenario 5: SIGTERM under load, both directions", function () {
  this.timeout(240_000);
  const scope = new Scope();
  let b: FaultBrokers;

  before(async () => {
    b = await faultBrokers();
    await ensureRunning(b);
  });
  after(() => scope.dispose());

  it("drains with exit code 0; nothing lost, nothing duplicated", async () => {
    const topo = makeTopology(5, { m2k: true, k2m: true });
    const m2k = topo.m2k!;
    const k2m = topo.k2m!;
    await createTopics(b, topo);
    const dir = scenarioDir("5-sigterm-drain");
    const configDir = writeConfig(dir, topologyYaml(b, topo));
    const logFile = join(dir, "connector.log");
    const admin = kafkaAdmin(b.kafka.bootstrap);
    await admin.connect();
    scope.add(() => admin.disconnect());

    const k2mTally = new SeqTally("s5k", N, (seq) => seq % k2m.partitions); // lane: the source partition
    const collector = new MqttCollector({ url: b.mqtt.url, filter: k2m.mqttTopic, clientId: `${topo.id}-far-end`, onMessage: (_t, p) => k2mTally.offer(p) });
    await collector.start();
    scope.add(() => collector.stop());

    const first = await ConnectorProcess.start({ configDir, logFile, instance: 0, label: "connector #1", drainTimeoutS: DRAIN_TIMEOUT_S });
    scope.add(() => first.kill());
    await first.waitReady(60_000);
    note(first, "ready");

    const mLoad = new MqttLoad({ url: b.mqtt.url, topic: m2k.mqttTopic, tag: "s5m", count: N, ratePerSec: RATE, clientId: `${topo.id}-load` });
    const kLoad = new KafkaLoad({ bootstrap: b.kafka.bootstrap, topic: k2m.kafkaTopic, partitions: k2m.partitions, tag: "s5k", count: N, ratePerSec: RATE });
    const inKafka = new TopicEndWatch(admin, m2k.kafkaTopic);
    scope.add(() => inKafka.stop());
    await Promise.all([mLoad.start(), kLoad.start()]);
    scope.add(() => mLoad.stop());
    scope.add(() => kLoad.stop());
    const stopTicker = ticker(5_000, () => `s5: mqtt→kafka ${mLoad.describe()}, in Kafka ${inKafka.value} | kafka→mqtt ${kLoad.describe()}, received ${k2mTally.total}`);
    scope.add(stopTicker);

    await waitUntil("40% of the stream through, both ways", () => inKafka.value >= 0.4 * N && k2mTally.total >= 0.4 * N, 60_000);
    note(first, `SIGTERM under load (mqtt→kafka in Kafka ${inKafka.value}, kafka→mqtt received ${k2mTally.total})`);
    const t = Date.now();
    const exit = await first.terminate((DRAIN_TIMEOUT_S + 15) * 1000);
    note(first, `exited with code ${exit.code} ${Date.now() - t} ms after the SIGTERM; ${first.statsSummary()}`);

    const second = await ConnectorProcess.start({ configDir, logFile, instance: 0, label: "connector #2", drainTimeoutS: DRAIN_TIMEOUT_S });
    scope.add(() => second.kill());
    await second.waitReady(60_000);
    note(second, `ready ${((Date.now() - t) / 1000).toFixed(1)} s after the SIGTERM`);

    await waitUntil("both load generators to finish", () => mLoad.acked >= N && kLoad.produced >= N, 120_000, 250);
    progress(`s5: streams sent (${mLoad.describe()}; ${kLoad.describe()}); waiting for delivery`);
    const [m2kTally] = await Promise.all([
      awaitKafkaDelivery({ bootstrap: b.kafka.bootstrap, admin, topic: m2k.kafkaTopic, tag: "s5m", expected: N, timeoutMs: 120_000 }),
      awaitMqttDelivery({ tally: k2mTally, collector, timeoutMs: 120_000 }),
    ]);
    stopTicker();
    const exit2 = await second.terminate();
    note(second, `SIGTERM: exit ${exit2.code}; ${second.statsSummary()}`);

    printSummary(5, [
      { label: "mqtt->kafka", sent: N, tally: m2kTally },
      { label: "kafka->mqtt", sent: N, tally: k2mTally },
    ]);
    assert.equal(exit.signal, null, "the first connector exited by itself, not by our SIGKILL fallback");
    assert.equal(exit.code, 0, `drain under load: exit code ${exit.code} (1 = drain timed out)`);
    assert.equal(m2kTally.lost, 0, `mqtt->kafka lost ${m2kTally.lost}: ${m2kTally.missing()}`);
    assert.equal(k2mTally.lost, 0, `kafka->mqtt lost ${k2mTally.lost}: ${k2mTally.missing()}`);
    assert.equal(mLoad.errors + kLoad.errors, 0, "the sources never retried, so any duplicate is the connector's");
    assert.equal(m2kTally.duplicates, 0, `mqtt->kafka duplicates: ${m2kTally.duplicated()}`);
    assert.equal(k2mTally.duplicates, 0, `kafka->mqtt duplicates: ${k2mTally.duplicated()}`);
    assert.equal(exit2.code, 0, "the replacement drained too");
  });
});
