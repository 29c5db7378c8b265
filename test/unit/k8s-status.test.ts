import { strict as assert } from "node:assert";
import { connectorStatus, topicMapStatus, type Condition, type MapInputs, type RouteView } from "../../connector/k8s/status";

const up = (name: string, extra: Partial<RouteView> = {}): RouteView => ({ name, direction: "mqttToKafka", running: true, connected: true, inFlight: 0, messagesPerSecond: 12.345, ...extra });
const T0 = "2026-12-04T10:00:00.000Z";
const T1 = "2026-12-04T10:05:00.000Z";
const cond = (s: { conditions: Condition[] }, type: string) => s.conditions.find((c) => c.type === type)!;
const inputs = (o: Partial<MapInputs>): MapInputs => ({ report: { generation: 3, problems: [] }, running: 3, applying: false, routes: [up("a"), up("b")], ...o });

describe("k8s: status of a topic map", () => {
  it("all routes running: Ready, 2/2, rates rounded", () => {
    const s = topicMapStatus(inputs({}), undefined, T0);
    assert.deepEqual([cond(s, "Ready").status, cond(s, "ConfigValid").status, cond(s, "Degraded").status], ["True", "True", "False"]);
    assert.equal(s.readyRoutes, "2/2");
    assert.equal(s.routes[0]!.messagesPerSecond, 12.3);
    assert.equal(s.observedGeneration, 3);
    assert.equal(cond(s, "Ready").observedGeneration, 3);
  });

  it("a rejected generation: ConfigValid False naming the field, Degraded while the previous one runs", () => {
    const s = topicMapStatus(inputs({ report: { generation: 4, problems: [{ document: "x", path: "spec.routes[1].mqttToKafka.mqttTopic", message: "got \"a/#/b\"" }] } }), undefined, T0);
    assert.equal(cond(s, "ConfigValid").status, "False");
    assert.equal(cond(s, "ConfigValid").reason, "InvalidSpec");
    assert.match(cond(s, "ConfigValid").message, /^spec\.routes\[1\]\.mqttToKafka\.mqttTopic: got "a\/#\/b"$/);
    assert.equal(cond(s, "Ready").status, "True");
    assert.equal(cond(s, "Degraded").reason, "RunningPreviousGeneration");
    assert.equal(s.runningGeneration, 3);
  });

  it("a route that lost its connection: NotReady with its last error, Degraded for the partial outage", () => {
    const s = topicMapStatus(inputs({ routes: [up("a"), up("b", { connected: false, lastError: { message: "Kafka unreachable", at: T0 } })] }), undefined, T0);
    assert.equal(cond(s, "Ready").reason, "RoutesNotReady");
    assert.match(cond(s, "Ready").message, /route b: a connection is down \(last error: Kafka unreachable\)/);
    assert.equal(s.routes[1]!.state, "NotReady");
    assert.equal(s.routes[1]!.lastError, "Kafka unreachable");
    assert.equal(s.readyRoutes, "1/2");
    assert.equal(cond(s, "Degraded").status, "True");
  });

  it("a reload the connector refused: Ready False with its reason", () => {
    const s = topicMapStatus(inputs({ running: undefined, applyError: "Kafka topic \"t\" does not exist", routes: [up("a", { running: false })] }), undefined, T0);
    assert.equal(cond(s, "Ready").reason, "ReloadFailed");
    assert.equal(s.routes[0]!.state, "Stopped");
  });

  it("lastTransitionTime moves only when a condition's status changes", () => {
    const first = topicMapStatus(inputs({}), undefined, T0);
    const same = topicMapStatus(inputs({}), first.conditions, T1);
    assert.equal(cond(same, "Ready").lastTransitionTime, T0);
    const flipped = topicMapStatus(inputs({ routes: [up("a", { connected: false })] }), first.conditions, T1);
    assert.equal(cond(flipped, "Ready").lastTransitionTime, T1);
    assert.equal(cond(flipped, "ConfigValid").lastTransitionTime, T0);
  });
});

describe("k8s: status of a KafkaConnector", () => {
  it("counts ready instances and says who writes status", () => {
    const s = connectorStatus({ generation: 2, problems: [], running: 2, instances: 3, instancesReady: 2, statusWriter: "pod-0-1" }, undefined, T0);
    assert.equal(cond(s, "Ready").status, "False");
    assert.equal(cond(s, "Ready").message, "2/3 instances ready");
    assert.equal(cond(s, "Degraded").reason, "InstancesNotReady");
    assert.equal(s.statusWriter, "pod-0-1");
    const all = connectorStatus({ generation: 2, problems: [], running: 2, instances: 3, instancesReady: 3, statusWriter: "p" }, undefined, T0);
    assert.equal(cond(all, "Ready").status, "True");
  });

  it("a connector that cannot reconnect says why", () => {
    const s = connectorStatus({ generation: 5, problems: [], running: 5, instances: 1, instancesReady: 0, statusWriter: "p", applyError: "cannot start: connection refused" }, undefined, T0);
    assert.equal(cond(s, "Ready").reason, "ReconnectFailed");
    assert.match(cond(s, "Ready").message, /connection refused/);
  });
});
