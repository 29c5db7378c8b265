import * as pulumi from "@pulumi/pulumi";
import { RUNTIME_OPTIONS, runtimeEnvironment, type RuntimeValues } from "../connector/config/runtime-options";
import { childOptions } from "./options";
import * as kubernetes from "@pulumi/kubernetes";
import { API_VERSION_FULL, type KafkaConnectorResource, type KafkaConnectorTopicMapResource } from "../connector/config/schema";
import type { ConnectorRuntimeArgs, KafkaConnectorSpecArgs, KafkaConnectorTopicMapSpecArgs } from "./spec-types";
import {
  InvalidArgsError,
  isFullyKnown,
  k8sNameProblem,
  renderConnectorConfig,
  resolveConnectorSpec,
  resolveTopicMapSpec,
} from "./connector-config";
import {
  DEFAULT_RESOURCES,
  keyVaultReferences,
  secretMounts,
  secretProviderClassName,
  secretProviderClassParameters,
  workloadLabels,
  workloadManifests,
  type KeyVaultReference,
  type WorkloadManifests,
} from "./workload";

/** How the connector pods run: resources, scheduling, drain time and the process's runtime options. */
export interface ConnectorWorkloadArgs {
  /**
   * Audience of the projected service account token for MQTT `authentication.kubernetes` (K8S-SAT).
   * Default `aio-internal`, what the Azure IoT Operations MQTT broker (GA) expects; the preview
   * broker expected `aio-mq`.
   */
  mqttTokenAudience?: pulumi.Input<string>;
  /** CPU request. Default `100m`. */
  cpuRequest?: pulumi.Input<string>;
  /** Memory request. Default `128Mi`. */
  memoryRequest?: pulumi.Input<string>;
  /** CPU limit. Default none: a CPU limit throttles batching and adds latency without protecting neighbours. */
  cpuLimit?: pulumi.Input<string>;
  /** Memory limit. Default `512Mi`. */
  memoryLimit?: pulumi.Input<string>;
  /** Names of image pull Secrets for a private registry. */
  imagePullSecrets?: pulumi.Input<string>[];
  /** Seconds a pod gets to drain (flush batches, await acks and commits) after SIGTERM. Default 60. */
  terminationGracePeriodSeconds?: pulumi.Input<number>;
  /** PodDisruptionBudget maxUnavailable. Default 1. */
  maxUnavailable?: pulumi.Input<number>;
  /** Node selector of the pods. */
  nodeSelector?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /** The connector's runtime options (its flags), typed; rendered into the container environment. */
  runtime?: ConnectorRuntimeArgs;
  /**
   * Other environment variables of the connector container, e.g. `NODE_OPTIONS`. Runtime options
   * go in `runtime`. Values are plain pod spec text; secrets belong in the spec's Secret and Key
   * Vault references, not here.
   */
  env?: { [name: string]: pulumi.Input<string> };
}

export interface KafkaConnectorArgs extends ConnectorWorkloadArgs {
  /** Kubernetes namespace of the connector and its objects. */
  namespace: pulumi.Input<string>;
  /** Kubernetes name of the KafkaConnector object and the StatefulSet. Default: the component name. */
  connectorName?: string;
  /** The KafkaConnector spec. Validated with the connector's own validator; defaults are filled in. */
  spec: KafkaConnectorSpecArgs;
  /** The KafkaConnectorTopicMap spec; `kafkaConnectorRef` defaults to `connectorName`. */
  topicMap: KafkaConnectorTopicMapSpecArgs;
  /** Kubernetes name of the KafkaConnectorTopicMap object. Default `<connectorName>-topics`. */
  topicMapName?: string;
  /** Create the KafkaConnector and KafkaConnectorTopicMap objects (the CRDs must exist). Default true. */
  createCustomResources?: boolean;
  /** Service account name. Default: `connectorName`. */
  serviceAccountName?: string;
  /**
   * Client ID of a managed identity to use through AKS workload identity. Annotates the service
   * account and labels the pods so the webhook injects the federated token.
   */
  workloadIdentityClientId?: pulumi.Input<string>;
}

