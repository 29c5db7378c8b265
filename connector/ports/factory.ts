/**
 * The one wiring of a connector's transports: from a validated KafkaConnector to the MQTT port,
 * the Kafka port and the key hash. The connector, `check` and the tests all build ports here, so
 * what `check` verifies is what the connector runs with.
 */
import type { KafkaConnectorResource, KafkaConnectorSpecResolved } from "../config/schema";
import { isEventHubs, splitEndpoints } from "../config/endpoints";
import { SecretStore } from "../config/secrets";
import type { KeyHash } from "../core/partitioner";
import type { Logger } from "../logger";
import { kafkaAuth, mqttSettings } from "./connection-settings";
import { KafkaJsPort, type KafkaSettings } from "./kafka/port";
import { describeSeam, type KafkajsSeam } from "./kafka/seam";
import { MqttJsPort } from "./mqtt/port";
import type { MqttConnectionSettings } from "./mqtt/client";
import type { KafkaPort, MqttPort } from "./types";

export type ConnectionEvent = (client: "mqtt" | "kafka", event: "reconnect" | "error") => void;

/** What differs between the connector and `check`; everything else comes from the resource. */
export interface PortUse {
  secretsDir: string;
  /** Kafka client ID. */
  clientId: string;
  offsetReset: "earliest" | "latest";
  commitIntervalMs: number;
  sessionTimeoutMs: number;
  partitionsConsumedConcurrently: number;
  /** First MQTT reconnect delay (it doubles up to 30 s). */
  mqttReconnectMs?: number;
}

/** How one side connects, for logs and `check`: never a secret. */
export interface PortDescription {
  endpoint: string;
  tls: boolean;
  auth: string;
}

/** Kafka settings; throws naming the field when a Secret or ConfigMap it names is missing. */
export function kafkaPortSettings(spec: KafkaConnectorSpecResolved, use: PortUse): { settings: KafkaSettings; describe: PortDescription } {
  const auth = kafkaAuth(spec, new SecretStore(use.secretsDir));
  const endpoint = spec.kafkaConnection.endpoint;
  const settings: KafkaSettings = {
    brokers: splitEndpoints(endpoint),
    clientId: use.clientId,
    ...(auth.ssl ? { ssl: auth.ssl } : {}),
    ...(auth.sasl ? { sasl: auth.sasl } : {}),
    eventHubs: isEventHubs(endpoint),
    offsetReset: use.offsetReset,
    commitIntervalMs: use.commitIntervalMs,
    sessionTimeoutMs: use.sessionTimeoutMs,
    partitionsConsumedConcurrently: use.partitionsConsumedConcurrently,
  };
  return { settings, describe: { endpoint, tls: spec.kafkaConnection.tls.tlsEnabled, auth: auth.describe } };
}

/** MQTT settings; throws naming the field when a Secret, ConfigMap or token file it names is missing. */
export function mqttPortSettings(spec: KafkaConnectorSpecResolved, use: PortUse): { settings: MqttConnectionSettings; describe: PortDescription } {
  const { describe: auth, ...settings } = mqttSettings(spec, new SecretStore(use.secretsDir));
  if (use.mqttReconnectMs !== undefined) settings.reconnectPeriodMs = use.mqttReconnectMs;
  return { settings, describe: { endpoint: settings.url, tls: spec.localBrokerConnection.tls.tlsEnabled, auth } };
}

export interface ConnectorPorts {
  mqtt: MqttPort;
  kafka: KafkaPort;
  /** Java-compatible murmur2 for key partitioning. */
  hash: KeyHash;
  /** What the kafkajs seam installed (absent for ports a test builds by hand). */
  kafkajs?: KafkajsSeam;
}

/** Builds both ports and logs how they connect (and what the kafkajs seam could install). */
export function buildPorts(connector: KafkaConnectorResource, use: PortUse, log: Logger, onEvent: ConnectionEvent = () => undefined): ConnectorPorts {
  const k = kafkaPortSettings(connector.spec, use);
  const m = mqttPortSettings(connector.spec, use);
  const kafka = new KafkaJsPort(k.settings, log.child({ side: "kafka" }), (e) => onEvent("kafka", e));
  const mqtt = new MqttJsPort(m.settings, log.child({ side: "mqtt" }), (e) => onEvent("mqtt", e));
  const fields = { kafka: k.describe.endpoint, kafkaTls: k.describe.tls, kafkaAuth: k.describe.auth, mqtt: m.describe.endpoint, mqttTls: m.describe.tls, mqttAuth: m.describe.auth };
  log.info({ ...fields, kafkajs: describeSeam(kafka.seam) }, "connection settings");
  for (const problem of kafka.seam.problems) log.warn({ kafkajs: kafka.seam.kafkajsVersion }, problem);
  return { mqtt, kafka, hash: kafka.seam.hash, kafkajs: kafka.seam };
}
