/**
 * The KafkaConnector component's args and the checks that need no Kubernetes: the environment
 * the pods get, and what makes no sense when the operator, not Pulumi, runs the workload.
 */
import * as pulumi from "@pulumi/pulumi";
import { RUNTIME_OPTIONS, runtimeEnvironment, type RuntimeValues } from "../connector/config/runtime-options";
import { WORKLOAD_IDENTITY_ANNOTATION, WORKLOAD_MANAGER_ANNOTATION, workloadIdentityClientId } from "../connector/operator/names";
import { storageBytes } from "../connector/k8s/quantity";
import { spoolEnvironment, SPOOL_VOLUME_SHARE } from "../connector/k8s/workload";
import { InvalidArgsError } from "./connector-config";
import type { ConnectorRuntimeArgs, KafkaConnectorSpecArgs, KafkaConnectorTopicMapSpecArgs } from "./spec-types";

export { WORKLOAD_IDENTITY_ANNOTATION, WORKLOAD_MANAGER_ANNOTATION };

/** Who creates and updates the connector's pods and the objects around them. */
export const WorkloadManager = {
  /** This component, on every `pulumi up`. */
  Pulumi: "pulumi",
  /** `mqtt-kafka-connector operator`, from the KafkaConnector custom resource (ConnectorOperator installs it). */
  Operator: "operator",
} as const;
export type WorkloadManager = (typeof WorkloadManager)[keyof typeof WorkloadManager];

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
   * A persistent volume per pod for the disk spool of mqttToKafka routes, so a long Kafka outage
   * loses nothing even when the MQTT broker queues little (see the README's delivery guarantees).
   * The spool may fill `runtime.spoolMaxBytes`, by default 80 % of `size`; `runtime.spoolMode`
   * picks outage (default) or always. Adding or resizing it replaces the StatefulSet (Kubernetes
   * does not change claim templates in place); the claims are kept.
   */
  spool?: ConnectorSpoolArgs;
  /**
   * Other environment variables of the connector container, e.g. `NODE_OPTIONS`. Runtime options
   * go in `runtime`. Values are plain pod spec text; secrets belong in the spec's Secret and Key
   * Vault references, not here.
   */
  env?: { [name: string]: pulumi.Input<string> };
}

export interface ConnectorSpoolArgs {
  /** Size of each pod's claim, a Kubernetes quantity such as `10Gi`. */
  size: pulumi.Input<string>;
  /** Storage class of the claims; default: the cluster's default class. */
  storageClassName?: pulumi.Input<string>;
}

/**
 * The spool's part of the container environment for a volume of `size`: throws naming the field
 * when the size is not a quantity, when runtime.spoolMaxBytes does not fit in it, or when spool
 * settings are given without a volume.
 */
export function spoolSettings(component: string, size: string | undefined, runtimeEnv: Record<string, string>): Record<string, string> {
  const fail = (message: string): never => {
    throw new InvalidArgsError(component, message);
  };
  if (size === undefined) {
    for (const [env, arg] of [["SPOOL_MAX_BYTES", "runtime.spoolMaxBytes"], ["SPOOL_MODE", "runtime.spoolMode"]] as const) {
      if (runtimeEnv[env] !== undefined && !(env === "SPOOL_MODE" && runtimeEnv[env] === "off")) fail(`${arg}: there is no spool volume; set spool.size to give the pods one`);
    }
    return {};
  }
  const bytes = storageBytes(size);
  if (typeof bytes !== "number") return fail(`spool.size: ${bytes.problem}`);
  const max = runtimeEnv["SPOOL_MAX_BYTES"];
  if (max !== undefined && Number(max) > bytes) fail(`runtime.spoolMaxBytes: ${max} does not fit in spool.size ${size} (${bytes} bytes); leave room for LMDB's free pages, e.g. at most ${Math.floor(bytes * SPOOL_VOLUME_SHARE)}`);
  return spoolEnvironment(bytes, runtimeEnv);
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
   * account and labels the pods so the webhook injects the federated token. With the operator, it
   * becomes the KafkaConnector's `mqtt-kafka-connector/workload-identity-client-id` annotation.
   */
  workloadIdentityClientId?: pulumi.Input<string>;
  /**
   * `pulumi` (default): this component creates the pods and the objects around them. `operator`:
   * it creates only the custom resources, and `mqtt-kafka-connector operator` (already on the
   * cluster, or ConnectorOperator) runs them; the operator's flags then set resources and the
   * like for every connector, so those args are refused here.
   */
  workloadManager?: WorkloadManager;
}

