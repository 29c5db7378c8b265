import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sharedBrokersFixture, uniqueName } from "../helpers/brokers";
import { kafkaToMqttMap, mqttToKafkaMap, plainConnections, secretsDir, testConfig, writeConfigDir, type MapSpec } from "../helpers/config";
import { ConnectorProcess, processFixture } from "../helpers/connector-process";

/** `mqtt-kafka-connector check ...`: its exit code and its stdout and stderr as they came. */
async function check(args: string[]): Promise<{ code: number | null; out: string }> {
  const p = ConnectorProcess.run({ args: ["check", ...args] });
  const { code } = await p.exited;
  return { code, out: p.output() };
}

describe("mqtt-kafka-connector check (real brokers)", function () {
  const b = sharedBrokersFixture();
  processFixture();
  /** One config file `c.yaml` with plain connections to `kafka` and `mqtt`, in a new directory. */
  const plainConfig = (map: MapSpec, kafka = b.kafka.bootstrap, mqtt = b.mqtt.url) =>
    writeConfigDir({ "c.yaml": testConfig({ connector: plainConnections(kafka, mqtt), maps: [{ spec: map }] }).text });

  it("passes when topics exist and subscriptions are granted", async () => {
    const topic = uniqueName("chk");
    await b.kafka.createTopic(topic, 3);
    const dir = plainConfig(mqttToKafkaMap({ name: "r", mqttTopic: "chk/+/x", kafkaTopic: topic, sharedSubscription: { groupName: "g" } }));
    const { code, out } = await check(["--config", dir]);
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`^ok    Kafka topic ${topic}: 3 partition\\(s\\), used by itest-map/r$`, "m"));
    // The line also says how the instances subscribe (issue 13: check explains what will happen).
    assert.match(out, /^ok    MQTT subscription \$share\/g\/chk\/\+\/x: granted at QoS 1 for itest-map\/r; shares \$share\/g\/chk\/\+\/x, 1 client per instance$/m);
    assert.match(out, /^ok    kafkajs: kafkajs 2\.2\.4: patches on, fetchShaping on, rejoinHook on, murmur2 on, codecs on$/m);
    assert.match(out, /all checks passed\n$/);
  });

  it("fails with a readable report for a missing topic and a refused MQTT login", async () => {
    const missing = uniqueName("chk-missing");
    const dir = writeConfigDir({
      "c.yaml": testConfig({
        connector: {
          kafkaConnection: { endpoint: b.kafka.bootstrap, tls: { tlsEnabled: false } },
          localBrokerConnection: { endpoint: `127.0.0.1:${b.mqtt.tlsPort}`, tls: { tlsEnabled: true, trustedCaCertificateConfigMap: "mqtt-ca" }, authentication: { usernamePassword: { secretName: "mqtt-creds" } } },
        },
        maps: [{ spec: kafkaToMqttMap({ name: "cmds", kafkaTopic: missing, mqttTopic: "x" }) }],
      }).text,
    });
    secretsDir({ "mqtt-creds": { username: b.mqtt.user!.username, password: "not-the-password" }, "mqtt-ca": { "ca.crt": readFileSync(b.mqtt.certs!.caCert) } }, join(dir, "secrets"));
    const { code, out } = await check(["--config", join(dir, "c.yaml"), "--secrets-dir", join(dir, "secrets")]);
    assert.equal(code, 3, out);
    assert.match(out, new RegExp(`^FAIL  Kafka topic ${missing}: does not exist \\(used by itest-map/cmds\\)`, "m"));
    assert.match(out, /^FAIL  MQTT connection: mqtts:\/\/127\.0\.0\.1:\d+: .*(Not authorized|Bad User Name or Password|reason code 13[45])/m);
    assert.ok(!out.includes("not-the-password"));
    assert.match(out, /2 checks failed\n$/);
  });

  it("exits 2 on an invalid configuration without connecting", async () => {
    const dir = plainConfig({ routes: [] }, "127.0.0.1:1", "mqtt://127.0.0.1:2");
    const { code, out } = await check(["--config", dir]);
    assert.equal(code, 2);
    assert.match(out, /spec\.routes: got \[\]; must NOT have fewer than 1 items/);
  });
});
