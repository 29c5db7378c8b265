import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sharedBrokers, uniqueName, type SharedBrokers } from "../helpers/brokers";
import { connectorYaml, plainConnectorSpec } from "../helpers/connector";

const CLI = join(__dirname, "..", "..", "connector", "cli.js");

function check(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, "check", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("exit", (code) => (clearTimeout(t), resolve({ code, out })));
  });
}

describe("mqtt-kafka-connector check (real brokers)", function () {
  let b: SharedBrokers;
  before(async () => {
    b = await sharedBrokers();
  });

  it("passes when topics exist and subscriptions are granted", async () => {
    const topic = uniqueName("chk");
    await b.kafka.createTopic(topic, 3);
    const dir = mkdtempSync(join(tmpdir(), "mkc-chk-"));
    writeFileSync(join(dir, "c.yaml"), connectorYaml({ connectorSpec: plainConnectorSpec(b.kafka.bootstrap, b.mqtt.url), mapSpec: `  routes:\n    - mqttToKafka: {name: r, mqttTopic: "chk/+/x", kafkaTopic: ${topic}, sharedSubscription: {groupName: g}}` }));
    const { code, out } = await check(["--config", dir]);
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`^ok    Kafka topic ${topic}: 3 partition\\(s\\), used by itest-map/r$`, "m"));
    assert.match(out, /^ok    MQTT subscription \$share\/g\/chk\/\+\/x: granted at QoS 1 for itest-map\/r$/m);
    assert.match(out, /all checks passed\n$/);
  });

  it("fails with a readable report for a missing topic and a refused MQTT login", async () => {
    const missing = uniqueName("chk-missing");
    const dir = mkdtempSync(join(tmpdir(), "mkc-chk-"));
    mkdirSync(join(dir, "secrets", "mqtt-creds"), { recursive: true });
    mkdirSync(join(dir, "secrets", "mqtt-ca"), { recursive: true });
    writeFileSync(join(dir, "secrets", "mqtt-creds", "username"), b.mqtt.user!.username);
    writeFileSync(join(dir, "secrets", "mqtt-creds", "password"), "not-the-password");
    writeFileSync(join(dir, "secrets", "mqtt-ca", "ca.crt"), readFileSync(b.mqtt.certs!.caCert));
    const spec = [
      "  image: {}",
      "  instances: 1",
      `  kafkaConnection: {endpoint: "${b.kafka.bootstrap}", tls: {tlsEnabled: false}}`,
      `  localBrokerConnection: {endpoint: "127.0.0.1:${b.mqtt.tlsPort}", tls: {tlsEnabled: true, trustedCaCertificateConfigMap: mqtt-ca}, authentication: {usernamePassword: {secretName: mqtt-creds}}}`,
    ].join("\n");
    writeFileSync(join(dir, "c.yaml"), connectorYaml({ connectorSpec: spec, mapSpec: `  routes:\n    - kafkaToMqtt: {name: cmds, kafkaTopic: ${missing}, mqttTopic: x}` }));
    const { code, out } = await check(["--config", join(dir, "c.yaml"), "--secrets-dir", join(dir, "secrets")]);
    assert.equal(code, 3, out);
    assert.match(out, new RegExp(`^FAIL  Kafka topic ${missing}: does not exist \\(used by itest-map/cmds\\)`, "m"));
    assert.match(out, /^FAIL  MQTT connection: mqtts:\/\/127\.0\.0\.1:\d+: .*(Not authorized|Bad User Name or Password|reason code 13[45])/m);
    assert.ok(!out.includes("not-the-password"));
    assert.match(out, /2 checks failed\n$/);
  });

  it("exits 2 on an invalid configuration without connecting", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mkc-chk-"));
    writeFileSync(join(dir, "c.yaml"), connectorYaml({ connectorSpec: plainConnectorSpec("127.0.0.1:1", "mqtt://127.0.0.1:2"), mapSpec: "  routes: []" }));
    const { code, out } = await check(["--config", dir]);
    assert.equal(code, 2);
    assert.match(out, /spec\.routes: got \[\]; must NOT have fewer than 1 items/);
  });
});
