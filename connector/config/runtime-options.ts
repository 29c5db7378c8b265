/**
 * The connector's runtime options in one table: flag, environment variable, default, bounds and
 * help. The CLI parses with it and prints its usage from it, the connector takes its defaults from
 * it, and the Pulumi components render their typed `runtime` argument into the container's
 * environment with it.
 */
import { LOG_LEVELS } from "./schema";
import { DEFAULT_SECRETS_DIR } from "./endpoints";

interface IntOption {
  kind: "int";
  default: number;
  min: number;
}
interface EnumOption<V extends string> {
  kind: "enum";
  values: readonly V[];
  default: V;
}
interface FlagOption {
  kind: "flag";
  default: boolean;
}
interface TextOption {
  kind: "text";
  default: string;
}
type OptionKind = IntOption | EnumOption<string> | FlagOption | TextOption;

export type OptionSpec = OptionKind & {
  /** `--<flag>`. */
  flag: string;
  /** Environment variable read when the flag is absent (a flag option: `true` switches it on). */
  env: string;
  /** Usage text, one sentence or two. */
  help: string;
  /** Set by the component itself in a pod (it must not be a component argument). */
  podManaged?: boolean;
};

const int = (o: Omit<IntOption, "kind"> & Omit<OptionSpec, "kind" | "default">) => ({ kind: "int" as const, ...o });

export const RUNTIME_OPTIONS = {
  secretsDir: { kind: "text", flag: "secrets-dir", env: "SECRETS_DIR", default: DEFAULT_SECRETS_DIR, podManaged: true, help: "where Secrets and ConfigMaps are mounted, as DIR/<name>/<key>" },
  instanceIndex: int({ flag: "instance", env: "CONNECTOR_INSTANCE_INDEX", default: 0, min: 0, podManaged: true, help: "instance index: static partitioning and client IDs (without it: the ordinal at the end of POD_NAME)" }),
  httpPort: int({ flag: "http-port", env: "HTTP_PORT", default: 8080, min: 0, podManaged: true, help: "port of /healthz, /readyz and /metrics; 0 disables" }),
  logLevel: { kind: "enum", flag: "log-level", env: "LOG_LEVEL", values: LOG_LEVELS, default: "warn", help: "log level; overrides spec.logLevel" },
  receiveMaximum: int({ flag: "receive-maximum", env: "MQTT_RECEIVE_MAXIMUM", default: 1000, min: 1, help: "MQTT Receive Maximum of each subscribing client: QoS 1 messages in flight per connection" }),
  kafkaToMqttConnections: int({
    flag: "kafka-to-mqtt-connections",
    env: "KAFKA_TO_MQTT_CONNECTIONS",
    default: 4,
    min: 1,
    help: "MQTT connections each kafkaToMqtt route publishes on, at most one per partition; the broker's Receive Maximum applies per connection",
  }),
  maxBufferedBytes: int({
    flag: "max-buffered-bytes",
    env: "MAX_BUFFERED_BYTES",
    default: 64 * 1024 * 1024,
    min: 1024,
    help: "QoS 0 messages waiting for Kafka beyond this are shed and counted (each counts its record plus 512 bytes); QoS 1 is bounded by the Receive Maximum",
  }),
  sessionExpirySeconds: int({ flag: "session-expiry", env: "MQTT_SESSION_EXPIRY_SECONDS", default: 3600, min: 0, help: "how long the broker keeps our MQTT sessions, and queues for them, while we are away (seconds)" }),
  offsetReset: { kind: "enum", flag: "offset-reset", env: "KAFKA_OFFSET_RESET", values: ["earliest", "latest"] as const, default: "earliest", help: "where a consumer group with no committed offset starts" },
  commitIntervalMs: int({ flag: "commit-interval-ms", env: "KAFKA_COMMIT_INTERVAL_MS", default: 1000, min: 250, help: "offset commit cadence; Event Hubs allows about 4 commits per second per partition" }),
  sessionTimeoutMs: int({ flag: "kafka-session-timeout-ms", env: "KAFKA_SESSION_TIMEOUT_MS", default: 10_000, min: 6000, help: "how long a crashed instance's partitions wait before the group reassigns them" }),
  drainTimeoutSeconds: int({ flag: "drain-timeout", env: "DRAIN_TIMEOUT_SECONDS", default: 30, min: 0, help: "seconds allowed for the drain on SIGTERM/SIGINT" }),
  spoolDir: {
    kind: "text",
    flag: "spool-dir",
    env: "SPOOL_DIR",
    default: "",
    podManaged: true,
    help: "directory of the disk spool for mqttToKafka routes (each instance uses DIR/instance-<index>); empty: no spool",
  },
  spoolMaxBytes: int({
    flag: "spool-max-bytes",
    env: "SPOOL_MAX_BYTES",
    default: 1024 * 1024 * 1024,
    min: 1024 * 1024,
    help: "bytes the spool may hold; when it is full, spooling routes take no new messages (no PUBACK) until Kafka takes spooled ones",
  }),
  spoolMode: {
    kind: "enum",
    flag: "spool-mode",
    env: "SPOOL_MODE",
    values: ["off", "outage", "always"] as const,
    default: "outage",
    help: "with --spool-dir: outage spools only while Kafka is unavailable or slower than the input, always spools every message, off ignores the spool",
  },
  keepSharedSessions: { kind: "flag", flag: "keep-shared-sessions", env: "MQTT_KEEP_SHARED_SESSIONS", default: false, help: "on stop, keep shared-subscription sessions instead of leaving the group" },
} as const satisfies Record<string, OptionSpec>;

