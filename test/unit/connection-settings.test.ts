import { strict as assert } from "node:assert";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AccessToken, TokenCredential } from "@azure/identity";
import { parseConfigText } from "../../connector/config/load";
import { SecretStore } from "../../connector/config/secrets";
import { kafkaAuth, mqttSettings } from "../../connector/ports/connection-settings";
import { isEventHubs } from "../../connector/config/endpoints";
import { CachedToken, scopeForAudience } from "../../connector/ports/entra-token";
import type { KafkaConnectorSpecResolved } from "../../connector/config/schema";

function spec(body: string): KafkaConnectorSpecResolved {
  const { resources, problems } = parseConfigText(`apiVersion: mq.iotoperations.azure.com/v1beta1\nkind: KafkaConnector\nmetadata: {name: c}\nspec:\n  image: {}\n  instances: 1\n${body}`, "t");
  assert.deepEqual(problems, []);
  const r = resources[0]!;
  assert.ok(r.kind === "KafkaConnector");
  return r.spec;
}

function store(files: Record<string, Record<string, string>>): SecretStore {
  const dir = mkdtempSync(join(tmpdir(), "mkc-unit-"));
  for (const [name, keys] of Object.entries(files)) {
    mkdirSync(join(dir, name));
    for (const [k, v] of Object.entries(keys)) writeFileSync(join(dir, name, k), v);
  }
  return new SecretStore(dir);
}

class FakeCredential implements TokenCredential {
  calls: string[] = [];
  constructor(private readonly expiresInMs: number, private readonly now: () => number) {}
  async getToken(scope: string | string[]): Promise<AccessToken> {
    this.calls.push(String(scope));
    return { token: `t${this.calls.length}`, expiresOnTimestamp: this.now() + this.expiresInMs };
  }
}

