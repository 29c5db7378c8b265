import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { TokenCredential } from "@azure/identity";
import type { ConnectionOptions } from "node:tls";
import type { SASLOptions } from "kafkajs";
import type { KafkaConnectorSpecResolved } from "../config/schema";
import type { SecretStore } from "../config/secrets";
import { ConnectorError } from "../core/errors";
import { CachedToken, scopeForAudience } from "./entra-token";
import type { MqttConnectionSettings } from "./mqtt/client";
import { DEFAULT_SAT_TOKEN_PATH, isEventHubs } from "../config/endpoints";
import { secretRef } from "../config/secret-refs";

export interface KafkaAuth {
  ssl?: ConnectionOptions;
  sasl?: SASLOptions;
  /** For logs: which method, never the secret. */
  describe: string;
}

/** TLS and authentication for Kafka from `kafkaConnection`, reading mounted secrets. */
export function kafkaAuth(spec: KafkaConnectorSpecResolved, secrets: SecretStore, credential?: () => TokenCredential): KafkaAuth {
  const conn = spec.kafkaConnection;
  const where = "spec.kafkaConnection";
  let ssl: ConnectionOptions | undefined;
  if (conn.tls.tlsEnabled) {
    ssl = { rejectUnauthorized: true };
    const ca = secretRef(spec, "kafkaCa");
    if (ca) ssl.ca = secrets.readCaBundle(ca.dir, ca.field);
  }
  const auth = conn.authentication;
  if (!auth?.enabled) return { ...(ssl ? { ssl } : {}), describe: "none" };
  const t = auth.authType;
  if (t.sasl) {
    const tok = t.sasl.token;
    const name = secretRef(spec, "kafkaSasl")?.dir;
    if (!name) throw new ConnectorError("CONFIG_INVALID", `${where}.authentication.authType.sasl.token: no secret reference`);
    const what = `${where}.authentication.authType.sasl.token`;
    const password = secrets.readText(name, "password", what);
    const username =
      tok.keyVault?.username ??
      (secrets.has(name, "username") ? secrets.readText(name, "username", what) : isEventHubs(conn.endpoint) ? "$ConnectionString" : undefined);
    if (username === undefined) {
      throw new ConnectorError("SECRET_MISSING", `${what}: secret \`${name}\` has no \`username\` key (only Event Hubs defaults it to $ConnectionString)`);
    }
    const mechanism = ({ plain: "plain", scramSha256: "scram-sha-256", scramSha512: "scram-sha-512" } as const)[t.sasl.saslType];
    return { ...(ssl ? { ssl } : {}), sasl: { mechanism, username, password } as SASLOptions, describe: `sasl/${mechanism}` };
  }
  if (t.x509) {
    const name = secretRef(spec, "kafkaX509")?.dir;
    if (!name) throw new ConnectorError("CONFIG_INVALID", `${where}.authentication.authType.x509: no certificate reference`);
    const what = `${where}.authentication.authType.x509`;
    ssl = { ...(ssl ?? { rejectUnauthorized: true }), cert: secrets.read(name, "tls.crt", what), key: secrets.read(name, "tls.key", what) };
    return { ssl, describe: "x509" };
  }
  if (t.systemAssignedManagedIdentity) {
    const token = new CachedToken((credential ?? defaultCredential)(), scopeForAudience(t.systemAssignedManagedIdentity.audience));
    const sasl: SASLOptions = { mechanism: "oauthbearer", oauthBearerProvider: async () => ({ value: await token.get() }) };
    return { ...(ssl ? { ssl } : {}), sasl, describe: "oauthbearer/entra" };
  }
  return { ...(ssl ? { ssl } : {}), describe: "none" };
}

/**
 * AKS workload identity when its webhook injected the token file, otherwise the managed identity.
 * @azure/identity is loaded here, on first use, not at startup: it adds about 20 MB of resident
 * memory that connectors authenticating any other way would carry for nothing.
 */
export function defaultCredential(): TokenCredential {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ManagedIdentityCredential, WorkloadIdentityCredential } = require("@azure/identity") as typeof import("@azure/identity");
  if (process.env["AZURE_FEDERATED_TOKEN_FILE"]) return new WorkloadIdentityCredential();
  const clientId = process.env["AZURE_CLIENT_ID"];
  return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
}

/** mqtt.js settings from `localBrokerConnection`. */
export function mqttSettings(spec: KafkaConnectorSpecResolved, secrets: SecretStore, env: NodeJS.ProcessEnv = process.env): MqttConnectionSettings & { describe: string } {
  const conn = spec.localBrokerConnection;
  const where = "spec.localBrokerConnection";
  const [host, port] = splitHostPort(conn.endpoint);
  const tlsOn = conn.tls.tlsEnabled;
  const s: MqttConnectionSettings & { describe: string } = { url: `${tlsOn ? "mqtts" : "mqtt"}://${host}:${port}`, describe: "none" };
  if (tlsOn) {
    // SNI must be a host name (RFC 6066); Node warns when given an IP address.
    s.tls = isIP(host) ? {} : { servername: host };
    const ca = secretRef(spec, "mqttCa");
    if (ca) s.tls.ca = secrets.readCaBundle(ca.dir, ca.field);
  }
  const auth = conn.authentication;
  if (auth?.usernamePassword) {
    const n = secretRef(spec, "mqttUserPassword")!.dir;
    const what = `${where}.authentication.usernamePassword`;
    s.readUserPassword = () => ({ username: secrets.readText(n, "username", what), password: secrets.readLine(n, "password", what) });
    Object.assign(s, s.readUserPassword());
    s.describe = "username/password";
  } else if (auth?.x509) {
    // Validation refuses x509 without TLS (config/validate.ts), so tls is set here.
    const n = secretRef(spec, "mqttX509")!.dir;
    s.tls = { ...s.tls, cert: secrets.read(n, "tls.crt", `${where}.authentication.x509`), key: secrets.read(n, "tls.key", `${where}.authentication.x509`) };
    s.describe = "x509";
  } else if (auth?.kubernetes) {
    const path = auth.kubernetes.tokenPath ?? env["MQTT_SAT_TOKEN_PATH"] ?? DEFAULT_SAT_TOKEN_PATH;
    s.readAuthToken = () => {
      try {
        return readFileSync(path);
      } catch (e) {
        throw new ConnectorError("SECRET_MISSING", `${where}.authentication.kubernetes: cannot read the service account token at ${path}`, { cause: e });
      }
    };
    s.readAuthToken(); // fail at startup, not on the first reconnect
    s.describe = `K8S-SAT (${path})`;
  }
  return s;
}

export function splitHostPort(endpoint: string): [string, number] {
  const i = endpoint.lastIndexOf(":");
  return [endpoint.slice(0, i), Number(endpoint.slice(i + 1))];
}