export type RuntimeOptionName = keyof typeof RUNTIME_OPTIONS;

type ValueOf<S> = S extends { kind: "int" } ? number : S extends { kind: "flag" } ? boolean : S extends { kind: "enum"; values: readonly (infer V)[] } ? V : string;

/** Every option with its value, after flags, environment and defaults. */
export type RuntimeValues = { -readonly [K in RuntimeOptionName]: ValueOf<(typeof RUNTIME_OPTIONS)[K]> };

/** Bad usage: names the flag (and the environment variable), the value and what is allowed. */
export class UsageError extends Error {}

function parseOne(name: RuntimeOptionName, raw: string | boolean): RuntimeValues[RuntimeOptionName] {
  const o: OptionSpec = RUNTIME_OPTIONS[name];
  const where = `--${o.flag} (env ${o.env})`;
  switch (o.kind) {
    case "flag":
      return raw === true || raw === "true";
    case "int": {
      const n = Number(raw);
      if (raw === "" || !Number.isInteger(n) || n < o.min) throw new UsageError(`${where} must be an integer >= ${o.min}, got ${JSON.stringify(raw)}`);
      return n;
    }
    case "enum":
      if (typeof raw !== "string" || !o.values.includes(raw)) throw new UsageError(`${where} must be one of ${o.values.join(", ")}, got ${JSON.stringify(raw)}`);
      return raw;
    case "text":
      if (typeof raw !== "string" || raw === "") throw new UsageError(`${where} must not be empty`);
      return raw;
  }
}

/**
 * Each option from its flag, else its environment variable, else `fallback` (values the caller
 * knows better, e.g. spec.logLevel), else the table's default.
 */
export function resolveRuntime(flags: Partial<Record<string, string | boolean | string[]>>, env: NodeJS.ProcessEnv, fallback: Partial<RuntimeValues> = {}): RuntimeValues {
  const out: Partial<Record<RuntimeOptionName, RuntimeValues[RuntimeOptionName]>> = {};
  for (const name of Object.keys(RUNTIME_OPTIONS) as RuntimeOptionName[]) {
    const o = RUNTIME_OPTIONS[name];
    const flag = flags[o.flag];
    const raw = (Array.isArray(flag) ? flag.at(-1) : flag) ?? env[o.env];
    out[name] = raw !== undefined && raw !== "" ? parseOne(name, raw) : (fallback[name] ?? o.default);
  }
  return out as RuntimeValues;
}

/** `node:util` parseArgs option declarations for the table's flags. */
export function parseArgsOptions(): Record<string, { type: "string" | "boolean" }> {
  return Object.fromEntries(Object.values(RUNTIME_OPTIONS).map((o: OptionSpec) => [o.flag, { type: o.kind === "flag" ? "boolean" : "string" }]));
}

/** The options part of the usage text. */
export function optionsUsage(): string {
  return Object.values(RUNTIME_OPTIONS)
    .map((o: OptionSpec) => {
      const arg = o.kind === "flag" ? "" : o.kind === "enum" ? ` ${o.values.join("|")}` : o.kind === "int" ? " N" : " VALUE";
      const dflt = o.kind === "flag" ? "" : `; default ${String(o.default)}`;
      return `  --${o.flag}${arg}\n      ${o.help} (env ${o.env}${dflt})`;
    })
    .join("\n");
}

/**
 * The container environment for options a component sets, from typed values (component args).
 * Options the pod sets itself are refused, so the instance index and probes stay right.
 */
export function runtimeEnvironment(values: Partial<RuntimeValues>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(values) as [RuntimeOptionName, RuntimeValues[RuntimeOptionName] | undefined][]) {
    if (value === undefined) continue;
    const o: OptionSpec | undefined = RUNTIME_OPTIONS[name];
    if (!o) throw new UsageError(`runtime.${name}: unknown option (known: ${Object.keys(RUNTIME_OPTIONS).join(", ")})`);
    if (o.podManaged) throw new UsageError(`runtime.${name}: set by the component itself`);
    try {
      parseOne(name, typeof value === "boolean" ? value : String(value)); // same bounds as the CLI
    } catch (e) {
      throw new UsageError(`runtime.${name}: ${(e as Error).message}`);
    }
    env[o.env] = String(value);
  }
  return env;
}
