/**
 * Least-privilege Event Hubs role assignments: which role goes on which scope, and their
 * deterministic names. Pure, so the plan can be tested without Azure.
 */
import { createHash } from "node:crypto";
import type { HubUsage } from "./hubs";

/** Azure built-in role "Azure Event Hubs Data Sender". */
export const EVENT_HUBS_DATA_SENDER_ROLE = "2b629674-e913-4c01-ae53-ef4638d8f975";
/** Azure built-in role "Azure Event Hubs Data Receiver". */
export const EVENT_HUBS_DATA_RECEIVER_ROLE = "a638d3c7-ab3a-418d-83e6-5f17a39d4fde";

/** RFC 4122 URL namespace, used only to derive this package's own namespace below. */
const URL_NAMESPACE = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

/** Name-based (version 5, SHA-1) UUID of `name` in `namespace`, as RFC 4122 defines it. */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  if (ns.length !== 16) throw new Error(`uuidV5: namespace ${JSON.stringify(namespace)} is not a UUID`);
  const bytes = createHash("sha1").update(ns).update(name, "utf8").digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Namespace for role assignment names made by this package. */
export const ROLE_ASSIGNMENT_NAMESPACE = uuidV5("mqtt-kafka-connector:role-assignment", URL_NAMESPACE);

/**
 * Role assignment names must be GUIDs, and one (scope, principal, role) can be assigned only once.
 * Deriving the name from exactly those three makes re-runs and imports idempotent. ARM IDs are
 * case-insensitive, so they are lower-cased first: a casing change must not replace the assignment.
 */
export function roleAssignmentName(scope: string, principalId: string, roleDefinitionGuid: string): string {
  return uuidV5([scope, principalId, roleDefinitionGuid].map((s) => s.trim().toLowerCase()).join("|"), ROLE_ASSIGNMENT_NAMESPACE);
}

/** Full role definition ID in the subscription that holds `scope`. */
export function roleDefinitionId(scope: string, roleDefinitionGuid: string): string {
  const m = /^\/subscriptions\/([^/]+)(\/|$)/i.exec(scope);
  if (!m) throw new Error(`role assignment scope ${JSON.stringify(scope)} is not an ARM ID under /subscriptions/<id>`);
  return `/subscriptions/${m[1]}/providers/Microsoft.Authorization/roleDefinitions/${roleDefinitionGuid}`;
}

/** One role assignment to create. */
export interface PlannedRoleAssignment {
  /** Child resource role suffix, e.g. `sender-telemetry` or `receiver-namespace`. */
  role: string;
  /** Role definition GUID. */
  roleDefinitionGuid: string;
  /** Event hub the assignment is scoped to; undefined for the namespace scope. */
  hub?: string;
  /** Routes that need it, for descriptions. */
  routes: string[];
}

/**
 * Data Sender on every hub an mqttToKafka route writes to, Data Receiver on every hub a kafkaToMqtt
 * route reads. With `namespaceScope` (opt-in), one assignment per needed role on the namespace.
 */
export function planRoleAssignments(hubs: readonly HubUsage[], namespaceScope = false): PlannedRoleAssignment[] {
  const out: PlannedRoleAssignment[] = [];
  if (namespaceScope) {
    const producers = hubs.flatMap((h) => h.producedBy);
    const consumers = hubs.flatMap((h) => h.consumedBy);
    if (producers.length) out.push({ role: "sender-namespace", roleDefinitionGuid: EVENT_HUBS_DATA_SENDER_ROLE, routes: producers });
    if (consumers.length) out.push({ role: "receiver-namespace", roleDefinitionGuid: EVENT_HUBS_DATA_RECEIVER_ROLE, routes: consumers });
    return out;
  }
  for (const hub of hubs) {
    if (hub.producedBy.length) {
      out.push({ role: `sender-${hub.name}`, roleDefinitionGuid: EVENT_HUBS_DATA_SENDER_ROLE, hub: hub.name, routes: hub.producedBy });
    }
    if (hub.consumedBy.length) {
      out.push({ role: `receiver-${hub.name}`, roleDefinitionGuid: EVENT_HUBS_DATA_RECEIVER_ROLE, hub: hub.name, routes: hub.consumedBy });
    }
  }
  return out;
}

/** Subject of the federated credential for a Kubernetes service account (AKS workload identity). */
export function workloadIdentitySubject(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

export const WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange";
