#!/usr/bin/env node
import { parseArgs } from "node:util";
import { loadConnectorConfig } from "./config/load";
import { ConfigError, ConnectorError } from "./core/errors";
import { LOG_LEVELS, type LogLevel } from "./config/schema";
import { Connector, DEFAULT_RUNTIME, type RuntimeOptions } from "./connector";
import { createLogger } from "./logger";
import { startHttpServer } from "./http-server";
import { resolveInstanceIndex } from "./instance";
import { watchConfig } from "./config/watch";
import { runChecks, formatReport } from "./check";
import { applyHeapGrowth } from "./heap-growth";
import { routeSubscription, describeSubscription } from "./config/subscription";

export const EXIT = { ok: 0, drainIncomplete: 1, config: 2, startup: 3, usage: 64 } as const;

const USAGE = `usage: mqtt-kafka-connector --config <file|dir> [--config ...] [options]
       mqtt-kafka-connector check --config <file|dir> [--connector NAME] [--secrets-dir DIR]

Runs one KafkaConnector and the KafkaConnectorTopicMaps that reference it. \`check\` validates the
configuration, connects to both brokers with the real credentials, checks every Kafka topic and MQTT
subscription, prints a report and exits non-zero on any problem.

options:
  --config PATH            YAML file or directory of YAML files (repeatable)
  --connector NAME         which KafkaConnector to run when several are given
  --secrets-dir DIR        where Secrets/ConfigMaps are mounted as DIR/<name>/<key>
                           (default /var/run/secrets/mqtt-kafka-connector, env SECRETS_DIR)
  --instance N             instance index (env CONNECTOR_INSTANCE_INDEX, or the POD_NAME ordinal)
  --http-port N            /healthz, /readyz and /metrics (default 8080, env HTTP_PORT; 0 disables)
  --log-level LEVEL        overrides spec.logLevel (env LOG_LEVEL)
  --receive-maximum N      MQTT Receive Maximum per subscription client (default ${DEFAULT_RUNTIME.receiveMaximum}, env MQTT_RECEIVE_MAXIMUM)
  --kafka-to-mqtt-connections N  MQTT connections each kafkaToMqtt route publishes on, one per partition
                           at most (default ${DEFAULT_RUNTIME.kafkaToMqttConnections}, env KAFKA_TO_MQTT_CONNECTIONS); the broker's
                           Receive Maximum applies per connection
  --max-buffered-bytes N   QoS 0 messages waiting for Kafka beyond this are shed (default ${DEFAULT_RUNTIME.maxBufferedBytes},
                           env MAX_BUFFERED_BYTES; each message counts its record plus 512 bytes);
                           QoS 1 is bounded by --receive-maximum instead
  --session-expiry S       MQTT session expiry in seconds (default ${DEFAULT_RUNTIME.sessionExpirySeconds}, env MQTT_SESSION_EXPIRY_SECONDS)
  --offset-reset WHERE     earliest|latest: where a new consumer group starts (default ${DEFAULT_RUNTIME.offsetReset}, env KAFKA_OFFSET_RESET)
  --kafka-session-timeout-ms N  consumer group session timeout (default 10000, env KAFKA_SESSION_TIMEOUT_MS)
  --commit-interval-ms N   Kafka offset commit interval (default ${DEFAULT_RUNTIME.commitIntervalMs}, min 250, env KAFKA_COMMIT_INTERVAL_MS)
  --drain-timeout S        seconds to drain on SIGTERM/SIGINT (default 30, env DRAIN_TIMEOUT_SECONDS)
  --keep-shared-sessions   on stop, keep shared-subscription sessions instead of leaving the group
                           (env MQTT_KEEP_SHARED_SESSIONS=true)
  --no-watch               do not reload topic maps when the config files change
  --validate               validate the configuration and exit
  -h, --help               this text

exit codes: 0 ok, 1 drain did not complete, 2 invalid configuration, 3 startup failed (check: a check failed)`;

