/**
 * coordination.k8s.io Leases, held the way client-go's leader election holds them: optimistic
 * updates on the resource version, so of two instances racing for an expired lease exactly one
 * wins (the other gets 409 Conflict). A holder that stops hands the lease back at once.
 */
import type { CoordinationV1Api, KubeConfig, V1Lease } from "@kubernetes/client-node";
import { apiStatus, kube } from "./kube";

export interface LeaseOptions {
  namespace: string;
  name: string;
  identity: string;
  durationSeconds: number;
  /** Annotations written with every renewal (e.g. whether the instance is ready). */
  annotations?: () => Record<string, string>;
  labels?: Record<string, string>;
}

export type LeaseOutcome = "held" | "taken-by-other" | "acquired";

export class Lease {
  private readonly api: CoordinationV1Api;

  constructor(
    kc: KubeConfig,
    private readonly o: LeaseOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.api = kc.makeApiClient(kube().CoordinationV1Api);
  }

  get name(): string {
    return this.o.name;
  }

  /** Takes the lease if it is free or expired, renews it if held; never takes a live lease from another holder. */
  async tryHold(): Promise<LeaseOutcome> {
    const { namespace, name } = this.o;
    let current: V1Lease;
    try {
      current = await this.api.readNamespacedLease({ name, namespace });
    } catch (e) {
      if (apiStatus(e) !== 404) throw e;
      try {
        await this.api.createNamespacedLease({ namespace, body: this.body(undefined, true) });
        return "acquired";
      } catch (err) {
        if (apiStatus(err) === 409) return "taken-by-other";
        throw err;
      }
    }
    const mine = current.spec?.holderIdentity === this.o.identity;
    if (!mine && !this.expired(current)) return "taken-by-other";
    try {
      await this.api.replaceNamespacedLease({ name, namespace, body: this.body(current, !mine) });
      return mine ? "held" : "acquired";
    } catch (e) {
      if (apiStatus(e) === 409) return "taken-by-other";
      throw e;
    }
  }

  /** Gives the lease up if held, so another instance need not wait for it to expire. */
  async release(): Promise<void> {
    const { namespace, name } = this.o;
    const current = await this.api.readNamespacedLease({ name, namespace });
    if (current.spec?.holderIdentity !== this.o.identity) return;
    const body: V1Lease = { ...current, spec: { ...current.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: new (kube().V1MicroTime)(this.now()) } };
    await this.api.replaceNamespacedLease({ name, namespace, body });
  }

  /** Those of the named leases that are held and fresh. Read by name: the Role grants no `list`. */
  async live(names: readonly string[]): Promise<V1Lease[]> {
    const read = await Promise.all(
      names.map((name) =>
        this.api.readNamespacedLease({ name, namespace: this.o.namespace }).catch((e: unknown) => {
          if (apiStatus(e) === 404) return undefined;
          throw e;
        }),
      ),
    );
    return read.filter((l): l is V1Lease => !!l && !this.expired(l));
  }

  private expired(l: V1Lease): boolean {
    const renewed = l.spec?.renewTime ? new Date(l.spec.renewTime).getTime() : 0;
    const seconds = l.spec?.leaseDurationSeconds ?? 0;
    return !l.spec?.holderIdentity || renewed + seconds * 1000 < this.now();
  }

  private body(current: V1Lease | undefined, acquiring: boolean): V1Lease {
    const K = kube();
    const at = new K.V1MicroTime(this.now());
    const transitions = current?.spec?.leaseTransitions ?? 0;
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        ...(current?.metadata ?? {}),
        name: this.o.name,
        namespace: this.o.namespace,
        ...(this.o.labels ? { labels: { ...current?.metadata?.labels, ...this.o.labels } } : {}),
        annotations: { ...current?.metadata?.annotations, ...this.o.annotations?.() },
      },
      spec: {
        holderIdentity: this.o.identity,
        leaseDurationSeconds: this.o.durationSeconds,
        renewTime: at,
        acquireTime: acquiring ? at : (current?.spec?.acquireTime ?? at),
        leaseTransitions: acquiring && current ? transitions + 1 : transitions,
      },
    };
  }
}
