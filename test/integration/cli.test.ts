import { strict as assert } from "node:assert";
import { execFileSync, spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sharedBrokers, uniqueName, kcatConsume, mosquittoPub, type SharedBrokers } from "../helpers/brokers";
import { connectorYaml, plainConnectorSpec, waitFor } from "../helpers/connector";
import { freePort } from "../../scripts/local-brokers";

const CLI = join(__dirname, "..", "..", "connector", "cli.js");

interface Run {
  code: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
  kill(sig: NodeJS.Signals): void;
}

function runCli(args: string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return {
    code: new Promise((r) => child.on("exit", (c) => (clearTimeout(timer), r(c)))),
    stdout: () => out,
    stderr: () => err,
    kill: (sig) => child.kill(sig),
  };
}

/** A self-signed CA the brokers' certificates do not chain to. */
function otherCa(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "mkc-other-ca-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other-ca", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem")], { stdio: "ignore" });
  return readFileSync(join(dir, "c.pem"));
}

function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "mkc-cli-"));
  writeFileSync(join(dir, "config.yaml"), yaml);
  return dir;
}

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
  let b: SharedBrokers;
  before(async () => {
    b = await sharedBrokers();
  });

  it("invalid config: one line per problem, exit 2, and no connection attempt", async () => {
    const kafka = await countingListener();
    const mqttL = await countingListener();
    const yaml = connectorYaml({
      connectorSpec: plainConnectorSpec(`127.0.0.1:${kafka.port}`, `mqtt://127.0.0.1:${mqttL.port}`),
      mapSpec: "  compression: zstd\n  routes:\n    - mqttToKafka: {name: r, mqttTopic: a, kafkaTopic: t, qos: 2}",
    });
    const dir = writeConfig(yaml);
    const run = runCli(["--config", dir, "--http-port", "0"]);
    assert.equal(await run.code, 2);
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
    const spec = plainConnectorSpec("ns.servicebus.windows.net:9093", b.mqtt.url).replace("tls: {tlsEnabled: false}}", "tls: {tlsEnabled: true}}");
    const dir = writeConfig(connectorYaml({ connectorSpec: spec, mapSpec: "  compression: lz4\n  routes:\n    - mqttToKafka: {name: r, mqttTopic: a, kafkaTopic: t}" }));
    const run = runCli(["--config", dir, "--http-port", "0"]);
    assert.equal(await run.code, 2);
    assert.match(run.stderr(), /KafkaConnectorTopicMap\/itest-map: spec\.compression: got "lz4"; Event Hubs accepts only none or gzip/);
  });

  it("--validate reports a valid config and exits 0 without connecting", async () => {
    const dir = writeConfig(connectorYaml({ connectorSpec: plainConnectorSpec("127.0.0.1:1", "mqtt://127.0.0.1:2"), mapSpec: "  routes:\n    - kafkaToMqtt: {name: r, mqttTopic: a, kafkaTopic: t}" }));
    const run = runCli(["--config", dir, "--validate"]);
    assert.equal(await run.code, 0);
    assert.equal(run.stdout().trim(), "configuration valid: KafkaConnector/itest with 1 topic map(s), 1 route(s)");
  });

  it("a missing Kafka topic stops startup with exit 3, naming the topic and the route", async () => {
    const missing = uniqueName("nope");
    const dir = writeConfig(connectorYaml({ connectorSpec: plainConnectorSpec(b.kafka.bootstrap, b.mqtt.url), mapSpec: `  routes:\n    - mqttToKafka: {name: telemetry, mqttTopic: a, kafkaTopic: ${missing}}` }));
    const run = runCli(["--config", dir, "--http-port", "0"]);
    assert.equal(await run.code, 3);
    assert.match(run.stderr(), new RegExp(`Kafka topic "${missing}" does not exist`));
    assert.match(run.stderr(), new RegExp(`missing: ${missing} \\(routes: itest-map/telemetry\\)`));
  });

  it("an unreachable Kafka is retried with backoff and logged; SIGTERM then stops it cleanly", async () => {
    const port = await freePort();
    const dir = writeConfig(connectorYaml({ connectorSpec: plainConnectorSpec(`127.0.0.1:${port}`, b.mqtt.url).replace("logLevel: warn", "logLevel: info"), mapSpec: "  routes:\n    - mqttToKafka: {name: r, mqttTopic: a, kafkaTopic: t}" }));
    const run = runCli(["--config", dir, "--http-port", "0"]);
    await waitFor("two retry log lines", () => (run.stdout().match(/Kafka unreachable; retrying/g) ?? []).length >= 2, 45_000);
    const line = run.stdout().split("\n").find((l) => l.includes("Kafka unreachable; retrying"))!;
    const entry = JSON.parse(line) as { level: string; retryInMs: number; endpoint: string };
    assert.equal(entry.level, "error");
    assert.equal(entry.endpoint, `127.0.0.1:${port}`);
    assert.ok(entry.retryInMs > 0);
    run.kill("SIGTERM");
    assert.equal(await run.code, 0);
  });

  describe("SIGTERM and SIGINT while the MQTT broker has never accepted us: the process exits within the drain timeout, with exit 0", () => {
    const cases: { what: string; signal: NodeJS.Signals; mqtt: () => Promise<string>; secrets?: () => Record<string, Record<string, string | Buffer>> }[] = [
      { what: "unreachable endpoint", signal: "SIGTERM", mqtt: async () => `  localBrokerConnection: {endpoint: "127.0.0.1:${await freePort()}", tls: {tlsEnabled: false}}` },
      {
        what: "wrong password",
        signal: "SIGINT",
        mqtt: async () => `  localBrokerConnection:\n    endpoint: "127.0.0.1:${b.mqtt.tlsPort}"\n    tls: {tlsEnabled: true, trustedCaCertificateConfigMap: ca}\n    authentication: {usernamePassword: {secretName: creds}}`,
        secrets: () => ({ creds: { username: b.mqtt.user!.username, password: "not-the-password" }, ca: { "ca.crt": readFileSync(b.mqtt.certs!.caCert) } }),
      },
      {
        what: "a CA that did not sign the broker's certificate",
        signal: "SIGTERM",
        mqtt: async () => `  localBrokerConnection:\n    endpoint: "127.0.0.1:${b.mqtt.tlsPort}"\n    tls: {tlsEnabled: true, trustedCaCertificateConfigMap: ca}\n    authentication: {usernamePassword: {secretName: creds}}`,
        secrets: () => ({ creds: { username: b.mqtt.user!.username, password: b.mqtt.user!.password }, ca: { "ca.crt": otherCa() } }),
      },
    ];
    for (const c of cases) {
      it(`${c.what} (${c.signal})`, async function () {
        this.timeout(60_000);
        const secrets = mkdtempSync(join(tmpdir(), "mkc-cli-secrets-"));
        for (const [name, keys] of Object.entries(c.secrets?.() ?? {})) {
          mkdirSync(join(secrets, name));
          for (const [k, v] of Object.entries(keys)) writeFileSync(join(secrets, name, k), v);
        }
        const spec = `  image: {}\n  instances: 1\n  logLevel: info\n  kafkaConnection: {endpoint: "${b.kafka.bootstrap}", tls: {tlsEnabled: false}}\n${await c.mqtt()}`;
        const topic = uniqueName("never");
        await b.kafka.createTopic(topic, 1);
        const dir = writeConfig(connectorYaml({ connectorSpec: spec, mapSpec: `  routes:\n    - mqttToKafka: {name: r, mqttTopic: a, kafkaTopic: ${topic}}\n    - kafkaToMqtt: {name: k, kafkaTopic: ${topic}, mqttTopic: b}` }));
        // With the health endpoint listening, as in a pod: nothing but the connector ends the process.
        const httpPort = await freePort();
        const run = runCli(["--config", dir, "--http-port", String(httpPort), "--secrets-dir", secrets, "--drain-timeout", "10"]);
        await waitFor("an MQTT failure in the log", () => /MQTT (error|connection refused)/.test(run.stdout()), 30_000);
        assert.equal((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status, 503);
        const sentAt = Date.now();
        run.kill(c.signal);
        assert.equal(await run.code, 0, run.stdout().slice(-2000));
        assert.ok(Date.now() - sentAt < 10_000, `exited ${Date.now() - sentAt} ms after the signal`);
      });
    }
  });

  it("runs, serves /healthz and /readyz, moves traffic, and drains on SIGTERM with exit 0", async () => {
    const topic = uniqueName("cli");
    const mt = uniqueName("cli");
    await b.kafka.createTopic(topic, 1);
    const httpPort = await freePort();
    const dir = writeConfig(connectorYaml({ connectorSpec: plainConnectorSpec(b.kafka.bootstrap, b.mqtt.url), mapSpec: `  routes:\n    - mqttToKafka: {name: r, mqttTopic: "${mt}", kafkaTopic: ${topic}}` }));
    const run = runCli(["--config", dir, "--http-port", String(httpPort), "--log-level", "info"]);
    await waitFor("readiness", async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined))?.status === 200, 30_000);
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status, 200);
    await mosquittoPub(b.mqtt.url, mt, "via-cli");
    assert.equal((await kcatConsume(b.kafka.bootstrap, topic, { count: 1, timeoutMs: 10_000 }))[0]!.value, "via-cli");
    run.kill("SIGTERM");
    assert.equal(await run.code, 0);
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
