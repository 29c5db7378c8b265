import { strict as assert } from "node:assert";
import { resolveDesired, type Accepted } from "../../connector/k8s/desired";
import type { WatchedObject } from "../../connector/k8s/list-watch";

const API = "mq.iotoperations.azure.com/v1beta1";

const connector = (generation: number, spec: Record<string, unknown> = {}): WatchedObject => ({
  apiVersion: API,
  kind: "KafkaConnector",
  metadata: { name: "c", namespace: "ns", uid: "uid-c", generation, resourceVersion: "9", managedFields: [] },
  spec: { image: {}, instances: 1, kafkaConnection: { endpoint: "kafka:9092", tls: { tlsEnabled: false } }, ...spec },
  status: { conditions: [] },
} as WatchedObject);

const route = (name: string, mqttTopic = "a/#") => ({ mqttToKafka: { name, mqttTopic, kafkaTopic: "t" } });

const map = (name: string, generation: number, routes: unknown[], extra: Record<string, unknown> = {}, created = "2026-01-01T00:00:00Z"): WatchedObject => ({
  apiVersion: API,
  kind: "KafkaConnectorTopicMap",
  metadata: { name, namespace: "ns", uid: `uid-${name}`, generation, creationTimestamp: created as unknown as Date },
  spec: { kafkaConnectorRef: "c", routes, ...extra },
});

const none = (): Accepted => ({ maps: new Map() });
const routeNames = (d: ReturnType<typeof resolveDesired>) => d.config?.topicMaps.flatMap((m) => m.spec.routes.map((r) => `${m.metadata.name}/${r.mqttToKafka?.name ?? r.kafkaToMqtt?.name}`));

describe("k8s: what the connector runs from its custom resources", () => {
  it("valid resources run, with defaults filled in and server metadata ignored", () => {
    const d = resolveDesired("c", connector(1), [map("m", 1, [route("r1")])], none());
    assert.deepEqual(routeNames(d), ["m/r1"]);
    assert.equal(d.config?.connector.spec.logLevel, "warn");
    assert.equal(d.config?.topicMaps[0]!.spec.routes[0]!.mqttToKafka!.qos, 1);
    assert.deepEqual(d.maps.map((m) => [m.name, m.running, m.problems.length]), [["m", 1, 0]]);
  });

  it("maps of other connectors are not run", () => {
    const other = map("o", 1, [route("x")]);
    (other.spec as Record<string, unknown>)["kafkaConnectorRef"] = "someone-else";
    const d = resolveDesired("c", connector(1), [map("m", 1, [route("r1")]), other], none());
    assert.deepEqual(routeNames(d), ["m/r1"]);
  });

  it("an invalid new generation is reported with its field path, and the accepted one keeps running", () => {
    const first = resolveDesired("c", connector(1), [map("m", 1, [route("r1")])], none());
    const d = resolveDesired("c", connector(1), [map("m", 2, [route("r1", "a/#/b")])], first.accepted);
    assert.deepEqual(routeNames(d), ["m/r1"]);
    const report = d.maps[0]!;
    assert.equal(report.generation, 2);
    assert.equal(report.running, 1);
    assert.equal(report.problems[0]!.path, "spec.routes[0].mqttToKafka.mqttTopic");
  });

  it("an invalid map that never was valid is left out; the others run", () => {
    const d = resolveDesired("c", connector(1), [map("bad", 1, [route("r9", "a/#/b")]), map("m", 1, [route("r1")])], none());
    assert.deepEqual(routeNames(d), ["m/r1"]);
    assert.equal(d.maps.find((m) => m.name === "bad")!.running, undefined);
  });

  it("a route name used by another map is refused for the newcomer, not for the map that had it first", () => {
    const first = resolveDesired("c", connector(1), [map("a", 1, [route("shared")], {}, "2026-01-02T00:00:00Z")], none());
    const d = resolveDesired("c", connector(1), [map("a", 1, [route("shared")], {}, "2026-01-02T00:00:00Z"), map("b", 1, [route("shared", "b/#")], {}, "2026-01-01T00:00:00Z")], first.accepted);
    assert.deepEqual(routeNames(d), ["a/shared"]);
    const b = d.maps.find((m) => m.name === "b")!;
    assert.match(b.problems[0]!.message, /route name "shared" is also used by KafkaConnectorTopicMap\/a/);
    assert.equal(b.problems[0]!.path, "spec.routes[0]");
  });

  it("an invalid KafkaConnector keeps the accepted one; with none accepted nothing runs", () => {
    const first = resolveDesired("c", connector(1), [map("m", 1, [route("r1")])], none());
    const bad = connector(2, { instances: 0 });
    const d = resolveDesired("c", bad, [map("m", 1, [route("r1")])], first.accepted);
    assert.equal(d.connector.running, 1);
    assert.equal(d.connector.problems[0]!.path, "spec.instances");
    assert.ok(d.config);
    assert.equal(resolveDesired("c", bad, [], none()).config, undefined);
  });

  it("Event Hubs compression rules apply per map against the connector's endpoint", () => {
    const eh = connector(1, { kafkaConnection: { endpoint: "ns.servicebus.windows.net:9093", tls: { tlsEnabled: true } } });
    const d = resolveDesired("c", eh, [map("snappy", 1, [route("r1")], { compression: "snappy" }), map("m", 1, [route("r2")])], none());
    assert.deepEqual(routeNames(d), ["m/r2"]);
    assert.equal(d.maps.find((m) => m.name === "snappy")!.problems[0]!.path, "spec.compression");
  });

  it("validation does not change the watched objects (defaults go into copies)", () => {
    const m = map("m", 1, [route("r1")]);
    const before = JSON.stringify(m);
    resolveDesired("c", connector(1), [m], none());
    assert.equal(JSON.stringify(m), before);
  });
});
