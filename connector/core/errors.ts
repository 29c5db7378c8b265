/** What went wrong, as callers branch on it; transports map their libraries' errors onto these. */
export type ErrorCode =
  | "CONFIG_INVALID"
  | "USAGE"
  | "SECRET_MISSING"
  | "LIFECYCLE"
  | "STOPPED"
  | "KAFKA_TOPIC_MISSING"
  | "KAFKA_AUTH_FAILED"
  | "KAFKA_TLS_FAILED"
  | "KAFKA_UNREACHABLE"
  /** Kafka refused the records themselves (too large, corrupt); retrying the same records fails again. */
  | "KAFKA_RECORD_REJECTED"
  | "KAFKA_UNSUPPORTED"
  | "KAFKA_ERROR"
  | "MQTT_SUBSCRIBE_REFUSED"
  | "MQTT_PUBLISH_FAILED"
  /** The disk spool could not be opened (permissions, a full disk, a damaged file). */
  | "SPOOL_UNAVAILABLE";

/** Base error for everything the connector raises on purpose. */
export class ConnectorError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  /** MQTT v5 reason code, when the error came from the MQTT broker. */
  readonly reasonCode?: number;
  /** The broker's own short name for the error, where it gave one (e.g. Kafka's MESSAGE_TOO_LARGE). */
  readonly reason?: string;

  constructor(code: ErrorCode, message: string, opts: { retriable?: boolean; cause?: unknown; reasonCode?: number; reason?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = opts.retriable ?? false;
    if (opts.reasonCode !== undefined) this.reasonCode = opts.reasonCode;
    if (opts.reason !== undefined) this.reason = opts.reason;
  }
}

export interface ConfigProblem {
  /** e.g. `examples/local/connector.yaml#1 KafkaConnector/demo` */
  document: string;
  /** Dotted field path, e.g. `spec.routes[0].mqttToKafka.qos`. */
  path: string;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.document}: ${p.path || "(document)"}: ${p.message}`;
}

/** Invalid configuration. Never retriable: the process exits before it connects to anything. */
export class ConfigError extends ConnectorError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super("CONFIG_INVALID", `invalid configuration:\n${problems.map((p) => "  " + formatProblem(p)).join("\n")}`);
    this.problems = problems;
  }
}

/** Wraps unknown thrown values so callers can rely on `.message`. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