/** What the Azure IoT Operations MQTT broker checks in a K8S-SAT token's audience. */
export const DEFAULT_MQTT_TOKEN_AUDIENCE = "aio-internal";

/** Set by the component itself: the instance index and the probes depend on them. */
const RESERVED_ENV = new Set(["POD_NAME", "POD_NAMESPACE", "HTTP_PORT"]);

interface Resolved {
  connector: KafkaConnectorResource;
  topicMap: KafkaConnectorTopicMapResource;
}

/**
 * The connector on Kubernetes: its KafkaConnector and KafkaConnectorTopicMap objects, a service
 * account with a Role limited to them, Key Vault SecretProviderClasses, a StatefulSet (one pod per
 * instance; the ordinal is the instance index), a headless Service and a PodDisruptionBudget. The
 * pods read the custom resources from the API: a route change reaches them without a restart.
 */
export class KafkaConnector extends pulumi.ComponentResource {
  /** Kubernetes name of the KafkaConnector and the StatefulSet. */
  public readonly connectorName: string;
  /** Kubernetes name of the KafkaConnectorTopicMap. */
  public readonly topicMapName: string;
  /** Namespace everything is in. */
  public readonly namespace: pulumi.Output<string>;
  /** Name of the StatefulSet. */
  public readonly statefulSetName: pulumi.Output<string>;
  /** Name of the service account (for workload identity federation). */
  public readonly serviceAccountName: pulumi.Output<string>;
  /** The KafkaConnector and topic map as deployed, every default filled in (multi-document YAML). */
  public readonly connectorConfig: pulumi.Output<string>;

