import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:net";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sharedBrokersFixture, uniqueName, kcatConsume, mosquittoPub } from "../helpers/brokers";
import { kafkaToMqttMap, mqttToKafkaMap, plainConnections, secretsDir, testConfig, writeConfigDir, type ConnectorSpec, type TestConfigOptions } from "../helpers/config";
import { ConnectorProcess, processFixture } from "../helpers/connector-process";
import { waitFor } from "../helpers/wait";
import { freePort } from "../../scripts/local-brokers";

/** A self-signed CA the brokers' certificates do not chain to. */
function otherCa(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "mkc-other-ca-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other-ca", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem")], { stdio: "ignore" });
  return readFileSync(join(dir, "c.pem"));
}

/** A new directory holding the config as `config.yaml`. */
const writeConfig = (o: TestConfigOptions): string => writeConfigDir({ "config.yaml": testConfig(o).text });

/** A TCP listener that only counts connection attempts. */
async function countingListener(): Promise<{ port: number; count: () => number; server: Server }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  return { port: typeof addr === "object" && addr ? addr.port : 0, count: () => n, server };
}

describe("mqtt-kafka-connector CLI (process)", function () {
  const b = sharedBrokersFixture();
  processFixture();

  it("invalid config: one line per problem, exit 2, and no connection attempt", async () => {
    const kafka = await countingListener();
    const mqttL = await countingListener();
    const dir = writeConfig({
      connector: plainConnections(`127.0.0.1:${kafka.port}`, `mqtt://127.0.0.1:${mqttL.port}`),
      // Invalid on purpose, past the types: how such values are reported is what this tests.
      maps: [{ spec: mqttToKafkaMap({ name: "r", mqttTopic: "a", kafkaTopic: "t", qos: 2 as never }, { compression: "zstd" as never }) }],
    });
    const run = await ConnectorProcess.serve({ config: dir, httpPort: 0 });
    assert.equal((await run.exited).code, 2);
    const lines = run.stderr().trim().split("\n");
    assert.deepEqual(lines, [
      "config error: config.yaml#2 KafkaConnectorTopicMap/itest-map: spec.compression: got \"zstd\"; allowed: none, gzip, snappy, lz4",
      "config error: config.yaml#2 KafkaConnectorTopicMap/itest-map: spec.routes[0].mqttToKafka.qos: got 2; allowed: 0, 1",
      "2 problems; nothing was started",
    ].map((l) => l.replace("config.yaml", join(dir, "config.yaml"))));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(kafka.count() + mqttL.count(), 0, "no connection attempted");
    kafka.server.close();
    mqttL.server.close();
  });

  it("Event Hubs with lz4 compression is refused at startup with exit 2", async () => {
    const dir = writeConfig({
      connector: { ...plainConnections("ns.servicebus.windows.net:9093", b.mqtt.url), kafkaConnection: { endpoint: "ns.servicebus.windows.net:9093", tls: { tlsEnabled: true } } },
      maps: [{ spec: mqttToKafkaMap({ name: "r", mqttTopic: "a", kafkaTopic: "t" }, { compression: "lz4" }) }],
    });
    const run = await ConnectorProcess.serve({ config: dir, httpPort: 0 });
    assert.equal((await run.exited).code, 2);
    assert.match(run.stderr(), /KafkaConnectorTopicMap\/itest-map: spec\.compression: got "lz4"; Event Hubs accepts only none or gzip/);
  });

  it("--validate reports a valid config and exits 0 without connecting", async () => {
    const dir = writeConfig({ connector: plainConnections("127.0.0.1:1", "mqtt://127.0.0.1:2"), maps: [{ spec: kafkaToMqttMap({ name: "r", mqttTopic: "a", kafkaTopic: "t" }) }] });
    const run = ConnectorProcess.run({ args: ["--config", dir, "--validate"] });
    assert.equal((await run.exited).code, 0);
    assert.equal(run.stdout().trim(), "configuration valid: KafkaConnector/itest with 1 topic map(s), 1 route(s)");
  });

  it("a missing Kafka topic stops startup with exit 3, naming the topic and the route", async () => {
    const missing = uniqueName("nope");
    const dir = writeConfig({ connector: plainConnections(b.kafka.bootstrap, b.mqtt.url), maps: [{ spec: mqttToKafkaMap({ name: "telemetry", mqttTopic: "a", kafkaTopic: missing }) }] });
    const run = await ConnectorProcess.serve({ config: dir, httpPort: 0 });
    assert.equal((await run.exited).code, 3);
    assert.match(run.stderr(), new RegExp(`Kafka topic "${missing}" does not exist`));
    assert.match(run.stderr(), new RegExp(`missing: ${missing} \\(routes: itest-map/telemetry\\)`));
  });

  it("an unreachable Kafka is retried with backoff and logged; SIGTERM then stops it cleanly", async () => {
    const port = await freePort();
    const dir = writeConfig({ connector: { ...plainConnections(`127.0.0.1:${port}`, b.mqtt.url), logLevel: "info" }, maps: [{ spec: mqttToKafkaMap({ name: "r", mqttTopic: "a", kafkaTopic: "t" }) }] });
    const run = await ConnectorProcess.serve({ config: dir, httpPort: 0 });
    await waitFor("two retry log lines", () => (run.stdout().match(/Kafka unreachable; retrying/g) ?? []).length >= 2, 45_000);
    const line = run.stdout().split("\n").find((l) => l.includes("Kafka unreachable; retrying"))!;
    const entry = JSON.parse(line) as { level: string; retryInMs: number; endpoint: string };
    assert.equal(entry.level, "error");
    assert.equal(entry.endpoint, `127.0.0.1:${port}`);
    assert.ok(entry.retryInMs > 0);
    run.signal("SIGTERM");
    assert.equal((await run.exited).code, 0);
  });

  describe("SIGTERM and SIGINT while the MQTT broker has never accepted us: the process exits within the drain timeout, with exit 0", () => {
    const passwordOverTls = (): ConnectorSpec["localBrokerConnection"] => ({
      endpoint: `127.0.0.1:${b.mqtt.tlsPort}`,
      tls: { tlsEnabled: true, trustedCaCertificateConfigMap: "ca" },
      authentication: { usernamePassword: { secretName: "creds" } },
    });
    const cases: { what: string; signal: NodeJS.Signals; mqtt: () => Promise<ConnectorSpec["localBrokerConnection"]>; secrets?: () => Record<string, Record<string, string | Buffer>> }[] = [
      { what: "unreachable endpoint", signal: "SIGTERM", mqtt: async () => ({ endpoint: `127.0.0.1:${await freePort()}`, tls: { tlsEnabled: false } }) },
      {
        what: "wrong password",
        signal: "SIGINT",
        mqtt: async () => passwordOverTls(),
        secrets: () => ({ creds: { username: b.mqtt.user!.username, password: "not-the-password" }, ca: { "ca.crt": readFileSync(b.mqtt.certs!.caCert) } }),
      },
      {
        what: "a CA that did not sign the broker's certificate",
        signal: "SIGTERM",
        mqtt: async () => passwordOverTls(),
        secrets: () => ({ creds: { username: b.mqtt.user!.username, password: b.mqtt.user!.password }, ca: { "ca.crt": otherCa() } }),
      },
    ];
    for (const c of cases) {
      it(`${c.what} (${c.signal})`, async function () {
        this.timeout(60_000);
        const secrets = secretsDir(c.secrets?.() ?? {});
        const topic = uniqueName("never");
        await b.kafka.createTopic(topic, 1);
        const dir = writeConfig({
          connector: { logLevel: "info", kafkaConnection: { endpoint: b.kafka.bootstrap, tls: { tlsEnabled: false } }, localBrokerConnection: await c.mqtt() },
          maps: [{ spec: { routes: [{ mqttToKafka: { name: "r", mqttTopic: "a", kafkaTopic: topic } }, { kafkaToMqtt: { name: "k", kafkaTopic: topic, mqttTopic: "b" } }] } }],
        });
        // With the health endpoint listening, as in a pod: nothing but the connector ends the process.
        const run = await ConnectorProcess.serve({ config: dir, secretsDir: secrets, drainTimeoutS: 10 });
        await waitFor("an MQTT failure in the log", () => /MQTT (error|connection refused)/.test(run.stdout()), 30_000);
        assert.equal((await fetch(run.url("/readyz"))).status, 503);
        const sentAt = Date.now();
        run.signal(c.signal);
        assert.equal((await run.exited).code, 0, run.stdout().slice(-2000));
        assert.ok(Date.now() - sentAt < 10_000, `exited ${Date.now() - sentAt} ms after the signal`);
      });
    }
  });

  it("runs, serves /healthz and /readyz, moves traffic, and drains on SIGTERM with exit 0", async () => {
    const topic = uniqueName("cli");
    const mt = uniqueName("cli");
    await b.kafka.createTopic(topic, 1);
    const dir = writeConfig({ connector: plainConnections(b.kafka.bootstrap, b.mqtt.url), maps: [{ spec: mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic }) }] });
    const run = await ConnectorProcess.serve({ config: dir, logLevel: "info" });
    await run.waitReady(30_000);
    assert.equal((await fetch(run.url("/healthz"))).status, 200);
    await mosquittoPub(b.mqtt.url, mt, "via-cli");
    assert.equal((await kcatConsume(b.kafka.bootstrap, topic, { count: 1, timeoutMs: 10_000 }))[0]!.value, "via-cli");
    run.signal("SIGTERM");
    assert.equal((await run.exited).code, 0);
    const lines = run.stdout().split("\n");
    const running = lines.find((l) => l.includes('"connector running"'));
    const settings = lines.find((l) => l.includes('"connection settings"'));
    const draining = lines.find((l) => l.includes('"draining"'));
    assert.ok(running && settings && draining, run.stdout());
    assert.equal(running.match(/"instance":/g)?.length, 1, "instance once");
    assert.match(settings, /"kafkaTls":false/);
    assert.match(settings, /"mqttTls":false/);
    assert.equal((JSON.parse(draining) as { level: string }).level, "info", "a normal SIGTERM is not a warning");
  });
});
