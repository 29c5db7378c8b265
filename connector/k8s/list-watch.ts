/**
 * A list-watch of one resource kind in one namespace that does not give up. client-node's
 * ListWatch relists by itself after a 410 Gone (and reports objects deleted meanwhile, so no
 * event is missed), but stops on any other error; here it restarts with backoff, from the last
 * resource version it saw, until stopped.
 */
import type { KubeConfig, KubernetesObject, ListWatch } from "@kubernetes/client-node";
import { backoffMs, sleep } from "../core/backoff";
import type { Logger } from "../logger";
import { apiErrorMessage, kube, PLURALS, resourcePath, type ResourceKind } from "./kube";
import { API_GROUP, API_VERSION } from "../config/schema";

export interface WatchedObject extends KubernetesObject {
  spec?: unknown;
  status?: unknown;
}

export class ResourceWatch {
  private readonly informer: ListWatch<WatchedObject>;
  private readonly stopped = new AbortController();
  private failures = 0;
  private listedOnce: (() => void) | undefined;
  private restarting = false;
  /** Resolves after the first successful list (or when stopped). */
  readonly synced: Promise<void>;

  constructor(
    kc: KubeConfig,
    readonly kind: ResourceKind,
    readonly namespace: string,
    private readonly log: Logger,
    onChange: () => void,
    fieldSelector?: string,
  ) {
    const k = kube();
    const api = kc.makeApiClient(k.CustomObjectsApi);
    const list = async () => {
      const res = (await api.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: PLURALS[kind], ...(fieldSelector ? { fieldSelector } : {}) })) as { items: WatchedObject[]; metadata?: { resourceVersion?: string } };
      // ListWatch files the items right after this resolves; report the sync after that.
      setImmediate(() => this.onListed(res.metadata?.resourceVersion));
      return res;
    };
    this.synced = new Promise((resolve) => {
      this.listedOnce = resolve;
      this.stopped.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    this.informer = new k.ListWatch<WatchedObject>(resourcePath(kind, namespace), new k.Watch(kc), list, false, undefined, fieldSelector);
    const changed = () => {
      this.failures = 0;
      onChange();
    };
    for (const verb of ["add", "update", "delete"] as const) this.informer.on(verb, changed);
    this.informer.on("error", (e: unknown) => void this.restart(e));
  }

  start(): void {
    this.informer.start().catch((e: unknown) => void this.restart(e));
  }

  objects(): readonly WatchedObject[] {
    return this.informer.list(this.namespace);
  }

  stop(): void {
    this.stopped.abort();
    void this.informer.stop();
  }

  private lists = 0;

  /** A list after the first is a relist: the watch's resource version expired (410 Gone) or the watch had to restart. */
  private onListed(resourceVersion: string | undefined): void {
    if (this.lists++ > 0) this.log.info({ kind: this.kind, namespace: this.namespace, resourceVersion, failures: this.failures }, "custom resources relisted");
    this.failures = 0;
    this.listedOnce?.();
    this.listedOnce = undefined;
  }

  private async restart(e: unknown): Promise<void> {
    if (this.restarting || this.stopped.signal.aborted) return;
    this.restarting = true;
    const delay = backoffMs(this.failures, 500, 15_000);
    const level = this.failures < 3 ? "info" : "warn";
    this.failures++;
    this.log[level]({ kind: this.kind, namespace: this.namespace, err: apiErrorMessage(e), retryInMs: delay }, "watch of the custom resources interrupted; resuming");
    await sleep(delay, this.stopped.signal);
    this.restarting = false;
    if (!this.stopped.signal.aborted) this.start();
  }
}