function intOption(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new ConnectorError("USAGE", `--${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const isCheck = argv[0] === "check";
  if (isCheck) argv = argv.slice(1);
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        config: { type: "string", multiple: true },
        connector: { type: "string" },
        "secrets-dir": { type: "string" },
        instance: { type: "string" },
        "http-port": { type: "string" },
        "log-level": { type: "string" },
        "receive-maximum": { type: "string" },
        "kafka-to-mqtt-connections": { type: "string" },
        "max-buffered-bytes": { type: "string" },
        "session-expiry": { type: "string" },
        "offset-reset": { type: "string" },
        "commit-interval-ms": { type: "string" },
        "kafka-session-timeout-ms": { type: "string" },
        "drain-timeout": { type: "string" },
        "keep-shared-sessions": { type: "boolean" },
        "no-watch": { type: "boolean" },
        validate: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (args.help) {
    process.stdout.write(USAGE + "\n");
    return EXIT.ok;
  }
  if (!args.config?.length) {
    process.stderr.write(`--config is required\n\n${USAGE}\n`);
    return EXIT.usage;
  }

  let config;
  let runtime: RuntimeOptions;
  let httpPort: number;
  let drainMs: number;
  let level: LogLevel;
  try {
    config = loadConnectorConfig(args.config, args.connector);
    const levelRaw = args["log-level"] ?? env["LOG_LEVEL"] ?? config.connector.spec.logLevel;
    if (!(LOG_LEVELS as readonly string[]).includes(levelRaw)) throw new ConnectorError("USAGE", `--log-level must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(levelRaw)}`);
    level = levelRaw as LogLevel;
    const offsetReset = args["offset-reset"] ?? env["KAFKA_OFFSET_RESET"] ?? DEFAULT_RUNTIME.offsetReset;
    if (offsetReset !== "earliest" && offsetReset !== "latest") throw new ConnectorError("USAGE", `--offset-reset must be earliest or latest, got ${JSON.stringify(offsetReset)}`);
    runtime = {
      ...DEFAULT_RUNTIME,
      instanceIndex: resolveInstanceIndex(args.instance, env),
      secretsDir: args["secrets-dir"] ?? env["SECRETS_DIR"] ?? "/var/run/secrets/mqtt-kafka-connector",
      receiveMaximum: intOption("receive-maximum", args["receive-maximum"] ?? env["MQTT_RECEIVE_MAXIMUM"], DEFAULT_RUNTIME.receiveMaximum, 1),
      kafkaToMqttConnections: intOption("kafka-to-mqtt-connections", args["kafka-to-mqtt-connections"] ?? env["KAFKA_TO_MQTT_CONNECTIONS"], DEFAULT_RUNTIME.kafkaToMqttConnections, 1),
      maxBufferedBytes: intOption("max-buffered-bytes", args["max-buffered-bytes"] ?? env["MAX_BUFFERED_BYTES"], DEFAULT_RUNTIME.maxBufferedBytes, 1024),
      sessionExpirySeconds: intOption("session-expiry", args["session-expiry"] ?? env["MQTT_SESSION_EXPIRY_SECONDS"], DEFAULT_RUNTIME.sessionExpirySeconds, 0),
      offsetReset,
      commitIntervalMs: intOption("commit-interval-ms", args["commit-interval-ms"] ?? env["KAFKA_COMMIT_INTERVAL_MS"], DEFAULT_RUNTIME.commitIntervalMs, 250),
      sessionTimeoutMs: intOption("kafka-session-timeout-ms", args["kafka-session-timeout-ms"] ?? env["KAFKA_SESSION_TIMEOUT_MS"], DEFAULT_RUNTIME.sessionTimeoutMs, 6000),
      leaveSharedOnStop: !(args["keep-shared-sessions"] ?? env["MQTT_KEEP_SHARED_SESSIONS"] === "true"),
    };
    httpPort = intOption("http-port", args["http-port"] ?? env["HTTP_PORT"], 8080, 0);
    drainMs = 1000 * intOption("drain-timeout", args["drain-timeout"] ?? env["DRAIN_TIMEOUT_SECONDS"], 30, 0);
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const p of e.problems) process.stderr.write(`config error: ${p.document}: ${p.path || "(document)"}: ${p.message}\n`);
      process.stderr.write(`${e.problems.length} problem${e.problems.length === 1 ? "" : "s"}; nothing was started\n`);
      return EXIT.config;
    }
    process.stderr.write(`${(e as Error).message}\n`);
    return e instanceof ConnectorError && e.code === "USAGE" ? EXIT.usage : EXIT.config;
  }
  if (isCheck) {
    const lines = await runChecks(config, runtime.secretsDir);
    process.stdout.write(formatReport(lines));
    return lines.every((l) => l.ok) ? EXIT.ok : EXIT.startup;
  }
  if (args.validate) {
    const routes = config.topicMaps.reduce((n, m) => n + m.spec.routes.length, 0);
    process.stdout.write(`configuration valid: KafkaConnector/${config.connector.metadata.name} with ${config.topicMaps.length} topic map(s), ${routes} route(s)\n`);
    const { name } = config.connector.metadata;
    const { instances } = config.connector.spec;
    for (const m of config.topicMaps) {
      for (const r of m.spec.routes) {
        if (r.mqttToKafka) process.stdout.write(`  ${m.metadata.name}/${r.mqttToKafka.name}: ${describeSubscription(routeSubscription(r.mqttToKafka, name, instances), instances)}\n`);
      }
    }
    return EXIT.ok;
  }

  const log = createLogger(level, { connector: config.connector.metadata.name, instance: runtime.instanceIndex });
  let connector: Connector;
  try {
    connector = new Connector(config, runtime, log);
  } catch (e) {
    log.fatal({ err: (e as Error).message }, "cannot start");
    process.stderr.write(`${(e as Error).message}\n`);
    return e instanceof ConnectorError && e.code === "CONFIG_INVALID" ? EXIT.config : EXIT.startup;
  }
  const server =
    httpPort > 0
      ? await startHttpServer(httpPort, {
          ready: () => connector.ready,
          detail: () => connector.routeStates(),
          metrics: async () => {
            connector.refreshGauges();
            return { contentType: connector.metrics.registry.contentType, body: await connector.metrics.registry.metrics() };
          },
        })
      : undefined;

  // Hot reload: topic maps apply without a restart; a changed KafkaConnector needs one.
  const configPaths = args.config;
  const connectorJson = JSON.stringify(config.connector.spec);
  const watcher = args["no-watch"]
    ? undefined
    : watchConfig(configPaths, () => {
        if (connector.state !== "running") return;
        let next;
        try {
          next = loadConnectorConfig(configPaths, config.connector.metadata.name);
        } catch (e) {
          connector.metrics.configReloads.inc({ result: "rejected" });
          const problems = e instanceof ConfigError ? e.problems.map((p) => `${p.document}: ${p.path || "(document)"}: ${p.message}`) : [(e as Error).message];
          log.error({ problems }, "new configuration rejected; the running configuration stays");
          return;
        }
        if (JSON.stringify(next.connector.spec) !== connectorJson) {
          log.warn("KafkaConnector changed; connection settings apply on the next restart, topic maps now");
        }
        connector.reload(next.topicMaps).then(
          () => connector.metrics.configReloads.inc({ result: "applied" }),
          (e: unknown) => {
            connector.metrics.configReloads.inc({ result: "rejected" });
            log.error({ err: (e as Error).message }, "topic map reload failed; routes that were running keep running");
          },
        );
      });

  let signalled = false;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      if (signalled) return;
      signalled = true;
      log.info({ signal: sig }, "draining");
      void connector.stop(drainMs).then((ok) => resolve(ok ? EXIT.ok : EXIT.drainIncomplete));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });

  try {
    await connector.start();
  } catch (e) {
    if (!signalled) {
      log.fatal({ err: (e as Error).message, code: (e as ConnectorError).code }, "startup failed");
      process.stderr.write(`startup failed: ${(e as Error).message}\n`);
      await connector.stop(5000);
      server?.close();
      return EXIT.startup;
    }
  }
  const code = await stopped;
  watcher?.close();
  server?.close();
  return code;
}

if (require.main === module) {
  applyHeapGrowth();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // kafkajs and mqtt.js may keep sockets around briefly; do not let them hold the exit.
      setTimeout(() => process.exit(code), 500).unref();
    },
    (e: unknown) => {
      process.stderr.write(`fatal: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(EXIT.startup);
    },
  );
}
