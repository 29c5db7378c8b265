import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { sharedBrokers, uniqueName, kcatConsume, kcatProduce, mosquittoSub, type SharedBrokers } from "../helpers/brokers";
import { waitFor } from "../helpers/connector";
import { freePort } from "../../scripts/local-brokers";

const CLI = join(__dirname, "..", "..", "connector", "cli.js");

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
  let b: SharedBrokers;
  let child: ChildProcess | undefined;
  let out = "";
  before(async () => {
    b = await sharedBrokers();
  });
  afterEach(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    child = undefined;
  });

  function connectorDoc(): string {
    const port = new URL(b.mqtt.url).port;
    return `apiVersion: mq.iotoperations.azure.com/v1beta1
kind: KafkaConnector
metadata: {name: ops}
spec:
  image: {}
  instances: 1
  logLevel: info
  kafkaConnection: {endpoint: "${b.kafka.bootstrap}", tls: {tlsEnabled: false}}
  localBrokerConnection: {endpoint: "127.0.0.1:${port}", tls: {tlsEnabled: false}}
`;
  }
  const mapDoc = (routes: string, extra = "") => `apiVersion: mq.iotoperations.azure.com/v1beta1
kind: KafkaConnectorTopicMap
metadata: {name: ops-map}
spec:
  kafkaConnectorRef: ops
${extra}  routes:
${routes}
`;
  /** Replace atomically, as Kubernetes does, so the watcher never reads half a file. */
  function writeMap(dir: string, text: string): void {
    const tmp = join(dir, ".map.tmp");
    writeFileSync(tmp, text);
    renameSync(tmp, join(dir, "map.yaml"));
  }

  async function launch(dir: string): Promise<number> {
    const httpPort = await freePort();
    out = "";
    child = spawn(process.execPath, [CLI, "--config", dir, "--http-port", String(httpPort)], { stdio: ["ignore", "pipe", "inherit"] });
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    await waitFor("readiness", async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined))?.status === 200, 30_000);
    return httpPort;
  }

  it("counters, histograms, lag and readiness move with real traffic", async () => {
    const inTopic = uniqueName("ops-in");
    const outTopic = uniqueName("ops-out");
    const mIn = uniqueName("ops");
    const mOut = uniqueName("ops-cmd");
    await b.kafka.createTopic(inTopic, 2);
    await b.kafka.createTopic(outTopic, 1);
    const dir = mkdtempSync(join(tmpdir(), "mkc-ops-"));
    writeFileSync(join(dir, "connector.yaml"), connectorDoc());
    writeMap(dir, mapDoc(`    - mqttToKafka: {name: in, mqttTopic: "${mIn}", kafkaTopic: ${inTopic}}\n    - kafkaToMqtt: {name: out, kafkaTopic: ${outTopic}, mqttTopic: "${mOut}"}`));
    const port = await launch(dir);

    const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { ready: boolean; routes: Record<string, { connected: boolean }> };
    assert.equal(ready.ready, true);
    assert.deepEqual(Object.keys(ready.routes).sort(), ["ops-map/in", "ops-map/out"]);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
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
      text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
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
    const dir = mkdtempSync(join(tmpdir(), "mkc-reload-"));
    writeFileSync(join(dir, "connector.yaml"), connectorDoc());
    const routeA = `    - mqttToKafka: {name: a, mqttTopic: "${mA}", kafkaTopic: ${topicA}}`;
    writeMap(dir, mapDoc(routeA));
    const port = await launch(dir);

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
    writeMap(dir, mapDoc(`${routeA}\n    - mqttToKafka: {name: b, mqttTopic: "${mB}", kafkaTopic: ${topicB}}`, "  batching: {enabled: true, latencyMs: 20}\n"));
    await waitFor("reload applied", () => out.includes("topic maps reloaded"), 20_000);
    const reloadLine = JSON.parse(out.split("\n").find((l) => l.includes("topic maps reloaded"))!) as { added: string[]; changed: string[] };
    assert.deepEqual(reloadLine.added, ["ops-map/b"]);
    assert.deepEqual(reloadLine.changed, ["ops-map/a"], "batching is map-wide, so route a restarts on the same session");

    writeMap(dir, mapDoc(`${routeA}\n    - mqttToKafka: {name: b, mqttTopic: "${mB}", kafkaTopic: ${topicB}, qos: 7}`));
    await waitFor("rejection logged", () => out.includes("new configuration rejected"), 20_000);
    assert.match(out, /spec\.routes\[1\]\.mqttToKafka\.qos: got 7; allowed: 0, 1/);
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
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.equal(sample(text, "mqtt_kafka_connector_config_reloads_total", { result: "applied" }), 1);
    assert.equal(sample(text, "mqtt_kafka_connector_config_reloads_total", { result: "rejected" }), 1);
  });
});
