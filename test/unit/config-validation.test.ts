import { strict as assert } from "node:assert";
import { parseConfigText, selectConnector } from "../../connector/config/load";
import { ConfigError, formatProblem } from "../../connector/core/errors";

const HEADER = "apiVersion: mq.iotoperations.azure.com/v1beta1";
const connector = (spec: string, name = "c") => `${HEADER}\nkind: KafkaConnector\nmetadata: {name: ${name}}\nspec:\n${spec}`;
const map = (spec: string, name = "m") => `${HEADER}\nkind: KafkaConnectorTopicMap\nmetadata: {name: ${name}}\nspec:\n${spec}`;
const CONN_OK = `  image: {}\n  instances: 1\n  kafkaConnection: {endpoint: "k:9092", tls: {tlsEnabled: false}}\n`;
const MAP_OK = `  kafkaConnectorRef: c\n  routes:\n    - mqttToKafka: {name: r1, mqttTopic: "a/#", kafkaTopic: t1}\n`;

function problems(text: string): string[] {
  return parseConfigText(text, "f.yaml").problems.map(formatProblem);
}

describe("config validation", () => {
  it("fills every documented default", () => {
    const { resources, problems: p } = parseConfigText(`${connector(CONN_OK)}\n---\n${map(MAP_OK + "    - kafkaToMqtt: {name: r2, kafkaTopic: t2, mqttTopic: x}\n")}`, "f.yaml");
    assert.deepEqual(p, []);
    const [c, m] = resources;
    assert.ok(c && c.kind === "KafkaConnector");
    assert.equal(c.spec.logLevel, "warn");
    assert.deepEqual(c.spec.image, { pullPolicy: "IfNotPresent", repository: "ghcr.io/mqtt-kafka-connector/connector", tag: "0.1.0" });
    assert.deepEqual(c.spec.localBrokerConnection, { endpoint: "localhost:1883", tls: { tlsEnabled: false } });
    assert.ok(m && m.kind === "KafkaConnectorTopicMap");
    assert.equal(m.spec.compression, "none");
    assert.equal(m.spec.partitionStrategy, "default");
    assert.equal(m.spec.copyMqttProperties, false);
    assert.deepEqual(m.spec.batching, { enabled: false, latencyMs: 5, maxMessages: 100000, maxBytes: 1000000 });
    assert.deepEqual(m.spec.routes[0]!.mqttToKafka, { name: "r1", mqttTopic: "a/#", kafkaTopic: "t1", kafkaAcks: "all", qos: 1 });
    assert.deepEqual(m.spec.routes[1]!.kafkaToMqtt, { name: "r2", kafkaTopic: "t2", mqttTopic: "x", qos: 1 });
  });

  it("names document, field path, bad value and what is allowed", () => {
    const text = map(`  kafkaConnectorRef: c\n  compresion: gzip\n  partitionStrategy: hashed\n  batching: {latencyMS: 3, maxBytes: 2000000}\n  routes:\n    - mqttToKafka: {name: r1, mqttTopic: "a", kafkaTopic: "t 1", qos: 2, kafkaAcks: two}\n      kafkaToMqtt: {name: r2, mqttTopic: x, kafkaTopic: y}\n`);
    assert.deepEqual(problems(text), [
      "f.yaml#1 KafkaConnectorTopicMap/m: spec.compresion: unknown field; did you mean `compression`? (allowed: kafkaConnectorRef, compression, batching, partitionStrategy, partitionKeyProperty, copyMqttProperties, routes)",
      "f.yaml#1 KafkaConnectorTopicMap/m: spec.batching.latencyMS: unknown field; did you mean `latencyMs`? (allowed: enabled, latencyMs, maxMessages, maxBytes)",
      "f.yaml#1 KafkaConnectorTopicMap/m: spec.batching.maxBytes: got 2000000; must be <= 1000000",
      "f.yaml#1 KafkaConnectorTopicMap/m: spec.partitionStrategy: got \"hashed\"; allowed: default, static, topic, property",
      "f.yaml#1 KafkaConnectorTopicMap/m: spec.routes[0]: set exactly one of mqttToKafka, kafkaToMqtt; found mqttToKafka, kafkaToMqtt",
      "f.yaml#1 KafkaConnectorTopicMap/m: spec.routes[0].mqttToKafka.kafkaTopic: got \"t 1\"; must match ^(?:[A-Za-z0-9._-]|\\$\\{[^{}]*\\})+$ (kafka topic (event hub) to produce to, or a template of one over the MQTT topic: `${inputTopic}`, `${inputTopic.N}` (its N-th level from 1))",
      "f.yaml#1 KafkaConnectorTopicMap/m: spec.routes[0].mqttToKafka.kafkaAcks: got \"two\"; allowed: zero, one, all",
      "f.yaml#1 KafkaConnectorTopicMap/m: spec.routes[0].mqttToKafka.qos: got 2; allowed: 0, 1",
    ]);
  });

  it("reports missing required fields and an unknown kind or apiVersion", () => {
    assert.deepEqual(problems(connector("  image: {}\n  kafkaConnection: {tls: {tlsEnabled: true}}\n")), [
      "f.yaml#1 KafkaConnector/c: spec.instances: required field is missing",
      "f.yaml#1 KafkaConnector/c: spec.kafkaConnection.endpoint: required field is missing",
    ]);
    assert.deepEqual(problems(`${HEADER}\nkind: KafkaBridge\nmetadata: {name: x}\n`), [
      "f.yaml#1 KafkaBridge/x: kind: got \"KafkaBridge\"; allowed: KafkaConnector, KafkaConnectorTopicMap",
    ]);
    assert.deepEqual(problems(`apiVersion: v1\nkind: KafkaConnector\nmetadata: {name: x}\n`), [
      "f.yaml#1 KafkaConnector/x: apiVersion: got \"v1\"; allowed: mq.iotoperations.azure.com/v1beta1",
    ]);
  });

  it("checks cross-field rules", () => {
    assert.deepEqual(problems(map(`  kafkaConnectorRef: c\n  partitionStrategy: property\n  routes:\n    - mqttToKafka: {name: r1, mqttTopic: "a/#/b", kafkaTopic: t}\n    - kafkaToMqtt: {name: r1, mqttTopic: "x/+", kafkaTopic: t}\n`)), [
      "f.yaml#1 KafkaConnectorTopicMap/m: spec.partitionKeyProperty: required when partitionStrategy is `property`",
      "f.yaml#1 KafkaConnectorTopicMap/m: spec.routes[0].mqttToKafka.mqttTopic: got \"a/#/b\"; `#` must be a whole level and the last one",
      "f.yaml#1 KafkaConnectorTopicMap/m: spec.routes[1].kafkaToMqtt.name: got \"r1\"; route names must be unique, already used by spec.routes[0]",
      "f.yaml#1 KafkaConnectorTopicMap/m: spec.routes[1].kafkaToMqtt.mqttTopic: got \"x/+\"; a topic to publish to cannot contain the wildcards `+` or `#`",
    ]);
    assert.deepEqual(problems(connector(`  image: {}\n  instances: 1\n  kafkaConnection: {endpoint: "ns.servicebus.windows.net:9093", tls: {tlsEnabled: false}}\n`)), [
      "f.yaml#1 KafkaConnector/c: spec.kafkaConnection.tls.tlsEnabled: got false; Event Hubs accepts only TLS connections, set tlsEnabled: true",
    ]);
  });

  it("requires exactly one auth method and one token source", () => {
    const p = problems(connector(`  image: {}\n  instances: 1\n  kafkaConnection:\n    endpoint: "k:9093"\n    tls: {tlsEnabled: true}\n    authentication: {enabled: true, authType: {sasl: {saslType: plain, token: {}}, x509: {secretName: s}}}\n`));
    assert.deepEqual(p, [
      "f.yaml#1 KafkaConnector/c: spec.kafkaConnection.authentication.authType: set exactly one of sasl, systemAssignedManagedIdentity, x509; found sasl, x509",
      "f.yaml#1 KafkaConnector/c: spec.kafkaConnection.authentication.authType.sasl.token: set exactly one of secretName, keyVault; found none",
    ]);
  });

  it("accepts authentication: {enabled: false, authType: {}} as no authentication, and says when enabled needs a method", () => {
    const spec = (auth: string) => connector(`  image: {}\n  instances: 1\n  kafkaConnection:\n    endpoint: "k:9093"\n    tls: {tlsEnabled: true}\n    authentication: ${auth}\n`);
    assert.deepEqual(problems(spec("{enabled: false, authType: {}}")), []);
    assert.deepEqual(problems(spec("{enabled: false, authType: {x509: {secretName: s}}}")), [], "a method switched off is fine too");
    assert.deepEqual(problems(spec("{enabled: true, authType: {}}")), [
      "f.yaml#1 KafkaConnector/c: spec.kafkaConnection.authentication.authType: set exactly one of sasl, systemAssignedManagedIdentity, x509; found none (authentication is enabled; set enabled: false for none)",
    ]);
  });

  it("reports YAML syntax errors with their line", () => {
    const p = problems("kind: [unclosed\n");
    assert.equal(p.length, 1);
    assert.match(p[0]!, /^f\.yaml#1: \(document\): YAML syntax error at line \d+, column \d+: /);
  });

  it("pairs topic maps to their connector and explains what is missing", () => {
    const { resources } = parseConfigText(`${connector(CONN_OK)}\n---\n${map(MAP_OK)}\n---\n${map(MAP_OK.replace("kafkaConnectorRef: c", "kafkaConnectorRef: other"), "m2")}`, "f.yaml");
    const sel = selectConnector(resources);
    assert.deepEqual(sel.topicMaps.map((m) => m.metadata.name), ["m"]);
    assert.throws(() => selectConnector(resources, "nope"), (e: unknown) => e instanceof ConfigError && e.problems[0]!.message === "no KafkaConnector named nope (found: c)");
    const lonely = resources.filter((r) => r.kind === "KafkaConnector" || r.metadata.name === "m2");
    assert.throws(() => selectConnector(lonely), (e: unknown) => e instanceof ConfigError && e.problems[0]!.message === "no KafkaConnectorTopicMap has kafkaConnectorRef: c (found: m2 -> other)");
  });

  it("rejects a route name used by two topic maps of one connector", () => {
    const { resources } = parseConfigText(`${connector(CONN_OK)}\n---\n${map(MAP_OK)}\n---\n${map(MAP_OK, "m2")}`, "f.yaml");
    assert.throws(() => selectConnector(resources), (e: unknown) =>
      e instanceof ConfigError && e.problems[0]!.message === 'got "r1"; also used by KafkaConnectorTopicMap/m, route names must be unique per connector');
  });
});
