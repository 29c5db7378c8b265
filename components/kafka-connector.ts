import * as pulumi from "@pulumi/pulumi";
import { RUNTIME_OPTIONS, runtimeEnvironment, type RuntimeValues } from "../connector/config/runtime-options";
import { childOptions } from "./options";
import * as kubernetes from "@pulumi/kubernetes";
import { API_VERSION_FULL, type KafkaConnectorResource, type KafkaConnectorTopicMapResource } from "../connector/config/schema";
import type { ConnectorRuntimeArgs, KafkaConnectorSpecArgs, KafkaConnectorTopicMapSpecArgs } from "./spec-types";
import {
  CONFIG_FILE,
  InvalidArgsError,
  configChecksum,
  isFullyKnown,
  k8sNameProblem,
  renderConnectorConfig,
  resolveConnectorSpec,
  resolveTopicMapSpec,
} from "./connector-config";
import {
  CONFIG_CHECKSUM_ANNOTATION,
  DEFAULT_RESOURCES,
  HTTP_PORT,
  METRICS_PATH,
  connectorPodSpec,
  keyVaultReferences,
  secretMounts,
  secretProviderClassName,
  secretProviderClassParameters,
  selectorLabels,
  workloadLabels,
  type KeyVaultReference,
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
 * account, the rendered config, Key Vault SecretProviderClasses, a StatefulSet (one pod per
 * instance; the ordinal is the instance index), a headless Service and a PodDisruptionBudget.
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
  /** Name of the ConfigMap with the rendered config. */
  public readonly configMapName: pulumi.Output<string>;
  /** The rendered connector config (multi-document YAML). */
  public readonly connectorConfig: pulumi.Output<string>;
  /** sha256 of the config, also a pod template annotation. */
  public readonly configChecksum: pulumi.Output<string>;

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
    const checksum = config.apply(configChecksum);

    const childOpts = childOptions(this, opts);
    const labels = workloadLabels(connectorName);
    const selector = selectorLabels(connectorName);
    const meta = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels });
    const useWorkloadIdentity = args.workloadIdentityClientId !== undefined;

    if (args.createCustomResources !== false) {
      new kubernetes.apiextensions.CustomResource(
        `${name}-kafkaconnector`,
        { apiVersion: API_VERSION_FULL, kind: "KafkaConnector", metadata: meta(connectorName), spec: resolved.apply((r) => r.connector.spec) },
        childOpts,
      );
      new kubernetes.apiextensions.CustomResource(
        `${name}-topicmap`,
        { apiVersion: API_VERSION_FULL, kind: "KafkaConnectorTopicMap", metadata: meta(topicMapName), spec: resolved.apply((r) => r.topicMap.spec) },
        childOpts,
      );
    }

    const serviceAccount = new kubernetes.core.v1.ServiceAccount(
      `${name}-serviceaccount`,
      {
        metadata: {
          ...meta(saName),
          ...(useWorkloadIdentity ? { annotations: { "azure.workload.identity/client-id": args.workloadIdentityClientId! } } : {}),
        },
        automountServiceAccountToken: false,
      },
      childOpts,
    );

    const configMap = new kubernetes.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: meta(`${connectorName}-config`), data: { [CONFIG_FILE]: config } },
      childOpts,
    );

    // Which Key Vault references exist is decided by the shape of the spec, known now; their values may come later.
    const kafkaAuth = args.spec.kafkaConnection.authentication;
    const kvUses: KeyVaultReference["use"][] = [];
    if (kafkaAuth && kafkaAuth.enabled !== false) {
      if (kafkaAuth.authType.sasl?.token.keyVault) kvUses.push("sasl");
      if (kafkaAuth.authType.x509?.keyVault) kvUses.push("x509");
    }
    const spcNames: Record<string, string> = {};
    const podDeps: pulumi.Resource[] = [serviceAccount, configMap];
    for (const use of kvUses) {
      const refOf = (r: Resolved): KeyVaultReference => {
        const found = keyVaultReferences(r.connector.spec).find((k) => k.use === use);
        if (!found) throw new InvalidArgsError(component, `Key Vault reference for ${use} disappeared after resolving the spec`);
        return found;
      };
      const spcName = secretProviderClassName(connectorName, use);
      spcNames[use] = spcName;
      const spc = new kubernetes.apiextensions.CustomResource(
        `${name}-kv-${use}`,
        {
          apiVersion: "secrets-store.csi.x-k8s.io/v1",
          kind: "SecretProviderClass",
          metadata: meta(spcName),
          spec: pulumi
            .all([resolved, pulumi.output(args.workloadIdentityClientId ?? "")])
            .apply(([r, clientId]) => ({ provider: "azure", parameters: secretProviderClassParameters(refOf(r), clientId || undefined) })),
        },
        childOpts,
      );
      podDeps.push(spc);
    }

    const service = new kubernetes.core.v1.Service(
      `${name}-service`,
      {
        metadata: meta(`${connectorName}-headless`),
        spec: {
          // Headless: stable per-pod DNS for the StatefulSet, and a scrape target per instance.
          clusterIP: "None",
          selector,
          ports: [{ name: "http", port: HTTP_PORT, targetPort: "http", protocol: "TCP" }],
        },
      },
      childOpts,
    );

    const podSpec = pulumi
      .output({
        r: resolved,
        audience: args.mqttTokenAudience ?? DEFAULT_MQTT_TOKEN_AUDIENCE,

        cpuRequest: args.cpuRequest ?? DEFAULT_RESOURCES.cpuRequest,
        memoryRequest: args.memoryRequest ?? DEFAULT_RESOURCES.memoryRequest,
        cpuLimit: args.cpuLimit ?? "",
        memoryLimit: args.memoryLimit ?? DEFAULT_RESOURCES.memoryLimit,
        pullSecrets: pulumi.output(args.imagePullSecrets ?? []),
        grace: args.terminationGracePeriodSeconds ?? 60,
        nodeSelector: pulumi.output(args.nodeSelector ?? {}),
        env: pulumi.output({ ...(args.env ?? {}), ...runtimeEnv }),
      })
      .apply((v) =>
        connectorPodSpec(v.r.connector.spec, {
          connectorName,
          serviceAccountName: saName,
          configMapName: `${connectorName}-config`,
          secretProviderClasses: spcNames,
          workloadIdentity: useWorkloadIdentity,
          mqttTokenAudience: v.audience,
          resources: {
            requests: { cpu: v.cpuRequest, memory: v.memoryRequest },
            limits: { memory: v.memoryLimit, ...(v.cpuLimit ? { cpu: v.cpuLimit } : {}) },
          },
          imagePullSecrets: v.pullSecrets,
          terminationGracePeriodSeconds: v.grace,
          nodeSelector: v.nodeSelector,
          env: v.env,
        }),
      );

    const statefulSet = new kubernetes.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: meta(connectorName),
        spec: {
          serviceName: service.metadata.name,
          replicas: resolved.apply((r) => r.connector.spec.instances),
          // Instances are independent (static partitioning by ordinal); no need to start them one by one.
          podManagementPolicy: "Parallel",
          updateStrategy: { type: "RollingUpdate" },
          selector: { matchLabels: selector },
          template: {
            metadata: {
              labels: { ...labels, ...(useWorkloadIdentity ? { "azure.workload.identity/use": "true" } : {}) },
              annotations: {
                [CONFIG_CHECKSUM_ANNOTATION]: checksum,
                "prometheus.io/scrape": "true",
                "prometheus.io/port": String(HTTP_PORT),
                "prometheus.io/path": METRICS_PATH,
              },
            },
            spec: podSpec,
          },
        },
      },
      // The objects the pods use are created or replaced first. By name, not by their name outputs:
      // an output is unknown while its object is replaced, and an unknown in the pod template made
      // the provider plan to replace the StatefulSet (deleting every pod) instead of updating it.
      childOptions(this, opts, podDeps),
    );

    new kubernetes.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata: meta(connectorName), spec: { maxUnavailable: args.maxUnavailable ?? 1, selector: { matchLabels: selector } } },
      childOpts,
    );

    this.connectorName = connectorName;
    this.topicMapName = topicMapName;
    this.namespace = pulumi.output(args.namespace);
    this.statefulSetName = statefulSet.metadata.name;
    this.serviceAccountName = serviceAccount.metadata.name;
    this.configMapName = configMap.metadata.name;
    this.connectorConfig = config;
    this.configChecksum = checksum;
    this.registerOutputs({
      connectorName: this.connectorName,
      topicMapName: this.topicMapName,
      namespace: this.namespace,
      statefulSetName: this.statefulSetName,
      serviceAccountName: this.serviceAccountName,
      configMapName: this.configMapName,
      connectorConfig: this.connectorConfig,
      configChecksum: this.configChecksum,
    });
  }
}
