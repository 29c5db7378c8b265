import type { ConnectorObject, Problem } from "./reconcile";

// The operator's names and annotations, kept apart from reconcile.ts so that the Pulumi
// components (which render the same annotations and the operator's manifests) need not load the
// Kubernetes client.

/** Field manager of every apply, event source, and the `app.kubernetes.io/managed-by` label. */
export const FIELD_MANAGER = "mqtt-kafka-connector-operator";

/**
 * The spec has no field for a managed identity's client ID (the CRD follows Azure IoT
 * Operations'), so the operator takes it from this annotation on the KafkaConnector: the pods then
 * run with AKS workload identity, for Kafka and for Key Vault.
 */
export const WORKLOAD_IDENTITY_ANNOTATION = "mqtt-kafka-connector/workload-identity-client-id";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `pulumi` on a KafkaConnector whose workload a Pulumi stack creates (the KafkaConnector component
 * with its default workloadManager): the operator leaves it alone instead of fighting Pulumi over
 * the same StatefulSet.
 */
export const WORKLOAD_MANAGER_ANNOTATION = "mqtt-kafka-connector/workload-manager";

export function managedElsewhere(obj: ConnectorObject): boolean {
  return obj.metadata?.annotations?.[WORKLOAD_MANAGER_ANNOTATION] === "pulumi";
}

/** The annotation's client ID; a problem when it is there but not a GUID. */
export function workloadIdentityClientId(obj: ConnectorObject): { clientId?: string; problem?: Problem } {
  const value = obj.metadata?.annotations?.[WORKLOAD_IDENTITY_ANNOTATION];
  if (value === undefined) return {};
  if (!GUID.test(value)) {
    return { problem: { path: `metadata.annotations[${WORKLOAD_IDENTITY_ANNOTATION}]`, message: `got ${JSON.stringify(value)}; must be the client ID (a GUID) of the managed identity federated with the connector's service account` } };
  }
  return { clientId: value };
}
