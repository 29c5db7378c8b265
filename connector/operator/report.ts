/**
 * How the operator tells a KafkaConnector's owner what it did: `status.operator` (a merge patch on
 * the status subresource, so `status.conditions` and `status.instancesReady`, which the connector
 * pods write, are never touched) and Events on transitions.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { API_GROUP, API_VERSION } from "../config/schema";
import { kube } from "../k8s/kube";
import { FIELD_MANAGER } from "./names";
import type { ConnectorObject } from "./reconcile";

export type OperatorReason = "Applied" | "InvalidSpec" | "ApplyFailed";

/** `status.operator` of a KafkaConnector. */
export interface OperatorStatus {
  observedGeneration: number;
  reason: OperatorReason;
  message: string;
  /** The StatefulSet last applied for this connector; it stays while a newer spec is invalid. */
  statefulSet: string | null;
}

export interface Reporter {
  /** Writes status.operator (the caller skips it when nothing changed). */
  status(obj: ConnectorObject, status: OperatorStatus): Promise<void>;
  event(obj: ConnectorObject, type: "Normal" | "Warning", reason: OperatorReason, message: string): Promise<void>;
}

/** The status.operator the object already carries, if any. */
export function currentOperatorStatus(obj: ConnectorObject): Partial<OperatorStatus> | undefined {
  const status = obj.status;
  if (typeof status !== "object" || status === null) return undefined;
  const op = (status as { operator?: unknown }).operator;
  return typeof op === "object" && op !== null ? (op as Partial<OperatorStatus>) : undefined;
}

export function sameStatus(a: Partial<OperatorStatus> | undefined, b: OperatorStatus): boolean {
  return !!a && a.observedGeneration === b.observedGeneration && a.reason === b.reason && a.message === b.message && (a.statefulSet ?? null) === b.statefulSet;
}

// The API server caps an Event message at 1 kB; a status message is kept short for `kubectl get`.
export function truncate(text: string, max = 1000): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** `instance` names this operator process in Events (its pod name, when it has one). */
export function apiReporter(kc: KubeConfig, instance: string): Reporter {
  const k = kube();
  const custom = kc.makeApiClient(k.CustomObjectsApi);
  const core = kc.makeApiClient(k.CoreV1Api);
  const merge = k.setHeaderOptions("Content-Type", k.PatchStrategy.MergePatch);
  return {
    async status(obj, status) {
      const { name, namespace } = identity(obj);
      await custom.patchNamespacedCustomObjectStatus(
        { group: API_GROUP, version: API_VERSION, plural: "kafkaconnectors", namespace, name, body: { status: { operator: status } } },
        merge,
      );
    },
    async event(obj, type, reason, message) {
      const { name, namespace } = identity(obj);
      const now = new Date();
      await core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${name}.`, namespace },
          involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name, namespace, uid: obj.metadata?.uid, resourceVersion: obj.metadata?.resourceVersion },
          type,
          reason,
          message: truncate(message),
          source: { component: FIELD_MANAGER },
          reportingComponent: FIELD_MANAGER,
          reportingInstance: instance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    },
  };
}

function identity(obj: ConnectorObject): { name: string; namespace: string } {
  return { name: obj.metadata?.name ?? "", namespace: obj.metadata?.namespace ?? "default" };
}
