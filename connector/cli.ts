#!/usr/bin/env node
import { parseArgs } from "node:util";
import { loadConnectorConfig, type ConnectorConfig } from "./config/load";
import { ConfigError, ConnectorError } from "./core/errors";
import { optionsUsage, parseArgsOptions, resolveRuntime, UsageError, type RuntimeValues } from "./config/runtime-options";
import { routeSubscription, describeSubscription } from "./config/subscription";
import { Connector } from "./connector";
import { runtimeFromValues } from "./lifecycle/runtime";
import { createLogger, type Logger } from "./logger";
import { startHttpServer } from "./http-server";
import { podOrdinal } from "./instance";
import { watchConfig } from "./config/watch";
import { runChecks, formatReport } from "./check";
import { applyHeapGrowth } from "./heap-growth";
import { drainOnSignal, EXIT } from "./lifecycle/signals";
import { isK8sSource, parseK8sSource, readConnectorConfig, type ResourceRef } from "./k8s/config-source";
import { runFromCustomResources } from "./k8s/run";
import { runOperator } from "./operator/main";

export { EXIT };

const USAGE = `usage: mqtt-kafka-connector --config <file|dir|k8s://NAMESPACE/NAME> [--config ...] [options]
       mqtt-kafka-connector check --config <file|dir|k8s://NAMESPACE/NAME> [--connector NAME] [--secrets-dir DIR]
       mqtt-kafka-connector operator [--namespace NS] [options]   (see \`operator --help\`)

Runs one KafkaConnector and the KafkaConnectorTopicMaps that reference it. \`check\` validates the
configuration, connects to both brokers with the real credentials, checks every Kafka topic and MQTT
subscription, prints a report and exits non-zero on any problem.

  --config PATH
      YAML file or directory of YAML files (repeatable), or k8s://NAMESPACE/NAME: read that
      KafkaConnector and its topic maps from the Kubernetes API (KUBECONFIG, ~/.kube/config or the
      pod's service account), follow their changes and write their status
  --connector NAME
      which KafkaConnector to run when several are given
${optionsUsage()}
  --no-watch
      do not reload topic maps when the config files change
  --validate
      validate the configuration, say how each route subscribes, and exit
  -h, --help
      this text

exit codes: 0 ok, 1 drain did not complete, 2 invalid configuration, 3 startup failed (check: a check failed), 64 bad usage`;

interface Invocation {
  mode: "run" | "check" | "validate";
  paths: string[];
  connectorName?: string;
  watch: boolean;
  /** Loaded from files; from the API (k8s), it is read later. */
  config?: ConnectorConfig;
  k8s?: ResourceRef;
  logLevelFixed: boolean;
  values: RuntimeValues;
}

type Parsed = { ok: true; inv: Invocation } | { ok: false; code: number };

function fail(code: number, text: string): Parsed {
  process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
  return { ok: false, code };
}

function configErrorText(e: ConfigError): string {
  const lines = e.problems.map((p) => `config error: ${p.document}: ${p.path || "(document)"}: ${p.message}\n`).join("");
  return `${lines}${e.problems.length} problem${e.problems.length === 1 ? "" : "s"}; nothing was started`;
}

