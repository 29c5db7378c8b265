/**
 * Runs the connector from its custom resources. Topic map changes go through Connector.reload
 * (only changed routes restart); a KafkaConnector change that needs new connections drains the
 * running connector and starts a new one in the same process; a logLevel change applies at once.
 * Every step is serialized, and what cannot be applied is kept for status rather than thrown.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { Connector } from "../connector";
import type { KafkaConnectorResource, LogLevel } from "../config/schema";
import { backoffMs } from "../core/backoff";
import { setLogLevel, type Logger } from "../logger";
import type { RuntimeOptions } from "../lifecycle/runtime";
import { CustomResources, type ResourceRef } from "./config-source";
import { resolveDesired, type Desired } from "./desired";
import { formatProblem } from "../core/errors";
import { applyMaps, type AppliedMap } from "./apply-maps";

export interface SupervisorOptions {
  ref: ResourceRef;
  kc: KubeConfig;
  runtime: RuntimeOptions;
  log: Logger;
  /** --log-level or LOG_LEVEL was given: it wins over the resource's logLevel. */
  logLevelFixed: boolean;
  drainMs: number;
  /** Called after every change of what runs or why not (status writes follow it). */
  onChange?: () => void;
}

export class Supervisor {
  connector: Connector | undefined;
  desired: Desired | undefined;
  /** Topic maps the running connector has, by uid: the generation applied, or why the newest was not. */
  readonly applied = new Map<string, AppliedMap>();
  /** Why the newest KafkaConnector does not run, when it was valid but could not start. */
  connectorError: string | undefined;
  readonly resources: CustomResources;
  private runningSpec: KafkaConnectorResource["spec"] | undefined;
  private queue: Promise<void> = Promise.resolve();
  private debounce: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private attempts = 0;
  private stopping = false;
  private readonly logged = new Set<string>();

  constructor(private readonly o: SupervisorOptions) {
    this.resources = new CustomResources(o.kc, o.ref, o.log, () => this.schedule(200));
  }

  /** Connected, and every accepted topic map runs some generation (a rollout stops at a pod that cannot apply them). */
  get ready(): boolean {
    if (!this.connector?.ready || this.connectorError) return false;
    return [...(this.desired?.accepted.maps.keys() ?? [])].every((uid) => this.applied.get(uid)?.generation !== undefined);
  }

  /** Resolves once the resources are listed (the connector starts as soon as they allow). */
  async start(): Promise<void> {
    this.o.log.info({ source: `k8s://${this.o.ref.namespace}/${this.o.ref.name}` }, "reading the custom resources");
    await this.resources.start();
    this.schedule(0);
  }

  async stop(): Promise<boolean> {
    this.stopping = true;
    clearTimeout(this.debounce);
    clearTimeout(this.retry);
    this.resources.stop();
    const current = this.connector;
    // A start in progress is aborted by stop(); queued steps see `stopping` and do nothing.
    const drained = current ? current.stop(this.o.drainMs) : Promise.resolve(true);
    await this.queue;
    return drained;
  }

  private schedule(ms: number): void {
    if (this.stopping) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.queue = this.queue.then(() => this.converge()).catch((e: unknown) => this.o.log.error({ err: (e as Error).message }, "applying the custom resources failed"));
    }, ms);
  }

  private retryLater(): void {
    clearTimeout(this.retry);
    const delay = backoffMs(this.attempts++, 2_000, 30_000);
    this.retry = setTimeout(() => this.schedule(0), delay);
    this.retry.unref();
  }

  private async converge(): Promise<void> {
    if (this.stopping) return;
    const d = resolveDesired(this.o.ref.name, this.resources.connector(), this.resources.maps(), this.desired?.accepted ?? { maps: new Map() });
    this.desired = d;
    this.report(d);
    if (!d.config) {
      this.o.onChange?.();
      return;
    }
    const spec = d.config.connector.spec;
    if (!this.connector || connectionsDiffer(this.runningSpec, spec)) await this.replaceConnector(d.config.connector, d.accepted.connector?.generation);
    else if (this.runningSpec?.logLevel !== spec.logLevel) this.applyLogLevel(spec.logLevel);
    const c = this.connector;
    if (c?.state === "running") {
      const outcome = await applyMaps(c, d, this.applied, this.o.log);
      if (outcome.failed) this.retryLater();
      else this.attempts = 0;
    }
    this.o.onChange?.();
  }

  private applyLogLevel(level: LogLevel): void {
    if (this.runningSpec) this.runningSpec = { ...this.runningSpec, logLevel: level };
    if (this.o.logLevelFixed) return;
    setLogLevel(this.o.log, level);
    this.o.log.info({ logLevel: level }, "log level changed");
  }

  /** Drains the running connector (if any) and starts one for `resource`, with no routes until maps are applied. */
  private async replaceConnector(resource: KafkaConnectorResource, generation: number | undefined): Promise<void> {
    const old = this.connector;
    if (old) {
      this.o.log.info({ generation }, "KafkaConnector changed: draining and reconnecting");
      this.connector = undefined;
      await old.stop(this.o.drainMs);
    }
    this.applied.clear();
    this.runningSpec = resource.spec;
    if (!this.o.logLevelFixed) setLogLevel(this.o.log, resource.spec.logLevel);
    const next = new Connector({ connector: resource, topicMaps: [] }, this.o.runtime, this.o.log);
    this.connector = next;
    this.connectorError = undefined;
    // Not awaited here: a start that waits for an unreachable broker must not block a fix to the resource.
    next.start().then(
      () => this.schedule(0),
      (e: unknown) => {
        if (this.stopping || this.connector !== next) return;
        this.connectorError = `cannot start: ${(e as Error).message}`;
        this.o.log.error({ err: (e as Error).message }, "connector could not start; retrying");
        this.runningSpec = undefined;
        this.o.onChange?.();
        this.retryLater();
      },
    );
  }

  /** Logs each rejected generation once (status says it for as long as it holds). */
  private report(d: Desired): void {
    const lines: [string, string[]][] = [[`KafkaConnector/${this.o.ref.name}@${d.connector.generation}`, d.connector.problems.map(formatProblem)], ...d.maps.map((m): [string, string[]] => [`KafkaConnectorTopicMap/${m.name}@${m.generation}`, m.problems.map(formatProblem)])];
    for (const [key, problems] of lines) {
      if (!problems.length || this.logged.has(key)) continue;
      this.logged.add(key);
      this.o.log.error({ problems }, `${key.split("@")[0]} generation ${key.split("@")[1]} rejected; what was running keeps running`);
    }
    if (!this.resources.connector() && !this.logged.has("missing")) {
      this.logged.add("missing");
      this.o.log.warn({ namespace: this.o.ref.namespace, name: this.o.ref.name }, "KafkaConnector not found; waiting for it");
    } else if (this.resources.connector()) {
      this.logged.delete("missing");
    }
  }
}

/**
 * Everything but logLevel and image is used when connecting or deriving subscriptions (instances
 * decides whether they are shared), so a change needs new connections. The image is the pod's business.
 */
function connectionsDiffer(a: KafkaConnectorResource["spec"] | undefined, b: KafkaConnectorResource["spec"]): boolean {
  if (!a) return true;
  const strip = ({ logLevel: _l, image: _i, ...rest }: KafkaConnectorResource["spec"]) => rest;
  return JSON.stringify(strip(a)) !== JSON.stringify(strip(b));
}