  constructor(name: string, args: KafkaConnectorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mqtt-kafka-connector:index:KafkaConnector", name, {}, opts);
    const component = `KafkaConnector ${JSON.stringify(name)}`;
    const fail = (message: string): never => {
      throw new InvalidArgsError(component, message);
    };
    const connectorName = args.connectorName ?? name;
    const topicMapName = args.topicMapName ?? `${connectorName}-topics`;
    const saName = args.serviceAccountName ?? connectorName;
    for (const [field, value] of [["connectorName", connectorName], ["topicMapName", topicMapName], ["serviceAccountName", saName]] as const) {
      const problem = k8sNameProblem(value);
      if (problem) fail(`${field}: ${problem}${field === "connectorName" && args.connectorName === undefined ? "; set connectorName" : ""}`);
    }
    for (const envName of Object.keys(args.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(envName)) fail(`env.${envName}: not a valid environment variable name (letters, digits and '_', not starting with a digit)`);
      if (RESERVED_ENV.has(envName)) fail(`env.${envName}: set by the component (instance index and probes depend on it); remove it`);
      const option = Object.entries(RUNTIME_OPTIONS).find(([, o]) => o.env === envName && !("podManaged" in o && o.podManaged));
      if (option) fail(`env.${envName}: a runtime option; set runtime.${option[0]} instead`);
    }
    let runtimeEnv: Record<string, string> = {};
    try {
      runtimeEnv = runtimeEnvironment((args.runtime ?? {}) as Partial<RuntimeValues>);
    } catch (e) {
      fail((e as Error).message);
    }
    // StatefulSet pod names are `<name>-<ordinal>` and must stay DNS labels.
    if (connectorName.length > 52) fail(`connectorName: ${JSON.stringify(connectorName)} is longer than 52 characters`);
    const ref = args.topicMap.kafkaConnectorRef;
    if (ref !== undefined && ref !== connectorName) {
      fail(`topicMap.kafkaConnectorRef: got ${JSON.stringify(ref)}; this topic map is deployed with connector ${JSON.stringify(connectorName)}`);
    }
    const topicMapSpec = { ...args.topicMap, kafkaConnectorRef: connectorName };
    // Bad args fail now, before any resource is registered, whenever the values are known.
    resolveTopicMapSpec(component, { name: topicMapName, namespace: "default" }, topicMapSpec);
    if (isFullyKnown(args.spec)) {
      const known = resolveConnectorSpec(component, { name: connectorName, namespace: "default" }, args.spec);
      try {
        secretMounts(known.spec);
      } catch (e) {
        fail((e as Error).message);
      }
    }

    const resolved: pulumi.Output<Resolved> = pulumi.all([pulumi.output(args.namespace), pulumi.output(args.spec)]).apply(([namespace, spec]) => {
      const connector = resolveConnectorSpec(component, { name: connectorName, namespace }, spec);
      secretMounts(connector.spec); // throws on directory clashes
      return { connector, topicMap: resolveTopicMapSpec(component, { name: topicMapName, namespace }, topicMapSpec) };
    });
    const config = resolved.apply((r) => renderConnectorConfig(r.connector, r.topicMap));

    const childOpts = childOptions(this, opts);
    const useWorkloadIdentity = args.workloadIdentityClientId !== undefined;
    const crMeta = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels: { ...workloadLabels(connectorName), "app.kubernetes.io/managed-by": "pulumi" } });

    const podDeps: pulumi.Resource[] = [];
    if (args.createCustomResources !== false) {
      podDeps.push(
        new kubernetes.apiextensions.CustomResource(
          `${name}-kafkaconnector`,
          { apiVersion: API_VERSION_FULL, kind: "KafkaConnector", metadata: crMeta(connectorName), spec: resolved.apply((r) => r.connector.spec) },
          childOpts,
        ),
        new kubernetes.apiextensions.CustomResource(
          `${name}-topicmap`,
          { apiVersion: API_VERSION_FULL, kind: "KafkaConnectorTopicMap", metadata: crMeta(topicMapName), spec: resolved.apply((r) => r.topicMap.spec) },
          childOpts,
        ),
      );
    }

    // Which Key Vault references exist is decided by the shape of the spec, known now; their values may come later.
    const kafkaAuth = args.spec.kafkaConnection.authentication;
    const kvUses: KeyVaultReference["use"][] = [];
    if (kafkaAuth && kafkaAuth.enabled !== false) {
      if (kafkaAuth.authType.sasl?.token.keyVault) kvUses.push("sasl");
      if (kafkaAuth.authType.x509?.keyVault) kvUses.push("x509");
    }
    const spcNames: Record<string, string> = {};
    for (const use of kvUses) {
      const refOf = (r: Resolved): KeyVaultReference => {
        const found = keyVaultReferences(r.connector.spec).find((k) => k.use === use);
        if (!found) throw new InvalidArgsError(component, `Key Vault reference for ${use} disappeared after resolving the spec`);
        return found;
      };
      spcNames[use] = secretProviderClassName(connectorName, use);
      podDeps.push(
        new kubernetes.apiextensions.CustomResource(
          `${name}-kv-${use}`,
          {
            apiVersion: "secrets-store.csi.x-k8s.io/v1",
            kind: "SecretProviderClass",
            metadata: crMeta(spcNames[use]!),
            spec: pulumi
              .all([resolved, pulumi.output(args.workloadIdentityClientId ?? "")])
              .apply(([r, clientId]) => ({ provider: "azure", parameters: secretProviderClassParameters(refOf(r), clientId || undefined) })),
          },
          childOpts,
        ),
      );
    }

    // The same objects the operator creates (connector/k8s/workload.ts), as Pulumi resources.
    const manifests = pulumi
      .output({
        r: resolved,
        clientId: pulumi.output(args.workloadIdentityClientId ?? ""),
        audience: args.mqttTokenAudience ?? DEFAULT_MQTT_TOKEN_AUDIENCE,
        cpuRequest: args.cpuRequest ?? DEFAULT_RESOURCES.cpuRequest,
        memoryRequest: args.memoryRequest ?? DEFAULT_RESOURCES.memoryRequest,
        cpuLimit: args.cpuLimit ?? "",
        memoryLimit: args.memoryLimit ?? DEFAULT_RESOURCES.memoryLimit,
        pullSecrets: pulumi.output(args.imagePullSecrets ?? []),
        grace: args.terminationGracePeriodSeconds ?? 60,
        nodeSelector: pulumi.output(args.nodeSelector ?? {}),
        maxUnavailable: args.maxUnavailable ?? 1,
        env: pulumi.output({ ...(args.env ?? {}), ...runtimeEnv }),
      })
      .apply((v) =>
        workloadManifests(v.r.connector, {
          serviceAccountName: saName,
          secretProviderClasses: spcNames,
          workloadIdentity: useWorkloadIdentity,
          ...(useWorkloadIdentity ? { serviceAccountAnnotations: { "azure.workload.identity/client-id": v.clientId }, podLabels: { "azure.workload.identity/use": "true" } } : {}),
          mqttTokenAudience: v.audience,
          resources: { requests: { cpu: v.cpuRequest, memory: v.memoryRequest }, limits: { memory: v.memoryLimit, ...(v.cpuLimit ? { cpu: v.cpuLimit } : {}) } },
          imagePullSecrets: v.pullSecrets,
          terminationGracePeriodSeconds: v.grace,
          nodeSelector: v.nodeSelector,
          env: v.env,
          maxUnavailable: v.maxUnavailable,
          managedBy: "pulumi",
        }),
      );
    const part = <K extends keyof WorkloadManifests>(k: K) => manifests.apply((m) => m[k]);
    // Names are known now; the metadata objects are outputs. Spec fields go in as the SDK's input types.
    const metadata = <K extends keyof WorkloadManifests>(k: K) => part(k).apply((m) => m.metadata);
    const field = <T>(k: keyof WorkloadManifests, f: string) => part(k).apply((m) => m[f] as T);
    const serviceAccount = new kubernetes.core.v1.ServiceAccount(
      `${name}-serviceaccount`,
      { metadata: metadata("serviceAccount"), automountServiceAccountToken: false },
      childOpts,
    );
    const role = new kubernetes.rbac.v1.Role(`${name}-role`, { metadata: metadata("role"), rules: field<kubernetes.types.input.rbac.v1.PolicyRule[]>("role", "rules") }, childOpts);
    const roleBinding = new kubernetes.rbac.v1.RoleBinding(
      `${name}-rolebinding`,
      {
        metadata: metadata("roleBinding"),
        roleRef: field<kubernetes.types.input.rbac.v1.RoleRef>("roleBinding", "roleRef"),
        subjects: field<kubernetes.types.input.rbac.v1.Subject[]>("roleBinding", "subjects"),
      },
      childOpts,
    );
    new kubernetes.core.v1.Service(`${name}-service`, { metadata: metadata("service"), spec: field<kubernetes.types.input.core.v1.ServiceSpec>("service", "spec") }, childOpts);
    const statefulSet = new kubernetes.apps.v1.StatefulSet(
      `${name}-statefulset`,
      { metadata: metadata("statefulSet"), spec: field<kubernetes.types.input.apps.v1.StatefulSetSpec>("statefulSet", "spec") },
      // What the pods use exists first: the service account and its rights, the custom resources
      // they read, the SecretProviderClasses they mount.
      childOptions(this, opts, [serviceAccount, role, roleBinding, ...podDeps]),
    );
    new kubernetes.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata: metadata("podDisruptionBudget"), spec: field<kubernetes.types.input.policy.v1.PodDisruptionBudgetSpec>("podDisruptionBudget", "spec") },
      childOpts,
    );

    this.connectorName = connectorName;
    this.topicMapName = topicMapName;
    this.namespace = pulumi.output(args.namespace);
    this.statefulSetName = statefulSet.metadata.name;
    this.serviceAccountName = serviceAccount.metadata.name;
    this.connectorConfig = config;
    this.registerOutputs({
      connectorName: this.connectorName,
      topicMapName: this.topicMapName,
      namespace: this.namespace,
      statefulSetName: this.statefulSetName,
      serviceAccountName: this.serviceAccountName,
      connectorConfig: this.connectorConfig,
    });
  }
}
