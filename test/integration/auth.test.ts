import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../connector/config/load";
import { freePort } from "../../scripts/local-brokers";
import { uniqueName, kcatConsume, mosquittoPub } from "../helpers/brokers";
import { mqttToKafkaMap, secretsDir, testConfig, type ConnectorSpec } from "../helpers/config";
import { connectorFixture, readLog } from "../helpers/connector";
import { waitFor } from "../helpers/wait";

/** Each case runs one mqttToKafka message through a secured listener and reads it back with kcat. */
describe("connections and authentication (real brokers)", function () {
  const fx = connectorFixture("a");
  const b = fx.brokers;


  /** Runs a message through a connector whose connections are the shared brokers' plain ones but for `connections`. */
  async function roundTrip(connections: Partial<ConnectorSpec>, secrets: string, publishTo = (t: string, m: string) => mosquittoPub(b.mqtt.url, t, m)) {
    const topic = uniqueName("auth");
    const mt = uniqueName("auth");
    await b.kafka.createTopic(topic, 1);
    const r = await fx.start({ connector: connections, maps: [{ spec: mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic }) }], secretsDir: secrets });
    await publishTo(mt, "secret-path");
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 1, timeoutMs: 15_000 });
    assert.equal(recs[0]!.value, "secret-path");
    return r;
  }

  for (const [saslType, label] of [["plain", "PLAIN"], ["scramSha256", "SCRAM-SHA-256"], ["scramSha512", "SCRAM-SHA-512"]] as const) {
    it(`Kafka SASL ${label} with the password from a mounted Secret, which never reaches the logs`, async () => {
      const user = b.kafka.saslUser!;
      const dir = secretsDir({ "kafka-creds": { username: user.username, password: user.password } });
      const r = await roundTrip(
        { kafkaConnection: { endpoint: b.kafka.saslBootstrap!, tls: { tlsEnabled: false }, authentication: { enabled: true, authType: { sasl: { saslType, token: { secretName: "kafka-creds" } } } } } },
        dir,
      );
      assert.ok(!readLog(r.logFile).includes(user.password), "password not logged");
    });
  }

  it("Kafka bootstrap as a comma-separated list works when the first endpoint is down", async () => {
    const dead = await freePort();
    await roundTrip({ kafkaConnection: { endpoint: `127.0.0.1:${dead},${b.kafka.bootstrap}`, tls: { tlsEnabled: false } } }, secretsDir({}));
  });

  it("Kafka SASL with a wrong password keeps retrying and says why", async function () {
    this.timeout(60_000);
    const user = b.kafka.saslUser!;
    const dir = secretsDir({ bad: { username: user.username, password: "wrong-password-xyz" } });
    const topic = uniqueName("authbad");
    await b.kafka.createTopic(topic, 1);
    const { connector: c, logFile } = fx.build({
      connector: { kafkaConnection: { endpoint: b.kafka.saslBootstrap!, tls: { tlsEnabled: false }, authentication: { enabled: true, authType: { sasl: { saslType: "scramSha512", token: { secretName: "bad" } } } } } },
      maps: [{ spec: mqttToKafkaMap({ name: "r", mqttTopic: "x", kafkaTopic: topic }) }],
      secretsDir: dir,
    });
    const started = c.start().catch((e: unknown) => e);
    await waitFor("three retry log lines", () => (readLog(logFile).match(/Kafka authentication failed; retrying/g) ?? []).length >= 3, 45_000);
    const log = readLog(logFile);
    assert.match(log, /SASL|[Aa]uthentication/);
    assert.ok(!log.includes("wrong-password-xyz"));
    assert.ok(!log.includes("Kafka unreachable"), "the cause is known: it is not called unreachable");
    // One line per attempt from the connector; kafkajs' own lines for the same failure once.
    const errorLines = log.split("\n").filter((l) => l.includes('"level":50'));
    const attempts = errorLines.filter((l) => l.includes("Kafka authentication failed; retrying")).length;
    assert.ok(errorLines.length <= attempts + 3, `${errorLines.length} error lines for ${attempts} attempts`);
    await c.stop(1000);
    assert.ok((await started) instanceof Error, "start() gives up once stopped");
  });

  it("Kafka x509 client certificate over TLS with a custom CA ConfigMap", async () => {
    const certs = b.kafka.certs!;
    const dir = secretsDir({
      "kafka-client": { "tls.crt": readFileSync(certs.clientCert), "tls.key": readFileSync(certs.clientKey) },
      "kafka-ca": { "ca.crt": readFileSync(certs.caCert) },
    });
    await roundTrip(
      { kafkaConnection: { endpoint: b.kafka.sslBootstrap!, tls: { tlsEnabled: true, trustedCaCertificateConfigMap: "kafka-ca" }, authentication: { enabled: true, authType: { x509: { secretName: "kafka-client" } } } } },
      dir,
    );
  });

  it("Kafka x509 from a Key Vault reference, mounted by the CSI driver as one PEM holding key and certificate", async () => {
    const certs = b.kafka.certs!;
    const bundle = Buffer.concat([readFileSync(certs.clientKey), readFileSync(certs.clientCert)]);
    const dir = secretsDir({ "my-cert": { "tls.crt": bundle, "tls.key": bundle }, "kafka-ca": { "ca.crt": readFileSync(certs.caCert) } });
    await roundTrip(
      {
        kafkaConnection: {
          endpoint: b.kafka.sslBootstrap!,
          tls: { tlsEnabled: true, trustedCaCertificateConfigMap: "kafka-ca" },
          authentication: {
            enabled: true,
            authType: { x509: { keyVault: { vault: { name: "kv", directoryId: "tenant", credentials: { servicePrincipalLocalSecretName: "sp" } }, vaultCert: { name: "my-cert" } } } },
          },
        },
      },
      dir,
    );
  });

  it("Kafka TLS without the CA fails verification and keeps retrying", async function () {
    this.timeout(60_000);
    const certs = b.kafka.certs!;
    const dir = secretsDir({ "kafka-client": { "tls.crt": readFileSync(certs.clientCert), "tls.key": readFileSync(certs.clientKey) } });
    const { connector: c, logFile } = fx.build({
      connector: { kafkaConnection: { endpoint: b.kafka.sslBootstrap!, tls: { tlsEnabled: true }, authentication: { enabled: true, authType: { x509: { secretName: "kafka-client" } } } } },
      maps: [{ spec: mqttToKafkaMap({ name: "r", mqttTopic: "x", kafkaTopic: "t" }) }],
      secretsDir: dir,
    });
    const started = c.start().catch((e: unknown) => e);
    await waitFor("a retry log line", () => readLog(logFile).includes("Kafka TLS handshake failed; retrying"), 45_000);
    assert.match(readLog(logFile), /certificate/i);
    await c.stop(1000);
    await started;
  });

  it("MQTT username/password over TLS with a custom CA", async () => {
    const m = b.mqtt;
    const dir = secretsDir({ "mqtt-creds": { username: m.user!.username, password: m.user!.password }, "mqtt-ca": { "ca.pem": readFileSync(m.certs!.caCert) } });
    const r = await roundTrip(
      { localBrokerConnection: { endpoint: `127.0.0.1:${m.tlsPort}`, tls: { tlsEnabled: true, trustedCaCertificateConfigMap: "mqtt-ca" }, authentication: { usernamePassword: { secretName: "mqtt-creds" } } } },
      dir,
    );
    assert.ok(!readLog(r.logFile).includes(m.user!.password));
  });

  it("a refused MQTT login keeps being retried with backoff, counted and logged without flooding, and connects once the user exists", async function () {
    this.timeout(90_000);
    const m = b.mqtt;
    const late = { username: uniqueName("late"), password: "late-pw-123" };
    const dir = secretsDir({ "mqtt-creds": { username: late.username, password: `${late.password}\n` }, "mqtt-ca": { "ca.pem": readFileSync(m.certs!.caCert) } });
    const topic = uniqueName("late");
    const mt = uniqueName("late");
    await b.kafka.createTopic(topic, 1);
    const r = fx.track(
      fx.build({
        name: uniqueName("late").toLowerCase(),
        connector: {
          localBrokerConnection: { endpoint: `127.0.0.1:${m.tlsPort}`, tls: { tlsEnabled: true, trustedCaCertificateConfigMap: "mqtt-ca" }, authentication: { usernamePassword: { secretName: "mqtt-creds" } } },
        },
        maps: [
          {
            spec: {
              routes: [
                { mqttToKafka: { name: "r", mqttTopic: mt, kafkaTopic: topic } },
                { kafkaToMqtt: { name: "back", kafkaTopic: topic, mqttTopic: `${mt}-back`, consumerGroupId: uniqueName("lg") } },
              ],
            },
          },
        ],
        secretsDir: dir,
      }),
    );
    const started = r.connector.start();
    const errorsCounted = async () => Number(/connection_errors_total\{[^}]*client="mqtt"[^}]*\} (\d+)/.exec(await r.connector.metrics.registry.metrics())?.[1] ?? 0);
    await waitFor("three refused attempts counted", async () => (await errorsCounted()) >= 6, 30_000);
    assert.equal(r.connector.ready, false);
    const refusals = readLog(r.logFile).split("\n").filter((l) => l.includes("MQTT connection refused"));
    assert.ok(refusals.length >= 1, "the refusal is logged");
    assert.ok(refusals.every((l) => l.includes('"reasonCode":135')), "with the broker's reason code (0x87 not authorized)");
    assert.ok(refusals.length < (await errorsCounted()), `fewer lines (${refusals.length}) than refusals (${await errorsCounted()})`);
    await m.addUser(late);
    await started; // the password file ended in a newline: it works once the broker knows the user
    await waitFor("ready", () => r.connector.ready, 30_000);
    await mosquittoPub(b.mqtt.url, mt, "after-fix");
    assert.equal((await kcatConsume(b.kafka.bootstrap, topic, { count: 1, timeoutMs: 15_000 }))[0]!.value, "after-fix");
  });

  it("MQTT X.509 client certificate (mTLS)", async () => {
    const m = b.mqtt;
    const dir = secretsDir({
      "mqtt-client": { "tls.crt": readFileSync(m.certs!.clientCert), "tls.key": readFileSync(m.certs!.clientKey) },
      "mqtt-ca": { "ca.crt": readFileSync(m.certs!.caCert) },
    });
    await roundTrip(
      { localBrokerConnection: { endpoint: `127.0.0.1:${m.mtlsPort}`, tls: { tlsEnabled: true, trustedCaCertificateConfigMap: "mqtt-ca" }, authentication: { x509: { secretName: "mqtt-client" } } } },
      dir,
    );
  });

  it("MQTT kubernetes auth sends method K8S-SAT with the token; Mosquitto (no such plugin) answers 0x8C bad authentication method", async function () {
    this.timeout(30_000);
    const dir = secretsDir({ sat: { token: "eyJhbGciOi.fake.token" } });
    const { mqttSettings } = await import("../../connector/ports/connection-settings");
    const { MqttJsPort } = await import("../../connector/ports/mqtt/port");
    const pino = (await import("pino")).default;
    const logFile = join(dir, "log.txt");
    const config = testConfig({
      name: "k",
      connector: {
        kafkaConnection: { endpoint: "k:1", tls: { tlsEnabled: false } },
        localBrokerConnection: { endpoint: `127.0.0.1:${b.mqtt.port}`, tls: { tlsEnabled: false }, authentication: { kubernetes: { tokenPath: join(dir, "sat", "token") } } },
      },
    });
    const doc = parseConfigText(config.text, "t").resources[0]!;
    assert.ok(doc.kind === "KafkaConnector");
    const settings = mqttSettings(doc.spec, { has: () => false } as never);
    assert.equal(settings.describe, `K8S-SAT (${join(dir, "sat", "token")})`);
    const port = new MqttJsPort({ ...settings, reconnectPeriodMs: 60_000 }, pino({ level: "info" }, pino.destination({ dest: logFile, sync: true })));
    const sub = port.subscribe({ clientId: uniqueName("sat"), filter: "x", qos: 1, receiveMaximum: 10, sessionExpirySeconds: 0 }, () => undefined);
    void sub.start().catch(() => undefined);
    await waitFor("the CONNACK refusal in the log", () => /"reasonCode":140/.test(readLog(logFile)), 15_000);
    await sub.close();
  });
});