describe("connection settings", () => {
  it("recognises Event Hubs endpoints in every cloud", () => {
    assert.equal(isEventHubs("ns.servicebus.windows.net:9093"), true);
    assert.equal(isEventHubs("a:9092,ns.servicebus.chinacloudapi.cn:9093"), true);
    assert.equal(isEventHubs("kafka.example.com:9093"), false);
  });

  it("SASL PLAIN to Event Hubs defaults the username to $ConnectionString and reads the password file", () => {
    const s = spec(`  kafkaConnection:\n    endpoint: ns.servicebus.windows.net:9093\n    tls: {tlsEnabled: true}\n    authentication: {enabled: true, authType: {sasl: {saslType: plain, token: {secretName: cs}}}}`);
    const auth = kafkaAuth(s, store({ cs: { password: "Endpoint=sb://ns/;SharedAccessKey=x\n" } }));
    assert.deepEqual(auth.sasl, { mechanism: "plain", username: "$ConnectionString", password: "Endpoint=sb://ns/;SharedAccessKey=x" });
    assert.deepEqual(auth.ssl, { rejectUnauthorized: true });
    assert.equal(auth.describe, "sasl/plain");
  });

  it("SASL to a plain Kafka needs a username key and says which file is missing", () => {
    const s = spec(`  kafkaConnection:\n    endpoint: k:9092\n    tls: {tlsEnabled: false}\n    authentication: {enabled: true, authType: {sasl: {saslType: scramSha512, token: {secretName: creds}}}}`);
    assert.throws(() => kafkaAuth(s, store({ creds: { password: "p" } })), {
      message: "spec.kafkaConnection.authentication.authType.sasl.token: secret `creds` has no `username` key (only Event Hubs defaults it to $ConnectionString)",
    });
    const st = store({});
    assert.throws(() => kafkaAuth(s, st), { message: `spec.kafkaConnection.authentication.authType.sasl.token: cannot read key \`password\` of \`creds\` (expected file ${join(st.dir, "creds", "password")})` });
    assert.deepEqual(kafkaAuth(s, store({ creds: { username: "u", password: "p" } })).sasl, { mechanism: "scram-sha-512", username: "u", password: "p" });
  });

  it("managed identity becomes OAUTHBEARER with a token for <audience>/.default", async () => {
    const s = spec(`  kafkaConnection:\n    endpoint: ns.servicebus.windows.net:9093\n    tls: {tlsEnabled: true}\n    authentication: {enabled: true, authType: {systemAssignedManagedIdentity: {audience: "https://ns.servicebus.windows.net"}}}`);
    const cred = new FakeCredential(3600_000, Date.now);
    const auth = kafkaAuth(s, store({}), () => cred);
    assert.equal(auth.sasl?.mechanism, "oauthbearer");
    const provider = (auth.sasl as { oauthBearerProvider: () => Promise<{ value: string }> }).oauthBearerProvider;
    assert.deepEqual(await provider(), { value: "t1" });
    assert.deepEqual(await provider(), { value: "t1" }, "cached");
    assert.deepEqual(cred.calls, ["https://ns.servicebus.windows.net/.default"]);
  });

  it("refreshes a cached token five minutes before it expires, once for concurrent callers", async () => {
    let now = 1_000_000;
    const cred = new FakeCredential(10 * 60_000, () => now);
    const tok = new CachedToken(cred, scopeForAudience("https://ns.servicebus.windows.net/"), 5 * 60_000, () => now);
    assert.equal(await tok.get(), "t1");
    now += 4 * 60_000;
    assert.equal(await tok.get(), "t1");
    now += 2 * 60_000; // within five minutes of expiry
    assert.deepEqual(await Promise.all([tok.get(), tok.get()]), ["t2", "t2"]);
    assert.equal(cred.calls.length, 2);
  });

  it("MQTT: TLS with a CA ConfigMap, username/password, and K8S-SAT from the token file", () => {
    const s = spec(`  kafkaConnection: {endpoint: "k:9092", tls: {tlsEnabled: false}}\n  localBrokerConnection:\n    endpoint: broker.local:8883\n    tls: {tlsEnabled: true, trustedCaCertificateConfigMap: ca}\n    authentication: {usernamePassword: {secretName: up}}`);
    const m = mqttSettings(s, store({ ca: { "a.crt": "A\n", "b.pem": "B\n", "ignored.txt": "x" }, up: { username: "dev", password: "pw" } }));
    assert.equal(m.url, "mqtts://broker.local:8883");
    assert.equal(m.tls?.servername, "broker.local");
    assert.equal(m.tls?.ca?.toString(), "A\nB\n");
    assert.equal(m.username, "dev");
    assert.equal(m.password?.toString(), "pw");

    const dir = mkdtempSync(join(tmpdir(), "mkc-sat-"));
    writeFileSync(join(dir, "token"), "sat-token");
    const k = spec(`  kafkaConnection: {endpoint: "k:9092", tls: {tlsEnabled: false}}\n  localBrokerConnection: {endpoint: "b:1883", tls: {tlsEnabled: false}, authentication: {kubernetes: {}}}`);
    const sat = mqttSettings(k, store({}), { MQTT_SAT_TOKEN_PATH: join(dir, "token") });
    assert.equal(sat.readAuthToken?.().toString(), "sat-token");
    assert.equal(sat.describe, `K8S-SAT (${join(dir, "token")})`);
    assert.throws(() => mqttSettings(k, store({}), { MQTT_SAT_TOKEN_PATH: join(dir, "nope") }), {
      message: `spec.localBrokerConnection.authentication.kubernetes: cannot read the service account token at ${join(dir, "nope")}`,
    });
  });

  it("MQTT: a password file ending in a newline (echo pw > password) logs in with the password, as Kafka's does; a changed file is read again", () => {
    const s = spec(`  kafkaConnection: {endpoint: "k:9092", tls: {tlsEnabled: false}}\n  localBrokerConnection:\n    endpoint: b:1883\n    tls: {tlsEnabled: false}\n    authentication: {usernamePassword: {secretName: up}}`);
    for (const [file, expected] of [["pw\n", "pw"], ["pw\r\n", "pw"], ["pw", "pw"], ["pw\n\n", "pw\n"], ["p w ", "p w "]] as const) {
      const m = mqttSettings(s, store({ up: { username: "dev\n", password: file } }));
      assert.equal(m.password?.toString(), expected, JSON.stringify(file));
      assert.equal(m.username, "dev");
    }
    const secrets = store({ up: { username: "dev", password: "old" } });
    const m = mqttSettings(s, secrets);
    writeFileSync(secrets.path("up", "password"), "new\n");
    assert.equal(m.readUserPassword?.().password.toString(), "new");
  });
});
