/**
 * The connector workload as plain Kubernetes objects: where secrets are mounted, the
 * SecretProviderClass parameters for Key Vault references, the pod, its RBAC and the objects
 * around it. Pure functions of the validated resource, used by the Pulumi component
 * (components/kafka-connector.ts) and the operator (connector/operator/) alike.
 */
import { DEFAULT_SAT_TOKEN_PATH, DEFAULT_SECRETS_DIR } from "../config/endpoints";
import { secretRefs } from "../config/secret-refs";
import { createHash } from "node:crypto";
import { posix } from "node:path";
import { stringify } from "yaml";
import type { V1PodSpec, V1PolicyRule, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { API_GROUP, type KafkaConnectorResource, type KafkaConnectorSpecResolved } from "../config/schema";

/** Where Secrets, ConfigMaps and Key Vault objects are mounted (`--secrets-dir`), one directory each. */
export const SECRETS_DIR = DEFAULT_SECRETS_DIR;
/** Default MQTT service account token file of `authentication.kubernetes`. */
export const MQTT_TOKEN_PATH = DEFAULT_SAT_TOKEN_PATH;
export const HTTP_PORT = 8080;
export const LIVENESS_PATH = "/healthz";
export const READINESS_PATH = "/readyz";
export const METRICS_PATH = "/metrics";
/** The image runs as this uid/gid (connector/Dockerfile). */
export const RUN_AS_USER = 10001;
export const CONTAINER_NAME = "connector";
/**
 * Container resources when the component's args leave them unset. The benchmark runs the
 * connector under this memory limit too: Node sizes its heap from it.
 */
export const DEFAULT_RESOURCES = { cpuRequest: "100m", memoryRequest: "128Mi", memoryLimit: "512Mi" } as const;

/** What a mount directory is filled from. */
export type MountSource =
  | { kind: "secret"; name: string }
  | { kind: "configMap"; name: string }
  | { kind: "keyVault"; name: string; reference: KeyVaultReference };

export interface SecretMount {
  /** Pod volume name (DNS label). */
  volume: string;
  /** `<SECRETS_DIR>/<name>`. */
  mountPath: string;
  source: MountSource;
  /** Spec fields that reference it, for error messages. */
  usedBy: string[];
}

/** A Key Vault reference in the spec, rendered by the Secrets Store CSI driver. */
export interface KeyVaultReference {
  /** `sasl` or `x509`: which Kafka authentication uses it; also the SecretProviderClass suffix. */
  use: "sasl" | "x509";
  /** Spec path of the reference. */
  field: string;
  vaultName: string;
  tenantId: string;
  /** Kubernetes Secret with `clientid` / `clientsecret` the CSI driver uses to read the vault. */
  credentialsSecret: string;
  /** Directory name under SECRETS_DIR; the connector derives it from the spec the same way. */
  directory: string;
  objects: KeyVaultObject[];
}

/** One entry of the Azure provider's `objects` parameter. */
export interface KeyVaultObject {
  objectName: string;
  objectType: "secret" | "cert";
  objectVersion: string;
  /** File name written in the mount. */
  objectAlias: string;
}

/** A DNS-1123 label for a volume; a hash suffix keeps it unique when the name had to be changed. */
export function volumeName(prefix: string, name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  const candidate = `${prefix}-${cleaned}`;
  if (cleaned === name && candidate.length <= 63 && !candidate.endsWith("-")) return candidate;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  return `${prefix}-${cleaned.slice(0, 63 - prefix.length - 10).replace(/-+$/, "")}-${hash}`;
}

/** The Key Vault references in a validated spec (only for enabled Kafka authentication). */
export function keyVaultReferences(spec: KafkaConnectorSpecResolved): KeyVaultReference[] {
  const auth = spec.kafkaConnection.authentication;
  if (!auth?.enabled) return [];
  const out: KeyVaultReference[] = [];
  const sasl = auth.authType.sasl?.token.keyVault;
  if (sasl) {
    out.push({
      use: "sasl",
      field: "spec.kafkaConnection.authentication.authType.sasl.token.keyVault",
      vaultName: sasl.vault.name,
      tenantId: sasl.vault.directoryId,
      credentialsSecret: sasl.vault.credentials.servicePrincipalLocalSecretName,
      directory: sasl.vaultSecret.name,
      objects: [{ objectName: sasl.vaultSecret.name, objectType: "secret", objectVersion: sasl.vaultSecret.version ?? "", objectAlias: "password" }],
    });
  }
  const x509 = auth.authType.x509?.keyVault;
  if (x509) {
    const cert = x509.vaultCert ?? x509.vaultCaChainSecret;
    if (cert) {
      const version = cert.version ?? "";
      // Reading a Key Vault certificate as a `secret` yields PEM with the private key and the
      // certificate (the whole chain for a chain upload); as a `cert` only the leaf certificate.
      // PEM readers pick the block type they need, so tls.key may carry the certificate too.
      const crt: KeyVaultObject = x509.vaultCert
        ? { objectName: cert.name, objectType: "cert", objectVersion: version, objectAlias: "tls.crt" }
        : { objectName: cert.name, objectType: "secret", objectVersion: version, objectAlias: "tls.crt" };
      out.push({
        use: "x509",
        field: `spec.kafkaConnection.authentication.authType.x509.keyVault.${x509.vaultCert ? "vaultCert" : "vaultCaChainSecret"}`,
        vaultName: x509.vault.name,
        tenantId: x509.vault.directoryId,
        credentialsSecret: x509.vault.credentials.servicePrincipalLocalSecretName,
        directory: cert.name,
        objects: [crt, { objectName: cert.name, objectType: "secret", objectVersion: version, objectAlias: "tls.key" }],
      });
    }
  }
  return out;
}

function keyVaultObjects(ref: KeyVaultReference): string {
  return stringify({ array: ref.objects.map((o) => stringify(o)) });
}

/** `parameters` of a SecretProviderClass for the Azure Key Vault provider. */
export function secretProviderClassParameters(ref: KeyVaultReference, workloadIdentityClientId?: string): Record<string, string> {
  if (workloadIdentityClientId) {
    // The pod's own workload identity reads the vault (it needs Key Vault Secrets User there); the
    // service principal Secret of the reference is not used.
    return { usePodIdentity: "false", clientID: workloadIdentityClientId, keyvaultName: ref.vaultName, tenantId: ref.tenantId, objects: keyVaultObjects(ref) };
  }
  return {
    // Credentials come from the service principal secret (nodePublishSecretRef), not pod identity.
    // The CSI driver reads that Secret only if it carries the label secrets-store.csi.k8s.io/used=true.
    usePodIdentity: "false",
    useVMManagedIdentity: "false",
    keyvaultName: ref.vaultName,
    tenantId: ref.tenantId,
    objects: keyVaultObjects(ref),
  };
}

/** Kubernetes name of the SecretProviderClass for a reference. */
export function secretProviderClassName(connectorName: string, use: string): string {
  return `${connectorName}-kv-${use}`;
}

/**
 * Every directory the connector reads under SECRETS_DIR, deduplicated. Throws when two different
 * sources would need the same directory (e.g. a Secret and a ConfigMap with one name).
 */
export function secretMounts(spec: KafkaConnectorSpecResolved): SecretMount[] {
  const mounts = new Map<string, SecretMount>();
  const add = (source: MountSource, field: string) => {
    const existing = mounts.get(source.name);
    if (existing) {
      if (existing.source.kind !== source.kind) {
        throw new Error(
          `${field} and ${existing.usedBy[0]} both need ${SECRETS_DIR}/${source.name}, ` +
            `once as a ${source.kind} and once as a ${existing.source.kind}; give them different names`,
        );
      }
      existing.usedBy.push(field);
      return;
    }
    const prefix = source.kind === "secret" ? "secret" : source.kind === "configMap" ? "ca" : "kv";
    mounts.set(source.name, { volume: volumeName(prefix, source.name), mountPath: `${SECRETS_DIR}/${source.name}`, source, usedBy: [field] });
  };
  const vault = keyVaultReferences(spec);
  for (const ref of secretRefs(spec)) {
    if (ref.kind !== "keyVault") add({ kind: ref.kind, name: ref.dir }, ref.field);
    else for (const r of vault.filter((v) => v.field === ref.field)) add({ kind: "keyVault", name: ref.dir, reference: r }, ref.field);
  }
  return [...mounts.values()];
}

/** Labels shared by every workload object; the first two are the selector. */
export function workloadLabels(connectorName: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": "mqtt-kafka-connector",
    "app.kubernetes.io/instance": connectorName,
    "app.kubernetes.io/component": "connector",
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

export function selectorLabels(connectorName: string): Record<string, string> {
  const { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": instance } = workloadLabels(connectorName);
  return { "app.kubernetes.io/name": name!, "app.kubernetes.io/instance": instance! };
}

/** Options of the pod spec that do not come from the connector spec. */
export interface PodOptions {
  /** Namespace and name of the KafkaConnector the pods run; they read it from the API. */
  namespace: string;
  connectorName: string;
  serviceAccountName: string;
  /** SecretProviderClass name per Key Vault reference use (`sasl`, `x509`). */
  secretProviderClasses: Record<string, string>;
  /** The pods run with AKS workload identity, which also reads Key Vault (no service principal Secret). */
  workloadIdentity?: boolean;
  /** Audience of the projected token for MQTT `authentication.kubernetes`. */
  mqttTokenAudience: string;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  imagePullSecrets: string[];
  terminationGracePeriodSeconds: number;
  nodeSelector?: Record<string, string>;
  /** Extra container environment, after the component's own variables. */
  env?: Record<string, string>;
  /** A persistent volume per pod for the disk spool of mqttToKafka routes (a volumeClaimTemplate). */
  spool?: SpoolVolume;
}

export interface SpoolVolume {
  /** Requested size, a Kubernetes quantity such as `10Gi`. */
  size: string;
  /** Storage class of the claims; default: the cluster's default class. */
  storageClassName?: string;
}

/** Where the spool volume is mounted; the one writable path besides /tmp. */
export const SPOOL_MOUNT_PATH = "/var/lib/mqtt-kafka-connector/spool";
/** Share of the volume the spool may fill when runtime.spoolMaxBytes is not set: LMDB needs room to free pages. */
export const SPOOL_VOLUME_SHARE = 0.8;

/**
 * The spool's environment for a volume of `size` bytes: the mount path, and a byte budget under the
 * volume unless the caller set one. A budget above the volume would fail on a full disk instead.
 */
export function spoolEnvironment(sizeBytes: number, env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { SPOOL_DIR: SPOOL_MOUNT_PATH };
  if (env["SPOOL_MAX_BYTES"] === undefined) out["SPOOL_MAX_BYTES"] = String(Math.max(2 ** 20, Math.floor(sizeBytes * SPOOL_VOLUME_SHARE)));
  return out;
}

export const RESTRICTED_CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  runAsGroup: RUN_AS_USER,
  seccompProfile: { type: "RuntimeDefault" },
};

export const RESTRICTED_POD_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  runAsGroup: RUN_AS_USER,
  fsGroup: RUN_AS_USER,
  seccompProfile: { type: "RuntimeDefault" },
};

/** The connector pod, compliant with Pod Security "restricted". */
export function connectorPodSpec(spec: KafkaConnectorSpecResolved, o: PodOptions): V1PodSpec {
  // The root filesystem is read-only; /tmp is the one writable path.
  const volumes: V1Volume[] = [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }];
  const mounts: V1VolumeMount[] = [{ name: "tmp", mountPath: "/tmp" }];
  // The claim comes from the StatefulSet's volumeClaimTemplate; fsGroup makes it writable for the non-root user.
  if (o.spool) mounts.push({ name: SPOOL_VOLUME, mountPath: SPOOL_MOUNT_PATH });
  for (const m of secretMounts(spec)) {
    if (m.source.kind === "secret") volumes.push({ name: m.volume, secret: { secretName: m.source.name } });
    else if (m.source.kind === "configMap") volumes.push({ name: m.volume, configMap: { name: m.source.name } });
    else {
      const spc = o.secretProviderClasses[m.source.reference.use];
      if (!spc) throw new Error(`no SecretProviderClass for ${m.source.reference.field}`);
      volumes.push({
        name: m.volume,
        csi: {
          driver: "secrets-store.csi.k8s.io",
          readOnly: true,
          volumeAttributes: { secretProviderClass: spc },
          ...(o.workloadIdentity ? {} : { nodePublishSecretRef: { name: m.source.reference.credentialsSecret } }),
        },
      });
    }
    mounts.push({ name: m.volume, mountPath: m.mountPath, readOnly: true });
  }
  const k8sAuth = spec.localBrokerConnection.authentication?.kubernetes;
  if (k8sAuth) {
    const tokenPath = k8sAuth.tokenPath ?? MQTT_TOKEN_PATH;
    volumes.push({
      name: "mqtt-token",
      projected: {
        sources: [{ serviceAccountToken: { audience: o.mqttTokenAudience, expirationSeconds: 3600, path: posix.basename(tokenPath) } }],
      },
    });
    mounts.push({ name: "mqtt-token", mountPath: posix.dirname(tokenPath), readOnly: true });
  }
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: "http" },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });
  return {
    serviceAccountName: o.serviceAccountName,
    // The connector reads its KafkaConnector and topic maps and writes their status (connectorRole).
    automountServiceAccountToken: true,
    securityContext: RESTRICTED_POD_SECURITY_CONTEXT,
    terminationGracePeriodSeconds: o.terminationGracePeriodSeconds,
    ...(o.imagePullSecrets.length ? { imagePullSecrets: o.imagePullSecrets.map((name) => ({ name })) } : {}),
    ...(o.nodeSelector && Object.keys(o.nodeSelector).length ? { nodeSelector: o.nodeSelector } : {}),
    containers: [
      {
        name: CONTAINER_NAME,
        image: `${spec.image.repository}:${spec.image.tag}`,
        imagePullPolicy: spec.image.pullPolicy,
        args: ["--config", k8sConfigSource(o.namespace, o.connectorName), "--secrets-dir", SECRETS_DIR],
        env: [
          // The StatefulSet ordinal in the pod name is the connector's instance index.
          { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
          { name: "HTTP_PORT", value: String(HTTP_PORT) },
          ...Object.entries(o.env ?? {})
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, value]) => ({ name, value })),
        ],
        ports: [{ name: "http", containerPort: HTTP_PORT, protocol: "TCP" }],
        startupProbe: probe(LIVENESS_PATH, 2, 30),
        livenessProbe: probe(LIVENESS_PATH, 10, 3),
        readinessProbe: probe(READINESS_PATH, 5, 3),
        resources: o.resources,
        securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT,
        volumeMounts: mounts,
      },
    ],
    volumes,
  };
}