/** What the Azure IoT Operations MQTT broker checks in a K8S-SAT token's audience. */
export const DEFAULT_MQTT_TOKEN_AUDIENCE = "aio-internal";

/** Set by the component itself: the instance index and the probes depend on them. */
const RESERVED_ENV = new Set(["POD_NAME", "POD_NAMESPACE", "HTTP_PORT"]);

/** The container environment from `env` and `runtime`; throws naming the first bad entry. */
export function workloadEnvironment(component: string, args: ConnectorWorkloadArgs): Record<string, string> {
  const fail = (message: string): never => {
    throw new InvalidArgsError(component, message);
  };
  for (const envName of Object.keys(args.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(envName)) fail(`env.${envName}: not a valid environment variable name (letters, digits and '_', not starting with a digit)`);
    if (RESERVED_ENV.has(envName)) fail(`env.${envName}: set by the component (instance index and probes depend on it); remove it`);
    const option = Object.entries(RUNTIME_OPTIONS).find(([, o]) => o.env === envName && !("podManaged" in o && o.podManaged));
    if (option) fail(`env.${envName}: a runtime option; set runtime.${option[0]} instead`);
  }
  try {
    return runtimeEnvironment((args.runtime ?? {}) as Partial<RuntimeValues>);
  } catch (e) {
    return fail((e as Error).message);
  }
}

// What the operator's flags set for all its connectors, and what it has no setting for at all.
const OPERATOR_FLAGS = ["mqttTokenAudience", "cpuRequest", "memoryRequest", "cpuLimit", "memoryLimit", "imagePullSecrets", "terminationGracePeriodSeconds", "maxUnavailable"] as const;
const POD_ONLY = ["nodeSelector", "runtime", "env", "spool"] as const;

/**
 * Args that Pulumi-managed pods would use but the operator would silently ignore: refused, so
 * that switching `workloadManager` cannot drop a setting unnoticed. `prefix` names where they are
 * written (`workload.` in the bridge).
 */
export function operatorModeProblems(args: ConnectorWorkloadArgs & { serviceAccountName?: string; createCustomResources?: boolean }, connectorName: string, prefix = ""): string[] {
  const set = (keys: readonly (keyof ConnectorWorkloadArgs)[]) => keys.filter((k) => args[k] !== undefined).map((k) => `${prefix}${k}`);
  const out: string[] = [];
  const flags = set(OPERATOR_FLAGS);
  if (flags.length) out.push(`${flags.join(", ")}: the operator sets these for every connector it runs; set them on the operator (ConnectorOperator's connector args, or its flags) instead`);
  const podOnly = set(POD_ONLY);
  if (podOnly.length) out.push(`${podOnly.join(", ")}: the operator has no such setting; use the Pulumi-managed workload to set them`);
  // The operator's own rule (connector/operator/reconcile.ts): the name also names the Service `<name>-headless`.
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(connectorName)) out.push(`connectorName: got ${JSON.stringify(connectorName)}; the operator needs lower-case letters, digits and '-', starting with a letter`);
  if (args.serviceAccountName !== undefined && args.serviceAccountName !== connectorName) out.push(`serviceAccountName: the operator names the service account after the connector (${JSON.stringify(connectorName)}); remove it`);
  if (args.createCustomResources === false) out.push("createCustomResources: the operator runs what the custom resources say, so they must be created here");
  return out;
}

/** The annotation value, checked as the operator will check it (a GUID), so a bad one fails the preview. */
export function checkedClientId(component: string, clientId: pulumi.Input<string>): pulumi.Output<string> {
  const check = (value: string): string => {
    const { problem } = workloadIdentityClientId({ metadata: { annotations: { [WORKLOAD_IDENTITY_ANNOTATION]: value } } });
    if (problem) throw new InvalidArgsError(component, `workloadIdentityClientId: ${problem.message}`);
    return value;
  };
  // A plain value fails now, before anything is registered; an output when it resolves.
  return typeof clientId === "string" ? pulumi.output(check(clientId)) : pulumi.output(clientId).apply(check);
}
