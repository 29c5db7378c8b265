/**
 * The Kubernetes API client, loaded only when a command needs it: @kubernetes/client-node costs
 * tens of megabytes of heap, which a connector reading files never pays.
 */
import type * as ClientNode from "@kubernetes/client-node";
import { API_GROUP, API_VERSION } from "../config/schema";

export type Kube = typeof ClientNode;

let loaded: Kube | undefined;

export function kube(): Kube {
  // The package is ESM-only; Node >= 20.19 loads it through require().
  loaded ??= require("@kubernetes/client-node") as Kube;
  return loaded;
}

export const PLURALS = { KafkaConnector: "kafkaconnectors", KafkaConnectorTopicMap: "kafkaconnectortopicmaps" } as const;
export type ResourceKind = keyof typeof PLURALS;

/** `/apis/<group>/<version>/namespaces/<ns>/<plural>`: the path a list-watch follows. */
export function resourcePath(kind: ResourceKind, namespace: string): string {
  return `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${PLURALS[kind]}`;
}

/**
 * KUBECONFIG, then ~/.kube/config, then the pod's service account: the same order kubectl uses.
 * Throws naming what was tried when none gives a cluster.
 */
export function loadKubeConfig(): ClientNode.KubeConfig {
  const kc = new (kube().KubeConfig)();
  kc.loadFromDefault();
  const cluster = kc.getCurrentCluster();
  if (!cluster || cluster.server === "http://localhost:8080") {
    throw new Error("no Kubernetes API to talk to: set KUBECONFIG, create ~/.kube/config, or run in a pod with a service account token");
  }
  return kc;
}

/** The namespace a pod runs in, when it runs in one. */
export function podNamespace(env: NodeJS.ProcessEnv): string | undefined {
  return env["POD_NAMESPACE"] || undefined;
}

/** An API error's HTTP status, whichever layer of client-node raised it. */
export function apiStatus(e: unknown): number | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const rec = e as { code?: unknown; statusCode?: unknown };
  if (typeof rec.code === "number") return rec.code;
  if (typeof rec.statusCode === "number") return rec.statusCode;
  return undefined;
}

/** A short, secret-free description of an API error (the body's message when there is one). */
export function apiErrorMessage(e: unknown): string {
  if (typeof e !== "object" || e === null) return String(e);
  const body = (e as { body?: unknown }).body;
  if (typeof body === "string") {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === "string") return `HTTP ${apiStatus(e) ?? "?"}: ${parsed.message}`;
    } catch {
      // not JSON
    }
  }
  const msg = (e as { message?: unknown }).message;
  return typeof msg === "string" ? msg.split("\n")[0]! : String(e);
}

/** The object as a config document: server-set metadata and status dropped, so validation sees what a user wrote. */
export function asConfigDocument(obj: ClientNode.KubernetesObject & { spec?: unknown }): Record<string, unknown> {
  const m = obj.metadata ?? {};
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { name: m.name, namespace: m.namespace, ...(m.labels ? { labels: m.labels } : {}), ...(m.annotations ? { annotations: m.annotations } : {}) },
    // Validation fills in defaults in place: give it a copy, not the informer's cached object.
    spec: structuredClone(obj.spec),
  };
}