const SPOOL_VOLUME = "spool";

function spoolClaim(v: SpoolVolume): Record<string, unknown> {
  return {
    metadata: { name: SPOOL_VOLUME },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: v.size } }, ...(v.storageClassName ? { storageClassName: v.storageClassName } : {}) },
  };
}

/** The `--config` value that makes the connector read its custom resources from the API. */
export function k8sConfigSource(namespace: string, connectorName: string): string {
  return `k8s://${namespace}/${connectorName}`;
}

/** Leases the connector's instances use: one names who writes status, one per instance says it is ready. */
export function leaseNames(connectorName: string, instances: number): { leader: string; instances: string[] } {
  return { leader: `${connectorName}-status`, instances: Array.from({ length: instances }, (_, i) => `${connectorName}-instance-${i}`) };
}

/**
 * What the connector's service account may do, and nothing more: read its own KafkaConnector and
 * the topic maps of its namespace, write their status, hold its Leases and record Events. No
 * Secrets: those stay mounted files.
 */
export function connectorRoleRules(connectorName: string, instances: number): V1PolicyRule[] {
  const leases = leaseNames(connectorName, instances);
  return [
    { apiGroups: [API_GROUP], resources: ["kafkaconnectors"], resourceNames: [connectorName], verbs: ["get", "list", "watch"] },
    { apiGroups: [API_GROUP], resources: ["kafkaconnectortopicmaps"], verbs: ["get", "list", "watch"] },
    { apiGroups: [API_GROUP], resources: ["kafkaconnectors/status"], resourceNames: [connectorName], verbs: ["get", "patch", "update"] },
    { apiGroups: [API_GROUP], resources: ["kafkaconnectortopicmaps/status"], verbs: ["get", "patch", "update"] },
    // Creating cannot be limited by name; reading and renewing can.
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: [leases.leader, ...leases.instances], verbs: ["get", "update", "patch"] },
    { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
  ];
}