/** Flags, environment and configuration; every problem is reported here, before anything connects. */
function parseInvocation(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  const isCheck = argv[0] === "check";
  let flags;
  try {
    flags = parseArgs({
      args: isCheck ? argv.slice(1) : argv,
      options: { ...parseArgsOptions(), config: { type: "string", multiple: true }, connector: { type: "string" }, "no-watch": { type: "boolean" }, validate: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    }).values;
  } catch (e) {
    return fail(EXIT.usage, `${(e as Error).message}\n\n${USAGE}`);
  }
  if (flags.help) {
    process.stdout.write(USAGE + "\n");
    return { ok: false, code: EXIT.ok };
  }
  if (!flags.config?.length) return fail(EXIT.usage, `--config is required\n\n${USAGE}`);
  const fromApi = flags.config.filter(isK8sSource);
  if (fromApi.length && (flags.config.length > 1 || flags.connector)) return fail(EXIT.usage, `--config k8s://... names one KafkaConnector: give it alone, without other --config or --connector\n\n${USAGE}`);
  try {
    const k8s = fromApi.length ? parseK8sSource(fromApi[0]!, env) : undefined;
    const config = k8s ? undefined : loadConnectorConfig(flags.config, flags.connector);
    const ordinal = podOrdinal(env);
    const values = resolveRuntime(flags, env, { ...(config ? { logLevel: config.connector.spec.logLevel } : {}), ...(ordinal !== undefined ? { instanceIndex: ordinal } : {}) });
    const logLevelFixed = (flags as Record<string, unknown>)["log-level"] !== undefined || !!env["LOG_LEVEL"];
    const mode = isCheck ? "check" : flags.validate ? "validate" : "run";
    return { ok: true, inv: { mode, paths: flags.config, ...(flags.connector ? { connectorName: flags.connector } : {}), watch: !flags["no-watch"], ...(config ? { config } : {}), ...(k8s ? { k8s } : {}), logLevelFixed, values } };
  } catch (e) {
    if (e instanceof ConfigError) return fail(EXIT.config, configErrorText(e));
    return fail(e instanceof UsageError ? EXIT.usage : EXIT.config, (e as Error).message);
  }
}

function printValidation(config: ConnectorConfig): void {
  const routes = config.topicMaps.reduce((n, m) => n + m.spec.routes.length, 0);
  process.stdout.write(`configuration valid: KafkaConnector/${config.connector.metadata.name} with ${config.topicMaps.length} topic map(s), ${routes} route(s)\n`);
  const { name } = config.connector.metadata;
  const { instances } = config.connector.spec;
  for (const m of config.topicMaps) {
    for (const r of m.spec.routes) {
      if (r.mqttToKafka) process.stdout.write(`  ${m.metadata.name}/${r.mqttToKafka.name}: ${describeSubscription(routeSubscription(r.mqttToKafka, name, instances), instances)}\n`);
    }
  }
}

/** Hot reload: topic maps apply without a restart; a changed KafkaConnector needs one. */
function watchTopicMaps(inv: Invocation, config: ConnectorConfig, connector: Connector, log: Logger): { close(): void } | undefined {
  if (!inv.watch) return undefined;
  const connectorJson = JSON.stringify(config.connector.spec);
  return watchConfig(inv.paths, () => {
    if (connector.state !== "running") return;
    let next;
    try {
      next = loadConnectorConfig(inv.paths, config.connector.metadata.name);
    } catch (e) {
      connector.metrics.configReloads.inc({ result: "rejected" });
      const problems = e instanceof ConfigError ? e.problems.map((p) => `${p.document}: ${p.path || "(document)"}: ${p.message}`) : [(e as Error).message];
      log.error({ problems }, "new configuration rejected; the running configuration stays");
      return;
    }
    if (JSON.stringify(next.connector.spec) !== connectorJson) log.warn("KafkaConnector changed; connection settings apply on the next restart, topic maps now");
    connector.reload(next.topicMaps).then(
      () => connector.metrics.configReloads.inc({ result: "applied" }),
      (e: unknown) => {
        connector.metrics.configReloads.inc({ result: "rejected" });
        log.error({ err: (e as Error).message }, "topic map reload failed; routes that were running keep running");
      },
    );
  });
}

async function runConnector(inv: Invocation, config: ConnectorConfig): Promise<number> {
  const v = inv.values;
  const log = createLogger(v.logLevel, { connector: config.connector.metadata.name, instance: v.instanceIndex });
  let connector: Connector;
  try {
    connector = new Connector(config, runtimeFromValues(v), log);
  } catch (e) {
    log.fatal({ err: (e as Error).message }, "cannot start");
    process.stderr.write(`${(e as Error).message}\n`);
    return e instanceof ConnectorError && e.code === "CONFIG_INVALID" ? EXIT.config : EXIT.startup;
  }
  const server =
    v.httpPort > 0
      ? await startHttpServer(v.httpPort, {
          ready: () => connector.ready,
          detail: () => connector.routeStates(),
          metrics: async () => {
            connector.refreshGauges();
            return { contentType: connector.metrics.registry.contentType, body: await connector.metrics.registry.metrics() };
          },
        })
      : undefined;
  const watcher = watchTopicMaps(inv, config, connector, log);
  const { stopped, signalled } = drainOnSignal(() => connector.stop(v.drainTimeoutSeconds * 1000), log);
  try {
    await connector.start();
  } catch (e) {
    if (!signalled()) {
      log.fatal({ err: (e as Error).message, code: (e as ConnectorError).code }, "startup failed");
      process.stderr.write(`startup failed: ${(e as Error).message}\n`);
      await connector.stop(5000);
      watcher?.close();
      server?.close();
      return EXIT.startup;
    }
  }
  const code = await stopped;
  watcher?.close();
  server?.close();
  return code;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv[0] === "operator") return runOperator(argv.slice(1), env);
  const parsed = parseInvocation(argv, env);
  if (!parsed.ok) return parsed.code;
  const { inv } = parsed;
  if (inv.k8s && inv.mode === "run") {
    return runFromCustomResources({ ref: inv.k8s, values: inv.values, logLevelFixed: inv.logLevelFixed, env });
  }
  let config = inv.config;
  if (!config && inv.k8s) {
    try {
      config = await readConnectorConfig(inv.k8s, createLogger(inv.values.logLevel));
    } catch (e) {
      process.stderr.write(e instanceof ConfigError ? `${configErrorText(e)}\n` : `${(e as Error).message}\n`);
      return EXIT.config;
    }
  }
  if (!config) return EXIT.config;
  if (inv.mode === "check") {
    const lines = await runChecks(config, inv.values.secretsDir);
    process.stdout.write(formatReport(lines));
    return lines.every((l) => l.ok) ? EXIT.ok : EXIT.startup;
  }
  if (inv.mode === "validate") {
    printValidation(config);
    return EXIT.ok;
  }
  return runConnector(inv, config);
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
