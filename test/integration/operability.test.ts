import { strict as assert } from "node:assert";
import { writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import { sharedBrokersFixture, uniqueName, kcatConsume, kcatProduce, mosquittoSub } from "../helpers/brokers";
import { plainConnections, testConfig, writeConfigDir, type MapSpec, type MqttToKafkaSpec } from "../helpers/config";
import { ConnectorProcess, processFixture } from "../helpers/connector-process";
import { waitFor } from "../helpers/wait";

/** Value of one sample in Prometheus text format, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && line.split(" ")[0] !== name) continue;
    const m = /^([^{\s]+)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe("operability: metrics, readiness, hot reload (connector process, real brokers)", function () {
  const b = sharedBrokersFixture();
  processFixture();

  /** KafkaConnector "ops" (logLevel info) with the topic map "ops-map". */
  const opsConfig = (map: MapSpec) =>
    testConfig({ name: "ops", connector: { ...plainConnections(b.kafka.bootstrap, b.mqtt.url), logLevel: "info" }, maps: [{ spec: map }] });
  /** The topic map as `map.yaml`, replaced atomically, as Kubernetes does, so the watcher never reads half a file. */
  function writeMap(dir: string, map: MapSpec): void {
    const tmp = join(dir, ".map.tmp");
    writeFileSync(tmp, opsConfig(map).mapYamls[0]!);
    renameSync(tmp, join(dir, "map.yaml"));
  }

  /** The connector process on `connector.yaml` and `map.yaml` in a new directory, once ready. */
  async function launch(map: MapSpec): Promise<{ dir: string; proc: ConnectorProcess }> {
    const dir = writeConfigDir({ "connector.yaml": opsConfig(map).connectorYaml });
    writeMap(dir, map);
    const proc = await ConnectorProcess.serve({ config: dir });
    await proc.waitReady(30_000);
    return { dir, proc };
  }

  it("counters, histograms, lag and readiness move with real traffic", async () => {
    const inTopic = uniqueName("ops-in");
    const outTopic = uniqueName("ops-out");
    const mIn = uniqueName("ops");
    const mOut = uniqueName("ops-cmd");
    await b.kafka.createTopic(inTopic, 2);
    await b.kafka.createTopic(outTopic, 1);
    const { proc } = await launch({
      routes: [{ mqttToKafka: { name: "in", mqttTopic: mIn, kafkaTopic: inTopic } }, { kafkaToMqtt: { name: "out", kafkaTopic: outTopic, mqttTopic: mOut } }],
    });

    const ready = (await (await fetch(proc.url("/readyz"))).json()) as { ready: boolean; routes: Record<string, { connected: boolean }> };
    assert.equal(ready.ready, true);
    assert.deepEqual(Object.keys(ready.routes).sort(), ["ops-map/in", "ops-map/out"]);
    const health = await fetch(proc.url("/healthz"));
    assert.equal(health.status, 200);

    const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => client.publishAsync(mIn, `payload-${String(i).padStart(2, "0")}`, { qos: 1 })));
    await client.endAsync();
    await kcatConsume(b.kafka.bootstrap, inTopic, { count: 30, timeoutMs: 10_000 });
    const sub = mosquittoSub(b.mqtt.url, mOut, { count: 10, timeoutMs: 15_000 });
    await sub.ready;
    await kcatProduce(b.kafka.bootstrap, outTopic, Array.from({ length: 10 }, (_, i) => ({ value: `cmd-${i}` })));
    await sub.done;

    let text = "";
    await waitFor("kafkaToMqtt counters", async () => {
      text = await (await fetch(proc.url("/metrics"))).text();
      return sample(text, "mqtt_kafka_connector_messages_delivered_total", { route: "out", direction: "kafkaToMqtt" }) === 10;
    }, 10_000);
    const m2k = { route: "in", direction: "mqttToKafka" };
    assert.equal(sample(text, "mqtt_kafka_connector_messages_received_total", m2k), 30);
    assert.equal(sample(text, "mqtt_kafka_connector_messages_delivered_total", m2k), 30);
    assert.equal(sample(text, "mqtt_kafka_connector_received_bytes_total", m2k), 30 * "payload-00".length);
    assert.equal(sample(text, "mqtt_kafka_connector_delivery_latency_seconds_count", m2k), 30);
    assert.ok(sample(text, "mqtt_kafka_connector_kafka_batch_messages_count", { route: "in" })! >= 1);
    assert.equal(sample(text, "mqtt_kafka_connector_kafka_batch_messages_sum", { route: "in" }), 30);
    assert.equal(sample(text, "mqtt_kafka_connector_messages_received_total", { route: "out", direction: "kafkaToMqtt" }), 10);
    assert.equal(sample(text, "mqtt_kafka_connector_consumer_lag_messages", { route: "out", topic: outTopic, partition: "0" }), 0);
    assert.equal(sample(text, "mqtt_kafka_connector_messages_in_flight", m2k), 0);
    assert.equal(sample(text, "mqtt_kafka_connector_ready", {}), 1);
    assert.ok(sample(text, "mqtt_kafka_connector_process_resident_memory_bytes", {})! > 0);
  });

  it("hot reload under traffic: a changed route and a new route, zero loss; a bad config is rejected and the old one keeps running", async function () {
    this.timeout(120_000);
    const topicA = uniqueName("reload-a");
    const topicB = uniqueName("reload-b");
    const mA = uniqueName("ra");
    const mB = uniqueName("rb");
    await b.kafka.createTopic(topicA, 1);
    await b.kafka.createTopic(topicB, 1);
    const routeA = { mqttToKafka: { name: "a", mqttTopic: mA, kafkaTopic: topicA } };
    const routeB = (more: Partial<MqttToKafkaSpec> = {}) => ({ mqttToKafka: { name: "b", mqttTopic: mB, kafkaTopic: topicB, ...more } });
    const { dir, proc } = await launch({ routes: [routeA] });
    const out = () => proc.stdout();

    // Steady QoS 1 stream on route a while the map changes underneath it.
    const total = 1500;
    const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    let sent = 0;
    const stream = (async () => {
      while (sent < total) {
        await Promise.all(Array.from({ length: 15 }, () => client.publishAsync(mA, `n${sent++}`, { qos: 1 })));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await waitFor("a third of the stream", () => sent > total / 3, 30_000);
    writeMap(dir, { batching: { enabled: true, latencyMs: 20 }, routes: [routeA, routeB()] });
    await waitFor("reload applied", () => out().includes("topic maps reloaded"), 20_000);
    const reloadLine = JSON.parse(out().split("\n").find((l) => l.includes("topic maps reloaded"))!) as { added: string[]; changed: string[] };
    assert.deepEqual(reloadLine.added, ["ops-map/b"]);
    assert.deepEqual(reloadLine.changed, ["ops-map/a"], "batching is map-wide, so route a restarts on the same session");

    // qos 7 is invalid on purpose, past the types: the reload must reject it.
    writeMap(dir, { routes: [routeA, routeB({ qos: 7 as never })] });
    await waitFor("rejection logged", () => out().includes("new configuration rejected"), 20_000);
    assert.match(out(), /spec\.routes\[1\]\.mqttToKafka\.qos: got 7; allowed: 0, 1/);
    await stream;
    await client.endAsync();

    const recs = await kcatConsume(b.kafka.bootstrap, topicA, { count: total, timeoutMs: 30_000, allowFewer: true });
    const got = new Set(recs.map((r) => r.value));
    const lost = Array.from({ length: total }, (_, i) => `n${i}`).filter((v) => !got.has(v));
    assert.deepEqual(lost, [], `lost ${lost.length} of ${total}`);

    const c2 = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    await c2.publishAsync(mB, "on-new-route", { qos: 1 });
    await c2.endAsync();
    assert.equal((await kcatConsume(b.kafka.bootstrap, topicB, { count: 1, timeoutMs: 10_000 }))[0]!.value, "on-new-route");
    const text = await (await fetch(proc.url("/metrics"))).text();
    assert.equal(sample(text, "mqtt_kafka_connector_config_reloads_total", { result: "applied" }), 1);
    assert.equal(sample(text, "mqtt_kafka_connector_config_reloads_total", { result: "rejected" }), 1);
  });
});