/** A manifest as the API takes it. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** What the pods need besides the validated resource. */
export interface WorkloadOptions extends Omit<PodOptions, "namespace" | "connectorName" | "serviceAccountName"> {
  serviceAccountName?: string;
  /** Pod template labels on top of the workload labels (e.g. azure.workload.identity/use). */
  podLabels?: Record<string, string>;
  /** Service account annotations (e.g. azure.workload.identity/client-id). */
  serviceAccountAnnotations?: Record<string, string>;
  maxUnavailable: number;
  /** `app.kubernetes.io/managed-by`. */
  managedBy: string;
}

export interface WorkloadManifests {
  serviceAccount: Manifest;
  role: Manifest;
  roleBinding: Manifest;
  service: Manifest;
  statefulSet: Manifest;
  podDisruptionBudget: Manifest;
}

/**
 * Everything a KafkaConnector runs as: its service account with a Role limited to its own
 * resources, a headless Service, a StatefulSet (`instances` replicas; the pod ordinal is the
 * instance index) and a PodDisruptionBudget. The pods read the KafkaConnector and its topic maps
 * from the API, so a route change reaches them without a restart.
 */
export function workloadManifests(connector: KafkaConnectorResource, o: WorkloadOptions): WorkloadManifests {
  const name = connector.metadata.name;
  const namespace = connector.metadata.namespace ?? "default";
  const sa = o.serviceAccountName ?? name;
  const labels = { ...workloadLabels(name), "app.kubernetes.io/managed-by": o.managedBy };
  const selector = selectorLabels(name);
  const meta = (objectName: string, extra: Partial<Manifest["metadata"]> = {}) => ({ name: objectName, namespace, labels, ...extra });
  const pod = connectorPodSpec(connector.spec, { ...o, namespace, connectorName: name, serviceAccountName: sa });
  return {
    serviceAccount: {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: meta(sa, o.serviceAccountAnnotations ? { annotations: o.serviceAccountAnnotations } : {}),
      automountServiceAccountToken: false,
    },
    role: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: meta(`${name}-connector`), rules: connectorRoleRules(name, connector.spec.instances) },
    roleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta(`${name}-connector`),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${name}-connector` },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace }],
    },
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(`${name}-headless`),
      // Headless: stable per-pod DNS for the StatefulSet, and a scrape target per instance.
      spec: { clusterIP: "None", selector, ports: [{ name: "http", port: HTTP_PORT, targetPort: "http", protocol: "TCP" }] },
    },
    statefulSet: {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta(name),
      spec: {
        serviceName: `${name}-headless`,
        ...(o.spool ? { volumeClaimTemplates: [spoolClaim(o.spool)], persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" } } : {}),
        replicas: connector.spec.instances,
        // Instances are independent (static partitioning by ordinal); no need to start them one by one.
        podManagementPolicy: "Parallel",
        updateStrategy: { type: "RollingUpdate" },
        selector: { matchLabels: selector },
        template: {
          metadata: {
            labels: { ...labels, ...o.podLabels },
            annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(HTTP_PORT), "prometheus.io/path": METRICS_PATH },
          },
          spec: pod,
        },
      },
    },
    podDisruptionBudget: { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: meta(name), spec: { maxUnavailable: o.maxUnavailable, selector: { matchLabels: selector } } },
  };
}
