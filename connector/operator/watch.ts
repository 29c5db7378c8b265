/**
 * A list-watch of KafkaConnectors in every namespace, or in one, that keeps going. client-node's
 * ListWatch relists by itself after 410 Gone (and reports what was deleted meanwhile) but stops on
 * any other error, e.g. while the API server restarts: here start() is called again after a
 * backoff, resuming from the last resource version it saw.
 */
import type { KubeConfig, ListWatch } from "@kubernetes/client-node";
import { API_GROUP, API_VERSION } from "../config/schema";
import { backoffMs } from "../core/backoff";
import type { Logger } from "../logger";
import { apiErrorMessage, kube, PLURALS } from "../k8s/kube";
import type { ConnectorObject } from "./reconcile";

export interface WatchHandlers {
  /** Added, or changed in any way (status too: the caller compares generations). */
  upsert(obj: ConnectorObject): void;
  deleted(obj: ConnectorObject): void;
}

/** Where a list-watch of KafkaConnectors goes: cluster-wide without a namespace. */
export function connectorsPath(namespace?: string): string {
  const base = `/apis/${API_GROUP}/${API_VERSION}`;
  return namespace ? `${base}/namespaces/${namespace}/${PLURALS.KafkaConnector}` : `${base}/${PLURALS.KafkaConnector}`;
}

export class ConnectorWatch {
  private readonly informer: ListWatch<ConnectorObject>;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private listed = false;

  constructor(
    kc: KubeConfig,
    private readonly namespace: string | undefined,
    handlers: WatchHandlers,
    private readonly log: Logger,
  ) {
    const k = kube();
    const api = kc.makeApiClient(k.CustomObjectsApi);
    const plural = PLURALS.KafkaConnector;
    const list = async () => {
      const res = namespace
        ? await api.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural })
        : await api.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural });
      this.onListed();
      return res as { items: ConnectorObject[]; metadata?: { resourceVersion?: string } };
    };
    this.informer = new k.ListWatch<ConnectorObject>(connectorsPath(namespace), new k.Watch(kc), list, false);
    this.informer.on("add", (o) => handlers.upsert(o));
    this.informer.on("update", (o) => handlers.upsert(o));
    this.informer.on("delete", (o) => handlers.deleted(o));
    this.informer.on("error", (e: unknown) => this.restartLater(e));
  }

  start(): void {
    this.stopped = false;
    // start() resolves once the watch request is answered; a failure before that has already
    // called restartLater (the error callback runs first), so only a clean start counts.
    this.informer.start().then(
      () => {
        if (!this.retry && !this.stopped) this.onConnected();
      },
      (e: unknown) => this.restartLater(e),
    );
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    void this.informer.stop();
  }

  /** Listed at least once and not failing now: what /readyz reports. */
  get healthy(): boolean {
    return this.listed && this.failures === 0;
  }

  /** Every KafkaConnector the watch knows, for the periodic resync. */
  objects(): readonly ConnectorObject[] {
    return this.informer.list(this.namespace);
  }

  private onListed(): void {
    this.listed = true;
  }

  private onConnected(): void {
    if (this.failures > 0) this.log.info({ namespace: this.namespace ?? "*", after: this.failures }, "watch of KafkaConnectors resumed");
    this.failures = 0;
  }

  private restartLater(e: unknown): void {
    if (this.stopped || this.retry) return;
    const delay = backoffMs(this.failures, 500, 30_000);
    this.failures++;
    this.log[this.failures <= 3 ? "info" : "warn"]({ err: apiErrorMessage(e), retryInMs: delay, failures: this.failures }, "watch of KafkaConnectors failed; restarting");
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (!this.stopped) this.start();
    }, delay);
  }
}
