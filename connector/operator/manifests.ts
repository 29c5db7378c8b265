/**
 * What installs the operator, as plain objects: its namespace, service account, the rights it
 * needs (cluster-wide, or a Role in the one namespace it watches), their binding and its
 * Deployment. Pure, so deploy/operator/*.yaml (scripts/gen-crds.ts) and the ConnectorOperator
 * Pulumi component are rendered from the same function and cannot drift.
 */
import type { V1PolicyRule } from "@kubernetes/client-node";
import { API_GROUP, DEFAULT_IMAGE_REPOSITORY, DEFAULT_IMAGE_TAG, type LogLevel } from "../config/schema";
import { HTTP_PORT, LIVENESS_PATH, READINESS_PATH, RESTRICTED_CONTAINER_SECURITY_CONTEXT, RUN_AS_USER } from "../k8s/workload";
import { FlagError, parseOperatorFlags } from "./flags";
import { FIELD_MANAGER } from "./names";

/** Name of the service account, the ClusterRole (or Role), the binding and the Deployment. */
export const OPERATOR_NAME = FIELD_MANAGER;
export const OPERATOR_NAMESPACE = "mqtt-kafka-connector-system";
/** The operator runs from the connector's image (`args: [operator]`). */
export const DEFAULT_OPERATOR_IMAGE = `${DEFAULT_IMAGE_REPOSITORY}:${DEFAULT_IMAGE_TAG}`;
export const DEFAULT_OPERATOR_RESOURCES = { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } };

/**
 * What the operator passes to every connector's pods (its flags); unset leaves the flag's default.
 * The ConnectorOperator component takes the same, as `connector`.
 */
export interface OperatorConnectorFlags {
  /** Audience of the pods' projected token for MQTT K8S-SAT. Default `aio-internal`. */
  mqttTokenAudience?: string;
  /** CPU request. Default `100m`. */
  cpuRequest?: string;
  /** CPU limit. Default none. */
  cpuLimit?: string;
  /** Memory request. Default `128Mi`. */
  memoryRequest?: string;
  /** Memory limit. Default `512Mi`. */
  memoryLimit?: string;
  /** Seconds a pod gets to drain after SIGTERM. Default 60. */
  terminationGracePeriodSeconds?: number;
  /** PodDisruptionBudget maxUnavailable. Default 1. */
  maxUnavailable?: number;
  /** Image pull Secrets of the connector pods; each must exist in every connector's namespace. */
  imagePullSecrets?: string[];
}

export interface OperatorManifestOptions {
  /** Where the operator runs. Default `mqtt-kafka-connector-system`. */
  namespace?: string;
  /** Include that Namespace (enforcing Pod Security `restricted`). Default true. */
  createNamespace?: boolean;
  /** `repository:tag` of the operator's image. Default the connector image of this version. */
  image?: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  /** Pull Secrets of the operator's own pod, in `namespace`. */
  imagePullSecrets?: string[];
  /** Watch and apply in this namespace only: a Role and RoleBinding there, no cluster-wide rights. */
  watchNamespace?: string;
  connector?: OperatorConnectorFlags;
  /** `--allow-image`: the only image repositories connectors may run (exact, or a prefix ending in `/`). */
  allowImages?: string[];
  resyncSeconds?: number;
  logLevel?: LogLevel;
  /** The operator container's own resources. */
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  /** Added to every object's labels (never to the Deployment's selector). */
  labels?: Record<string, string>;
}

/** An object of the install; cluster-scoped ones have no namespace. */
export interface OperatorManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  [field: string]: unknown;
}

export interface OperatorManifests {
  /** Absent with `createNamespace: false`. */
  namespace?: OperatorManifest;
  serviceAccount: OperatorManifest;
  /** ClusterRole, or a Role in `watchNamespace`. */
  role: OperatorManifest;
  /** ClusterRoleBinding, or a RoleBinding in `watchNamespace`. */
  binding: OperatorManifest;
  deployment: OperatorManifest;
}

