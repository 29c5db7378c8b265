/**
 * The reconcile loop: a KafkaConnector that is new, has a new generation, or comes round in the
 * periodic resync is turned into its objects and applied. Work is queued per connector (one
 * reconcile of a connector at a time, always of its newest version) and a few connectors at once.
 */
import { backoffMs } from "../core/backoff";
import type { Logger } from "../logger";
import { applyAll, ApplyError, type Applier } from "./apply";
import { desiredObjects, managedElsewhere, WORKLOAD_IDENTITY_ANNOTATION, WORKLOAD_MANAGER_ANNOTATION, type ConnectorObject, type OperatorDefaults } from "./reconcile";
import { currentOperatorStatus, sameStatus, truncate, type OperatorReason, type OperatorStatus, type Reporter } from "./report";

export interface ControllerDeps {
  applier: Applier;
  reporter: Reporter;
  defaults: OperatorDefaults;
  log: Logger;
  /** Connectors reconciled at once. Default 4. */
  workers?: number;
  /** First retry delay after a failed apply; it doubles up to 5 minutes. Default 2000. */
  retryBaseMs?: number;
}

export type Outcome = "skipped" | "applied" | "invalid" | "failed";

interface State {
  uid: string;
  /** The revision last applied, or last found invalid: a later event of it is a status change. */
  handled?: string;
  /** The revision last tried; while its retry waits, its status-only events are not a reason to apply. */
  attempted?: string;
  statefulSet: string | null;
  lastEvent?: string;
  failures: number;
  retry?: NodeJS.Timeout;
}

const keyOf = (o: ConnectorObject): string => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

/**
 * What the desired objects depend on: the generation (the spec) and the annotations read, whose
 * change leaves the generation as it was.
 */
const revisionOf = (o: ConnectorObject): string =>
  [o.metadata?.generation ?? 0, ...[WORKLOAD_IDENTITY_ANNOTATION, WORKLOAD_MANAGER_ANNOTATION].map((a) => o.metadata?.annotations?.[a] ?? "")].join("|");

export class Controller {
  private readonly states = new Map<string, State>();
  private readonly pending = new Map<string, { obj: ConnectorObject; force: boolean }>();
  private readonly queue: string[] = [];
  private readonly active = new Map<string, Promise<void>>();
  /** The newest version seen of each connector: what a delayed retry applies. */
  private readonly latest = new Map<string, ConnectorObject>();
  private stopped = false;

  constructor(private readonly deps: ControllerDeps) {}

  /** Added or changed: reconciled unless only its status changed. */
  upsert(obj: ConnectorObject): void {
    this.enqueue(obj, false);
  }

  /** Deleted: its objects carry owner references, so the garbage collector removes them. */
  deleted(obj: ConnectorObject): void {
    const key = keyOf(obj);
    clearTimeout(this.states.get(key)?.retry);
    this.states.delete(key);
    this.pending.delete(key);
    this.latest.delete(key);
    this.deps.log.info({ connector: obj.metadata?.name, namespace: obj.metadata?.namespace }, "KafkaConnector deleted; the garbage collector removes its objects");
  }

  /** Applies every connector again, whatever its generation: repairs drift such as a deleted Role. */
  resync(objects: readonly ConnectorObject[]): void {
    for (const o of objects) this.enqueue(o, true);
  }

  /** Stops taking work and waits for the reconciles in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.states.values()) clearTimeout(s.retry);
    this.queue.length = 0;
    this.pending.clear();
    await Promise.allSettled([...this.active.values()]);
  }

  /** Resolves when nothing is queued or running (for tests). */
  async idle(): Promise<void> {
    while (this.active.size || this.queue.length) await Promise.allSettled([...this.active.values()]);
  }

  private enqueue(obj: ConnectorObject, force: boolean): void {
    if (this.stopped) return;
    const key = keyOf(obj);
    this.latest.set(key, obj);
    const force_ = force || (this.pending.get(key)?.force ?? false);
    this.pending.set(key, { obj, force: force_ });
    if (!this.active.has(key) && !this.queue.includes(key)) this.queue.push(key);
    this.pump();
  }

  private pump(): void {
    const workers = this.deps.workers ?? 4;
    while (!this.stopped && this.active.size < workers && this.queue.length) {
      const key = this.queue.shift()!;
      const item = this.pending.get(key);
      this.pending.delete(key);
      if (!item) continue;
      const run = this.reconcile(item.obj, item.force)
        .then(
          () => undefined,
          (e: unknown) => this.deps.log.error({ err: (e as Error).message, key }, "reconcile failed unexpectedly"),
        )
        .finally(() => {
          this.active.delete(key);
          if (this.pending.has(key) && !this.queue.includes(key)) this.queue.push(key);
          this.pump();
        });
      this.active.set(key, run);
    }
  }

