/**
 * `--config k8s://<namespace>/<name>`: the connector runs from its custom resources, follows
 * their changes, and (one instance at a time) writes their status.
 */
import { hostname } from "node:os";
import type { RuntimeValues } from "../config/runtime-options";
import { startHttpServer } from "../http-server";
import { LastErrors } from "../lifecycle/last-errors";
import { runtimeFromValues } from "../lifecycle/runtime";
import { drainOnSignal, EXIT } from "../lifecycle/signals";
import { createLogger } from "../logger";
import type { ResourceRef } from "./config-source";
import { loadKubeConfig } from "./kube";
import { StatusWriter } from "./status-writer";
import { RateMeter, statusTargets } from "./status-targets";
import { Supervisor } from "./supervisor";

export interface K8sRunOptions {
  ref: ResourceRef;
  values: RuntimeValues;
  /** --log-level or LOG_LEVEL was given, so the resource's logLevel does not apply. */
  logLevelFixed: boolean;
  env: NodeJS.ProcessEnv;
  /** Status lease duration and refresh (tests shorten them). */
  leaseSeconds?: number;
  statusIntervalMs?: number;
}

export async function runFromCustomResources(o: K8sRunOptions): Promise<number> {
  const v = o.values;
  const lastErrors = new LastErrors();
  const log = createLogger(v.logLevel, { connector: o.ref.name, namespace: o.ref.namespace, instance: v.instanceIndex }, (route, message) => lastErrors.record(route, message));
  let kc;
  try {
    kc = loadKubeConfig();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return EXIT.config;
  }
  const identity = `${o.env["POD_NAME"] || hostname()}-${process.pid}`;
  let writer: StatusWriter | undefined;
  const supervisor = new Supervisor({ ref: o.ref, kc, runtime: runtimeFromValues(v), log, logLevelFixed: o.logLevelFixed, drainMs: v.drainTimeoutSeconds * 1000, onChange: () => writer?.poke() });
  const rates = new RateMeter();
  writer = new StatusWriter(
    kc,
    { namespace: o.ref.namespace, connectorName: o.ref.name, identity, instanceIndex: v.instanceIndex, leaseSeconds: o.leaseSeconds ?? 15, intervalMs: o.statusIntervalMs ?? 5_000, minWriteMs: 2_000, log },
    {
      instances: () => supervisor.desired?.config?.connector.spec.instances ?? 1,
      ready: () => supervisor.ready,
      targets: (ready, previous) => statusTargets({ supervisor, lastErrors, rates, identity }, ready, previous),
    },
  );
  const server =
    v.httpPort > 0
      ? await startHttpServer(v.httpPort, {
          ready: () => supervisor.ready,
          detail: () => supervisor.connector?.routeStates() ?? {},
          metrics: async () => {
            const c = supervisor.connector;
            if (!c) return { contentType: "text/plain; version=0.0.4", body: "" };
            c.refreshGauges();
            return { contentType: c.metrics.registry.contentType, body: await c.metrics.registry.metrics() };
          },
        })
      : undefined;
  const w = writer;
  const { stopped } = drainOnSignal(async () => {
    const drained = await supervisor.stop();
    await w.stop();
    return drained;
  }, log);
  w.start();
  await supervisor.start().catch((e: unknown) => log.error({ err: (e as Error).message }, "reading the custom resources failed"));
  const code = await stopped;
  server?.close();
  return code;
}