/** An option the operator would refuse at start; the message names the option and the flag. */
export class OperatorOptionError extends Error {}

/**
 * The rules, each with why it is there (deploy/operator/clusterrole.yaml carries the reasons as
 * comments). The connector Role the operator creates must be covered: Kubernetes lets a subject
 * create or bind a Role only if it holds every permission in it, and `escalate`/`bind` would be
 * far more power than these few rules.
 */
export const OPERATOR_RULES: { why?: string; rule: V1PolicyRule }[] = [
  { why: "The resources it reconciles, and status.operator on them.", rule: { apiGroups: [API_GROUP], resources: ["kafkaconnectors"], verbs: ["get", "list", "watch"] } },
  { rule: { apiGroups: [API_GROUP], resources: ["kafkaconnectors/status"], verbs: ["get", "patch", "update"] } },
  { why: "Owner references with blockOwnerDeletion need this where OwnerReferencesPermissionEnforcement is on.", rule: { apiGroups: [API_GROUP], resources: ["kafkaconnectors/finalizers"], verbs: ["update"] } },
  { why: "Held only so that it may grant them to the connector pods' Role (see above).", rule: { apiGroups: [API_GROUP], resources: ["kafkaconnectortopicmaps"], verbs: ["get", "list", "watch"] } },
  { rule: { apiGroups: [API_GROUP], resources: ["kafkaconnectortopicmaps/status"], verbs: ["get", "patch", "update"] } },
  { rule: { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create", "get", "update", "patch"] } },
  { why: "Events on the KafkaConnectors (and granted to the pods).", rule: { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] } },
  {
    why: "The objects it applies. Server-side apply is a PATCH that creates what is missing, so it needs\nboth verbs; it never reads, lists or deletes them (the garbage collector deletes them).",
    rule: { apiGroups: [""], resources: ["serviceaccounts", "services"], verbs: ["create", "patch"] },
  },
  { rule: { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings"], verbs: ["create", "patch"] } },
  { rule: { apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["create", "patch"] } },
  { rule: { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: ["create", "patch"] } },
  { why: "For KafkaConnectors with Key Vault references (the Secrets Store CSI driver's CRD).", rule: { apiGroups: ["secrets-store.csi.x-k8s.io"], resources: ["secretproviderclasses"], verbs: ["create", "patch"] } },
];

// Flag, option path (for messages), value: in the order `mqtt-kafka-connector operator --help` lists them.
type FlagValue = [flag: string, option: string, value: string | number | undefined];

/**
 * `["operator", ...flags]`, only the flags that differ from the defaults. Checked with the
 * operator's own flag parser: a value it would refuse at start throws here, naming the option.
 */
export function operatorArgs(o: OperatorManifestOptions = {}): string[] {
  const c = o.connector ?? {};
  const flags: FlagValue[] = [
    ["namespace", "watchNamespace", o.watchNamespace],
    ["resync-seconds", "resyncSeconds", o.resyncSeconds],
    ["mqtt-token-audience", "connector.mqttTokenAudience", c.mqttTokenAudience],
    ["cpu-request", "connector.cpuRequest", c.cpuRequest],
    ["cpu-limit", "connector.cpuLimit", c.cpuLimit],
    ["memory-request", "connector.memoryRequest", c.memoryRequest],
    ["memory-limit", "connector.memoryLimit", c.memoryLimit],
    ["termination-grace-seconds", "connector.terminationGracePeriodSeconds", c.terminationGracePeriodSeconds],
    ["max-unavailable", "connector.maxUnavailable", c.maxUnavailable],
    ...(c.imagePullSecrets ?? []).map((s, i): FlagValue => ["image-pull-secret", `connector.imagePullSecrets[${i}]`, s]),
    ...(o.allowImages ?? []).map((s, i): FlagValue => ["allow-image", `allowImages[${i}]`, s]),
    ["log-level", "logLevel", o.logLevel],
  ];
  const args: string[] = [];
  for (const [flag, option, value] of flags) {
    if (value === undefined) continue;
    // One token, so that a value starting with '-' cannot read as a flag.
    const one = `--${flag}=${String(value)}`;
    try {
      parseOperatorFlags([one], {});
    } catch (e) {
      if (e instanceof FlagError || e instanceof TypeError) throw new OperatorOptionError(`${option}: ${(e as Error).message}`);
      throw e;
    }
    args.push(one);
  }
  return ["operator", ...args];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkName(option: string, value: string | undefined, what: string): void {
  if (value !== undefined && (!DNS_LABEL.test(value) || value.length > 63)) throw new OperatorOptionError(`${option}: got ${JSON.stringify(value)}; must be ${what} (lower-case letters, digits and '-', at most 63)`);
}

/** The operator's install; with no options, exactly what deploy/operator/ holds. */
export function operatorManifests(o: OperatorManifestOptions = {}): OperatorManifests {
  const namespace = o.namespace ?? OPERATOR_NAMESPACE;
  checkName("namespace", namespace, "a namespace name");
  for (const [i, s] of (o.imagePullSecrets ?? []).entries()) checkName(`imagePullSecrets[${i}]`, s, "a Secret name");
  const image = o.image ?? DEFAULT_OPERATOR_IMAGE;
  if (!image || /\s/.test(image)) throw new OperatorOptionError(`image: got ${JSON.stringify(image)}; must be an image reference such as ${DEFAULT_OPERATOR_IMAGE}`);
  const args = operatorArgs(o);
  const name = OPERATOR_NAME;
  const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "mqtt-kafka-connector", ...o.labels };
  const scope = o.watchNamespace;
  const rbac = (kind: string) => (scope ? { apiVersion: "rbac.authorization.k8s.io/v1", kind, metadata: { name, namespace: scope, labels } } : { apiVersion: "rbac.authorization.k8s.io/v1", kind: `Cluster${kind}`, metadata: { name, labels } });
  const probe = (path: string, periodSeconds: number) => ({ httpGet: { path, port: "http" }, periodSeconds, timeoutSeconds: 2, failureThreshold: 3 });
  return {
    ...(o.createNamespace === false
      ? {}
      : {
          namespace: {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: {
              name: namespace,
              labels: { "app.kubernetes.io/part-of": "mqtt-kafka-connector", ...o.labels, ...Object.fromEntries(["enforce", "warn", "audit"].map((m) => [`pod-security.kubernetes.io/${m}`, "restricted"])) },
            },
          },
        }),
    serviceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace, labels } },
    role: { ...rbac("Role"), rules: OPERATOR_RULES.map((r) => r.rule) },
    binding: {
      ...rbac("RoleBinding"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: scope ? "Role" : "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
    deployment: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace, labels },
      spec: {
        replicas: 1,
        strategy: { type: "Recreate" },
        selector: { matchLabels: { "app.kubernetes.io/name": name } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: true,
            securityContext: { runAsNonRoot: true, runAsUser: RUN_AS_USER, runAsGroup: RUN_AS_USER, seccompProfile: { type: "RuntimeDefault" } },
            terminationGracePeriodSeconds: 30,
            ...(o.imagePullSecrets?.length ? { imagePullSecrets: o.imagePullSecrets.map((s) => ({ name: s })) } : {}),
            containers: [
              {
                name: "operator",
                image,
                imagePullPolicy: o.imagePullPolicy ?? "IfNotPresent",
                args,
                env: [
                  { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                  { name: "HTTP_PORT", value: String(HTTP_PORT) },
                ],
                ports: [{ name: "http", containerPort: HTTP_PORT, protocol: "TCP" }],
                livenessProbe: probe(LIVENESS_PATH, 10),
                readinessProbe: probe(READINESS_PATH, 5),
                resources: o.resources ?? DEFAULT_OPERATOR_RESOURCES,
                securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT,
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }],
          },
        },
      },
    },
  };
}
