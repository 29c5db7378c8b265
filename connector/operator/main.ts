/**
 * `mqtt-kafka-connector operator`: watches KafkaConnectors and keeps each one's workload applied
 * until SIGTERM or SIGINT.
 */
import { hostname } from "node:os";
import type { Server } from "node:http";
import { startHttpServer } from "../http-server";
import { createLogger, type Logger } from "../logger";
import { apiErrorMessage, apiStatus, kube, loadKubeConfig } from "../k8s/kube";
import type { KubeConfig } from "@kubernetes/client-node";
import { API_GROUP, API_VERSION } from "../config/schema";
import { serverSideApplier } from "./apply";
import { Controller } from "./controller";
import { FlagError, parseOperatorFlags, USAGE, type OperatorOptions } from "./flags";
import { apiReporter } from "./report";
import { ConnectorWatch } from "./watch";

/** As the connector's CLI: 0 ok, 2 configuration (flag values), 3 startup, 64 usage. */
export const OPERATOR_EXIT = { ok: 0, config: 2, startup: 3, usage: 64 } as const;

/** Time the reconciles in flight get to finish after a signal. */
const STOP_TIMEOUT_MS = 10_000;

export async function runOperator(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let opts: OperatorOptions;
  try {
    const parsed = parseOperatorFlags(argv, env);
    if (parsed === "help") {
      process.stdout.write(`${USAGE}\n`);
      return OPERATOR_EXIT.ok;
    }
    opts = parsed;
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`${e.message}\n`);
      return OPERATOR_EXIT.config;
    }
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return OPERATOR_EXIT.usage;
  }
  const log = createLogger(opts.logLevel, { component: "operator" });
  // Listening from here on: a SIGTERM during the start still ends in a clean exit 0.
  const signal = untilSignal();
  try {
    return await operate(opts, env, log, signal.received);
  } finally {
    signal.dispose();
  }
}

async function operate(opts: OperatorOptions, env: NodeJS.ProcessEnv, log: Logger, stopSignal: Promise<NodeJS.Signals>): Promise<number> {
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig();
  } catch (e) {
    log.fatal({ err: (e as Error).message }, "no Kubernetes API");
    return OPERATOR_EXIT.startup;
  }
  const refused = await accessProblem(kc, opts.namespace);
  if (refused) {
    log.fatal({ err: refused, namespace: opts.namespace ?? "*" }, "cannot list KafkaConnectors");
    return OPERATOR_EXIT.startup;
  }

  const controller = new Controller({ applier: serverSideApplier(kc), reporter: apiReporter(kc, env["POD_NAME"] || hostname()), defaults: opts.defaults, log });
  const watch = new ConnectorWatch(kc, opts.namespace, controller, log);
  let server: Server | undefined;
  if (opts.httpPort > 0) {
    try {
      server = await startHttpServer(opts.httpPort, { ready: () => watch.healthy });
    } catch (e) {
      log.fatal({ err: (e as Error).message, port: opts.httpPort }, "cannot serve /healthz");
      return OPERATOR_EXIT.startup;
    }
  }
  watch.start();
  const resync = setInterval(() => controller.resync(watch.objects()), opts.resyncMs);
  log.info({ namespace: opts.namespace ?? "*", resyncSeconds: opts.resyncMs / 1000, httpPort: opts.httpPort }, "operator started");

  const signal = await stopSignal;
  log.info({ signal }, "stopping");
  clearInterval(resync);
  watch.stop();
  await Promise.race([controller.stop(), new Promise((r) => setTimeout(r, STOP_TIMEOUT_MS).unref())]);
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  log.info("operator stopped");
  return OPERATOR_EXIT.ok;
}

function untilSignal(): { received: Promise<NodeJS.Signals>; dispose(): void } {
  let on: (s: NodeJS.Signals) => void = () => undefined;
  const received = new Promise<NodeJS.Signals>((resolve) => {
    on = (s) => resolve(s);
    process.on("SIGTERM", on);
    process.on("SIGINT", on);
  });
  return {
    received,
    dispose() {
      process.off("SIGTERM", on);
      process.off("SIGINT", on);
    },
  };
}

/**
 * A missing CRD or missing rights will not fix themselves by retrying: they stop the start with
 * the API's message. Anything else (the API server restarting) is the watch's to retry.
 */
async function accessProblem(kc: KubeConfig, namespace: string | undefined): Promise<string | undefined> {
  const api = kc.makeApiClient(kube().CustomObjectsApi);
  const base = { group: API_GROUP, version: API_VERSION, plural: "kafkaconnectors", limit: 1 };
  try {
    await (namespace ? api.listNamespacedCustomObject({ ...base, namespace }) : api.listClusterCustomObject(base));
    return undefined;
  } catch (e) {
    const status = apiStatus(e);
    if (status === 401 || status === 403) return `${apiErrorMessage(e)} (check the operator's ClusterRole, or its Role with --namespace)`;
    if (status === 404) return `${apiErrorMessage(e)} (are the CRDs installed? kubectl apply -k deploy/)`;
    return undefined;
  }
}