  /** One connector, once. Exposed for tests; the queue calls it. */
  async reconcile(obj: ConnectorObject, force: boolean): Promise<Outcome> {
    const key = keyOf(obj);
    const uid = obj.metadata?.uid ?? "";
    const generation = obj.metadata?.generation ?? 0;
    const revision = revisionOf(obj);
    let state = this.states.get(key);
    if (!state || state.uid !== uid) {
      // New, or deleted and created again under the same name.
      clearTimeout(state?.retry);
      state = { uid, statefulSet: currentOperatorStatus(obj)?.statefulSet ?? null, failures: 0 };
      this.states.set(key, state);
    }
    if (managedElsewhere(obj)) {
      if (state.handled !== revision) this.deps.log.info({ connector: obj.metadata?.name, namespace: obj.metadata?.namespace }, `${WORKLOAD_MANAGER_ANNOTATION}: pulumi; its workload is left to Pulumi`);
      state.handled = revision;
      return "skipped";
    }
    if (!force && (state.handled === revision || (state.retry && state.attempted === revision))) return "skipped";
    state.attempted = revision;
    const log = this.deps.log.child({ connector: obj.metadata?.name, namespace: obj.metadata?.namespace, generation });
    const desired = desiredObjects(obj, this.deps.defaults);
    if (!desired.valid) {
      const problems = desired.problems.map((p) => `${p.path || "(document)"}: ${p.message}`).join("; ");
      const kept = state.statefulSet ? `; StatefulSet ${state.statefulSet} and its objects are left as last applied` : "; nothing was applied";
      log.warn({ problems: desired.problems }, "KafkaConnector is invalid; not applied");
      await this.report(obj, state, "InvalidSpec", `invalid spec: ${problems}${kept}`, log);
      state.handled = revision;
      return "invalid";
    }
    try {
      const applied = await applyAll(this.deps.applier, desired.objects);
      const replicas = desired.resource.spec.instances;
      const first = state.handled !== revision;
      log[first ? "info" : "debug"]({ objects: applied, replicas, image: `${desired.resource.spec.image.repository}:${desired.resource.spec.image.tag}`, resync: force }, "applied");
      state.statefulSet = desired.statefulSet;
      state.handled = revision;
      state.failures = 0;
      clearTimeout(state.retry);
      state.retry = undefined;
      await this.report(obj, state, "Applied", `applied generation ${generation}: ${applied.length} objects, StatefulSet ${desired.statefulSet} with ${replicas} replica${replicas === 1 ? "" : "s"}`, log);
      return "applied";
    } catch (e) {
      const message = e instanceof ApplyError ? e.message : (e as Error).message;
      const delay = backoffMs(state.failures++, this.deps.retryBaseMs ?? 2000, 300_000);
      log.warn({ err: message, retryInMs: delay }, "apply failed");
      await this.report(obj, state, "ApplyFailed", `${message}; retrying`, log);
      clearTimeout(state.retry);
      const current = state;
      state.retry = setTimeout(() => {
        current.retry = undefined;
        const newest = this.latest.get(key);
        if (this.states.get(key) === current && newest) this.enqueue(newest, true);
      }, delay);
      state.retry.unref();
      return "failed";
    }
  }

  private async report(obj: ConnectorObject, state: State, reason: OperatorReason, message: string, log: Logger): Promise<void> {
    const status: OperatorStatus = { observedGeneration: obj.metadata?.generation ?? 0, reason, message: truncate(message, 2000), statefulSet: state.statefulSet };
    if (!sameStatus(currentOperatorStatus(obj), status)) {
      // The object may be gone (deleted meanwhile) or the write refused: the apply stands either way.
      await this.deps.reporter.status(obj, status).catch((e: unknown) => log.warn({ err: (e as Error).message }, "could not write status.operator"));
    }
    const eventKey = `${reason}|${message}`;
    if (state.lastEvent === eventKey) return;
    state.lastEvent = eventKey;
    await this.deps.reporter
      .event(obj, reason === "Applied" ? "Normal" : "Warning", reason, message)
      .catch((e: unknown) => log.warn({ err: (e as Error).message }, "could not record an Event"));
  }
}
