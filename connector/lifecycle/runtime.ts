import { RUNTIME_OPTIONS, type RuntimeValues } from "../config/runtime-options";
import type { PortUse } from "../ports/factory";

/** What a running connector needs to know beyond its resources. */
export interface RuntimeOptions {
  instanceIndex: number;
  secretsDir: string;
  receiveMaximum: number;
  sessionExpirySeconds: number;
  maxBufferedBytes: number;
  /** Our unacknowledged publishes per kafkaToMqtt connection; the broker's Receive Maximum lowers it further. */
  kafkaToMqttMaxInFlight: number;
  /** MQTT connections per kafkaToMqtt route (capped by the source topic's partitions). */
  kafkaToMqttConnections: number;
  offsetReset: "earliest" | "latest";
  commitIntervalMs: number;
  /** Kafka consumer group session timeout: how long a crashed instance's partitions wait for it. */
  sessionTimeoutMs: number;
  partitionRefreshMs: number;
  /** Shared-subscription clients leave their group and end their sessions on a graceful stop. */
  leaveSharedOnStop: boolean;
  /** Interval of the one-line throughput summary logged at info; 0 disables it. */
  summaryIntervalMs: number;
  /** The disk spool of mqttToKafka routes; absent: none. */
  spool?: { dir: string; maxBytes: number; mode: "outage" | "always" };
}

/** The connector's part of the runtime options table (config/runtime-options.ts), as it uses them. */
export function runtimeFromValues(v: RuntimeValues): RuntimeOptions {
  return {
    instanceIndex: v.instanceIndex,
    secretsDir: v.secretsDir,
    receiveMaximum: v.receiveMaximum,
    sessionExpirySeconds: v.sessionExpirySeconds,
    maxBufferedBytes: v.maxBufferedBytes,
    kafkaToMqttMaxInFlight: 1000,
    kafkaToMqttConnections: v.kafkaToMqttConnections,
    offsetReset: v.offsetReset,
    commitIntervalMs: v.commitIntervalMs,
    sessionTimeoutMs: v.sessionTimeoutMs,
    partitionRefreshMs: 60_000,
    leaveSharedOnStop: !v.keepSharedSessions,
    summaryIntervalMs: 60_000,
    ...(v.spoolDir && v.spoolMode !== "off" ? { spool: { dir: v.spoolDir, maxBytes: v.spoolMaxBytes, mode: v.spoolMode } } : {}),
  };
}

/** How a running connector connects: its own client ID per instance, and its consumer settings. */
export function connectorPortUse(rt: RuntimeOptions, clientIdPrefix: string): PortUse {
  return {
    secretsDir: rt.secretsDir,
    clientId: `${clientIdPrefix}-${rt.instanceIndex}`,
    offsetReset: rt.offsetReset,
    commitIntervalMs: rt.commitIntervalMs,
    sessionTimeoutMs: rt.sessionTimeoutMs,
    partitionsConsumedConcurrently: 4,
  };
}

const defaults = Object.fromEntries(Object.entries(RUNTIME_OPTIONS).map(([k, o]) => [k, o.default])) as RuntimeValues;

/** Every default, from the table; a caller adds the instance index and the secrets dir it wants. */
export const DEFAULT_RUNTIME: Omit<RuntimeOptions, "instanceIndex" | "secretsDir"> = (({ instanceIndex: _i, secretsDir: _s, ...rest }) => rest)(runtimeFromValues(defaults));
