/**
 * Writes status on the KafkaConnector and its topic maps. Every instance renews a Lease of its
 * own (how the status writer counts ready instances); one instance, holder of the `-status`
 * Lease, writes status and records Events, at most once per `minWriteMs` per object.
 */
import type { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { API_GROUP, API_VERSION } from "../config/schema";
import { RepeatLimiter } from "../core/repeat-limiter";
import type { Logger } from "../logger";
import { leaseNames } from "./workload";
import { apiErrorMessage, kube, PLURALS, type ResourceKind } from "./kube";
import { Lease } from "./lease";
import type { Condition } from "./status";
import { EventRecorder, type EventTarget } from "./events";

export interface StatusTarget extends EventTarget {
  kind: ResourceKind;
  /** The status to write; its conditions' lastTransitionTime already account for `previous`. */
  status: { conditions: Condition[] } & Record<string, unknown>;
  /** The conditions the object carries now (written by a previous writer, perhaps). */
  stored?: Condition[];
}

export interface StatusWriterOptions {
  namespace: string;
  connectorName: string;
  identity: string;
  instanceIndex: number;
  leaseSeconds: number;
  /** How often leases are renewed and status refreshed. */
  intervalMs: number;
  minWriteMs: number;
  log: Logger;
}

export interface StatusSource {
  instances(): number;
  ready(): boolean;
  /** The statuses to write, given how many instances are ready; `previous` gives the conditions this writer last wrote. */
  targets(instancesReady: number, previous: (uid: string) => Condition[] | undefined): StatusTarget[];
}

export class StatusWriter {
  private readonly api: CustomObjectsApi;
  private readonly events: EventRecorder;
  private readonly leader: Lease;
  private instanceLease: Lease | undefined;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly written = new Map<string, { at: number; conditions: Condition[] }>();
  private readonly limiter = new RepeatLimiter(60_000);
  private stopped = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly o: StatusWriterOptions,
    private readonly source: StatusSource,
  ) {
    this.api = kc.makeApiClient(kube().CustomObjectsApi);
    this.events = new EventRecorder(kc, o.namespace, o.identity);
    this.leader = new Lease(kc, { namespace: o.namespace, name: leaseNames(o.connectorName, 1).leader, identity: o.identity, durationSeconds: o.leaseSeconds });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Something notable changed: write soon, within the rate limit. */
  poke(): void {
    if (this.pending || this.stopped) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.enqueue(() => this.writeAll(false));
    }, 250);
    this.pending.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.pending);
    await this.running;
    const releases = [this.leading ? this.leader.release() : undefined, this.instanceLease?.release()];
    this.leading = false;
    await Promise.all(releases.map((p) => p?.catch((e: unknown) => this.warn("lease release", e))));
  }

  private tick(): void {
    this.enqueue(async () => {
      await this.renewInstance();
      await this.elect();
      await this.writeAll(true);
    });
  }

  private enqueue(step: () => Promise<void>): void {
    this.running = this.running.then(() => (this.stopped ? undefined : step())).catch((e: unknown) => this.warn("status", e));
  }

  private async renewInstance(): Promise<void> {
    const name = leaseNames(this.o.connectorName, this.o.instanceIndex + 1).instances[this.o.instanceIndex]!;
    if (this.instanceLease?.name !== name) {
      this.instanceLease = new Lease(this.kc, { namespace: this.o.namespace, name, identity: this.o.identity, durationSeconds: this.o.leaseSeconds, annotations: () => ({ "mqtt-kafka-connector/ready": String(this.source.ready()) }) });
    }
    try {
      const outcome = await this.instanceLease.tryHold();
      if (outcome === "taken-by-other") this.warn("instance lease", new Error(`Lease ${name} is held by another process: is instance index ${this.o.instanceIndex} running twice?`));
    } catch (e) {
      this.warn("instance lease", e);
    }
  }

  private async elect(): Promise<void> {
    const was = this.leading;
    try {
      this.leading = (await this.leader.tryHold()) !== "taken-by-other";
    } catch (e) {
      this.leading = false;
      this.warn("status lease", e);
    }
    if (this.leading !== was) {
      this.o.log.info({ lease: leaseNames(this.o.connectorName, 1).leader }, this.leading ? "this instance now writes status" : "another instance writes status now");
      if (this.leading) this.written.clear();
    }
  }

  private async countReady(): Promise<number> {
    const names = leaseNames(this.o.connectorName, this.source.instances()).instances;
    const live = await this.leader.live(names);
    return live.filter((l) => l.metadata?.annotations?.["mqtt-kafka-connector/ready"] === "true").length;
  }

  private async writeAll(periodic: boolean): Promise<void> {
    if (!this.leading || this.stopped) return;
    const ready = await this.countReady();
    const now = Date.now();
    for (const t of this.source.targets(ready, (uid) => this.written.get(uid)?.conditions)) {
      const last = this.written.get(t.uid);
      const changed = !last || JSON.stringify(last.conditions.map(summary)) !== JSON.stringify(t.status.conditions.map(summary));
      if (!changed && (!periodic || now - last.at < this.o.minWriteMs)) continue;
      if (changed && last && now - last.at < this.o.minWriteMs) {
        this.poke();
        continue;
      }
      try {
        await this.api.patchNamespacedCustomObjectStatus(
          { group: API_GROUP, version: API_VERSION, namespace: this.o.namespace, plural: PLURALS[t.kind], name: t.name, body: { status: t.status } },
          kube().setHeaderOptions("Content-Type", kube().PatchStrategy.MergePatch),
        );
        this.written.set(t.uid, { at: now, conditions: t.status.conditions });
        await this.events.onTransition(t, last?.conditions ?? t.stored, t.status.conditions);
      } catch (e) {
        this.warn(`status of ${t.kind}/${t.name}`, e);
      }
    }
  }

  private warn(what: string, e: unknown): void {
    const msg = apiErrorMessage(e);
    const { log, repeated } = this.limiter.check(`${what}:${msg}`);
    if (log) this.o.log.warn({ err: msg, ...(repeated ? { repeated } : {}) }, `${what} could not be written; status may be stale`);
  }
}

function summary(c: Condition): string {
  return `${c.type}=${c.status}:${c.reason}:${c.message}`;
}
