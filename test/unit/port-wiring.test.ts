import { strict as assert } from "node:assert";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfigText, selectConnector } from "../../connector/config/load";
import { checkPortUse } from "../../connector/check";
import { connectorPortUse, DEFAULT_RUNTIME } from "../../connector/lifecycle/runtime";
import { kafkaPortSettings, mqttPortSettings } from "../../connector/ports/factory";

describe("check and the connector wire their ports the same way", () => {
  const dir = mkdtempSync(join(tmpdir(), "mkc-wiring-"));
  const files: Record<string, Record<string, string>> = { kc: { username: "u\n", password: "p\n" }, ca: { "ca.crt": "-----CA-----\n" }, mc: { username: "dev", password: "pw\n" } };
  for (const [name, keys] of Object.entries(files)) {
    mkdirSync(join(dir, name));
    for (const [k, v] of Object.entries(keys)) writeFileSync(join(dir, name, k), v);
  }
  const yaml = `apiVersion: mq.iotoperations.azure.com/v1beta1
kind: KafkaConnector
metadata: {name: wired}
spec:
  image: {}
  instances: 2
  clientIdPrefix: plant
  kafkaConnection:
    endpoint: "k1:9093,k2:9093"
    tls: {tlsEnabled: true, trustedCaCertificateConfigMap: ca}
    authentication: {enabled: true, authType: {sasl: {saslType: scramSha512, token: {secretName: kc}}}}
  localBrokerConnection:
    endpoint: "broker:8883"
    tls: {tlsEnabled: true, trustedCaCertificateConfigMap: ca}
    authentication: {usernamePassword: {secretName: mc}}
---
apiVersion: mq.iotoperations.azure.com/v1beta1
kind: KafkaConnectorTopicMap
metadata: {name: m}
spec:
  kafkaConnectorRef: wired
  routes: [{mqttToKafka: {name: r, mqttTopic: "a/#", kafkaTopic: t}}]
`;
  const config = selectConnector(parseConfigText(yaml, "t").resources);

  it("builds the same Kafka and MQTT connection settings from one config; only client ID and consumer behaviour differ", () => {
    const runUse = connectorPortUse({ ...DEFAULT_RUNTIME, instanceIndex: 1, secretsDir: dir }, "plant");
    const checkUse = checkPortUse(config, dir);
    const [run, check] = [runUse, checkUse].map((use) => ({ kafka: kafkaPortSettings(config.connector.spec, use), mqtt: mqttPortSettings(config.connector.spec, use) }));
    const connection = (k: typeof run.kafka.settings) => ({ brokers: k.brokers, ssl: k.ssl, sasl: k.sasl, eventHubs: k.eventHubs });
    assert.deepEqual(connection(run!.kafka.settings), connection(check!.kafka.settings));
    assert.deepEqual(run!.kafka.settings.sasl, { mechanism: "scram-sha-512", username: "u", password: "p" });
    assert.equal(run!.kafka.settings.ssl?.ca?.toString(), "-----CA-----\n");
    assert.deepEqual([run!.kafka.settings.clientId, check!.kafka.settings.clientId], ["plant-1", "plant-check"]);
    assert.deepEqual(run!.kafka.describe, check!.kafka.describe);
    const mqtt = (m: typeof run.mqtt.settings) => ({ url: m.url, tls: m.tls, username: m.username, password: m.password?.toString() });
    assert.deepEqual(mqtt(run!.mqtt.settings), mqtt(check!.mqtt.settings));
    assert.deepEqual(mqtt(run!.mqtt.settings), { url: "mqtts://broker:8883", tls: { servername: "broker", ca: Buffer.from("-----CA-----\n") }, username: "dev", password: "pw" });
  });
});
