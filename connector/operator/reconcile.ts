/**
 * What a KafkaConnector should run as, decided without touching the API: the objects of the shared
 * workload builder (connector/k8s/workload.ts, which the Pulumi component uses too), plus a
 * SecretProviderClass per Key Vault reference, each owned by the KafkaConnector so that deleting it
 * lets the garbage collector remove them. An invalid resource yields its problems instead.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import { API_VERSION_FULL, type KafkaConnectorResource } from "../config/schema";
import { validateDocument } from "../config/validate";
import { asConfigDocument } from "../k8s/kube";
import { FIELD_MANAGER, managedElsewhere, WORKLOAD_IDENTITY_ANNOTATION, WORKLOAD_MANAGER_ANNOTATION, workloadIdentityClientId } from "./names";

export { FIELD_MANAGER, managedElsewhere, WORKLOAD_IDENTITY_ANNOTATION, WORKLOAD_MANAGER_ANNOTATION, workloadIdentityClientId };
import {
  keyVaultReferences,
  secretProviderClassName,
  secretProviderClassParameters,
  workloadLabels,
  workloadManifests,
  type Manifest,
  type WorkloadOptions,
} from "../k8s/workload";

/** A KafkaConnector as the watch delivers it: spec unvalidated, status whatever writers left. */
export interface ConnectorObject extends KubernetesObject {
  spec?: unknown;
  status?: unknown;
}

export interface Problem {
  /** Dotted field path, as validateDocument names it (`spec.localBrokerConnection.tls.tlsEnabled`). */
  path: string;
  message: string;
}

/** What the operator's flags decide for every connector; the rest comes from the spec. */
export interface OperatorDefaults {
  workload: Omit<WorkloadOptions, "secretProviderClasses" | "serviceAccountName" | "workloadIdentity" | "serviceAccountAnnotations" | "podLabels" | "managedBy">;
  /** Image repositories a spec may name (exact, or a prefix ending in `/`); empty allows any. */
  allowedImages: string[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

/** A manifest that the KafkaConnector owns. */
export interface OwnedManifest extends Manifest {
  metadata: Manifest["metadata"] & { ownerReferences: OwnerReference[] };
}

export type Desired =
  | { valid: true; resource: KafkaConnectorResource; objects: OwnedManifest[]; statefulSet: string }
  | { valid: false; problems: Problem[] };

// The Service `<name>-headless` must be a DNS-1035 label, and the StatefulSet's revision label
// `<name>-<10-char hash>` must fit in 63 characters: stricter than the CRD's object name rule.
const NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const MAX_NAME = 52;

export const SECRET_PROVIDER_CLASS_API = "secrets-store.csi.x-k8s.io/v1";

/** Checks that the CRD's schema cannot state, and the operator's own image allow-list. */
export function operatorProblems(resource: KafkaConnectorResource, allowedImages: string[]): Problem[] {
  const out: Problem[] = [];
  const name = resource.metadata.name;
  if (!NAME.test(name) || name.length > MAX_NAME) {
    out.push({ path: "metadata.name", message: `got ${JSON.stringify(name)}; the operator needs lower-case letters, digits and '-', starting with a letter, at most ${MAX_NAME} characters (it names the StatefulSet and the Service <name>-headless)` });
  }
  const repo = resource.spec.image.repository;
  if (allowedImages.length && !allowedImages.some((a) => repo === a || (a.endsWith("/") && repo.startsWith(a)))) {
    out.push({ path: "spec.image.repository", message: `got ${JSON.stringify(repo)}; this operator runs only images from ${allowedImages.join(", ")}` });
  }
  return out;
}

/** The objects for one KafkaConnector, in the order they are applied: what the pods use comes first. */
export function desiredObjects(obj: ConnectorObject, defaults: OperatorDefaults): Desired {
  const uid = obj.metadata?.uid;
  if (!uid) return { valid: false, problems: [{ path: "metadata.uid", message: "missing; the object did not come from the API server" }] };
  const checked = validateDocument(asConfigDocument(obj));
  if (checked.problems.length || !checked.resource) return { valid: false, problems: checked.problems.map(({ path, message }) => ({ path, message })) };
  const resource = checked.resource as KafkaConnectorResource;
  const identity = workloadIdentityClientId(obj);
  const own = [...operatorProblems(resource, defaults.allowedImages), ...(identity.problem ? [identity.problem] : [])];
  if (own.length) return { valid: false, problems: own };
  const clientId = identity.clientId;

  const name = resource.metadata.name;
  const namespace = resource.metadata.namespace ?? "default";
  const labels = { ...workloadLabels(name), "app.kubernetes.io/managed-by": FIELD_MANAGER };
  const vault = keyVaultReferences(resource.spec);
  const spcNames = Object.fromEntries(vault.map((r) => [r.use, secretProviderClassName(name, r.use)]));
  let workload;
  try {
    workload = workloadManifests(resource, {
      ...defaults.workload,
      secretProviderClasses: spcNames,
      managedBy: FIELD_MANAGER,
      // As the Pulumi component does with workloadIdentityClientId: the webhook injects the federated token.
      ...(clientId ? { workloadIdentity: true, serviceAccountAnnotations: { "azure.workload.identity/client-id": clientId }, podLabels: { "azure.workload.identity/use": "true" } } : {}),
    });
  } catch (e) {
    // e.g. a Secret and a ConfigMap of one name, which would need the same mount directory; the
    // message names both fields.
    return { valid: false, problems: [{ path: "spec", message: (e as Error).message }] };
  }
  // Without a client ID, Key Vault is read with the service principal Secret the reference names.
  const spcs: Manifest[] = vault.map((ref) => ({
    apiVersion: SECRET_PROVIDER_CLASS_API,
    kind: "SecretProviderClass",
    metadata: { name: spcNames[ref.use]!, namespace, labels },
    spec: { provider: "azure", parameters: secretProviderClassParameters(ref, clientId) },
  }));
  const owner: OwnerReference = { apiVersion: API_VERSION_FULL, kind: "KafkaConnector", name, uid, controller: true, blockOwnerDeletion: true };
  const objects = [workload.serviceAccount, workload.role, workload.roleBinding, ...spcs, workload.service, workload.statefulSet, workload.podDisruptionBudget].map(
    (m): OwnedManifest => ({ ...m, metadata: { ...m.metadata, ownerReferences: [owner] } }),
  );
  return { valid: true, resource, objects, statefulSet: workload.statefulSet.metadata.name };
}

/** `Kind/name` for logs and status messages. */
export function objectKey(m: { kind: string; metadata: { name: string } }): string {
  return `${m.kind}/${m.metadata.name}`;
}
