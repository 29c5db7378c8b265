/**
 * The MqttKafkaBridge component's args, and the checks that decide which parts it creates: how
 * the connector reaches Kafka, and who runs its workload.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { EventHubSettingsArgs } from "./event-hubs-kafka";
import { operatorOptions, type ConnectorOperatorArgs } from "./connector-operator";
import { operatorManifests, OperatorOptionError } from "../connector/operator/manifests";
import { operatorModeProblems, type ConnectorWorkloadArgs, type WorkloadManager } from "./kafka-connector-args";
import type { BridgeConnectorSpecArgs, KafkaConnectionArgs, KafkaConnectorTopicMapSpecArgs } from "./spec-types";

/** Event Hubs settings of the bridge. */
export interface BridgeEventHubsArgs {
  /** Namespace name (globally unique). Default: auto-generated. Set it to see the endpoint in previews. */
  namespaceName?: pulumi.Input<string>;
  /** `Standard` (default) or `Premium` (needed for gzip compression). */
  skuName?: pulumi.Input<string>;
  /** Throughput or processing units. Default 1. */
  skuCapacity?: pulumi.Input<number>;
  /** Default partition count of every hub. Default 4. */
  partitionCount?: pulumi.Input<number>;
  /** Default retention of every hub in hours. Default 24. */
  retentionHours?: pulumi.Input<number>;
  /** Per-hub overrides keyed by Kafka topic. */
  hubSettings?: { [topic: string]: EventHubSettingsArgs };
  /** With `useConnectionString`: scope the SAS rule to this one hub. */
  connectionStringHub?: string;
  /** DNS suffix of Event Hubs endpoints. Default `servicebus.windows.net`. */
  serviceBusDnsSuffix?: pulumi.Input<string>;
}

/** Kubernetes workload settings of the bridge: those of the KafkaConnector component, and who applies them. */
export interface BridgeWorkloadArgs extends ConnectorWorkloadArgs {
  /**
   * `pulumi` (default): this stack creates the pods. `operator`: it creates only the custom
   * resources and `mqtt-kafka-connector operator` runs them (see `operator`); the pods' resources
   * and the like are then the operator's flags, and are refused here.
   */
  manager?: WorkloadManager;
}

/** With `workload.manager: "operator"`: the operator, if this stack installs it. */
export interface BridgeOperatorArgs extends ConnectorOperatorArgs {
  /**
   * Install the operator (ConnectorOperator) from this stack. Default false: the operator runs
   * every connector of the cluster, so install it once per cluster (`kubectl apply -k deploy/`,
   * or ConnectorOperator in a cluster-level stack), like the CRDs. Its image defaults to the
   * connector's.
   */
  install?: boolean;
}

export interface MqttKafkaBridgeArgs {
  /** Resource group for the Azure resources. Default: a new resource group. */
  resourceGroupName?: pulumi.Input<string>;
  /** Azure region. Default: the azure-native provider's location. */
  location?: pulumi.Input<string>;
  /** Kubernetes namespace of the connector. */
  kubernetesNamespace: pulumi.Input<string>;
  /** Create the Kubernetes namespace. Default false. */
  createKubernetesNamespace?: boolean;
  /** Kubernetes name of the connector. Default: the component name. */
  connectorName?: string;
  /** The connector settings: the KafkaConnector spec without `kafkaConnection`, which the bridge sets. */
  connector: BridgeConnectorSpecArgs;
  /** The routes. The event hubs are exactly the distinct Kafka topics of these routes. */
  topicMap: KafkaConnectorTopicMapSpecArgs;
  /**
   * Bring your own Kafka (Confluent, MSK, Strimzi, any Kafka cluster): the connection as in a
   * KafkaConnector, with SASL, X.509 or Key Vault references. No Azure resource is created; the
   * topics must exist. Leave the Event Hubs and identity arguments unset.
   */
  kafkaConnection?: KafkaConnectionArgs;
  /** Event Hubs settings. */
  eventHubs?: BridgeEventHubsArgs;
  /**
   * OIDC issuer URL of the AKS cluster: the connector authenticates with Entra ID through AKS
   * workload identity. Creates a user-assigned identity federated with the connector's service
   * account (or federates `existingIdentityId`) and gives it the Event Hubs roles.
   */
  oidcIssuerUrl?: pulumi.Input<string>;
  /** With `oidcIssuerUrl`: federate this existing user-assigned identity (resource ID) instead of creating one. */
  existingIdentityId?: string;
  /** With `existingIdentityId`: its principal (object) ID, for the role assignments. */
  principalId?: pulumi.Input<string>;
  /** With `existingIdentityId`: its client ID, which the pods use. */
  clientId?: pulumi.Input<string>;
  /** Authenticate with a SAS connection string (SASL PLAIN) instead of Entra ID. No role assignments are made. */
  useConnectionString?: boolean;
  /** Assign the roles on the whole namespace instead of per hub. Default false. */
  namespaceWideRoleAssignments?: boolean;
  /**
   * Protect the Event Hubs namespace and hubs: an `up` that would delete one (a renamed route
   * topic, a removed route) stops with an error instead of deleting its retained data. Default false.
   */
  protectData?: boolean;
  /**
   * Install the CRDs from this stack. Default false: CRDs are cluster-wide, so install them once per
   * cluster (ConnectorCrds in a cluster-level stack, or `kubectl apply -f deploy/crds/`).
   */
  installCrds?: boolean;
  /** Kubernetes workload settings. */
  workload?: BridgeWorkloadArgs;
  /** With `workload.manager: "operator"`: whether this stack installs the operator, and how. */
  operator?: BridgeOperatorArgs;
  /** Tags for the Azure resources. */
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

/** Which way the connector reaches Kafka; throws naming the arguments that do not fit together. */
export function bridgeKafkaMode(args: MqttKafkaBridgeArgs): "own" | "workloadIdentity" | "connectionString" {
  const set = (k: keyof MqttKafkaBridgeArgs) => args[k] !== undefined && args[k] !== false;
  if (args.kafkaConnection !== undefined) {
    const azureOnly = (["eventHubs", "oidcIssuerUrl", "existingIdentityId", "principalId", "clientId", "useConnectionString", "namespaceWideRoleAssignments", "protectData", "resourceGroupName"] as const).filter(set);
    if (azureOnly.length) throw new Error(`kafkaConnection brings your own Kafka, so no Azure resource is created; remove ${azureOnly.join(", ")}`);
    return "own";
  }
  if ("kafkaConnection" in (args.connector as object)) throw new Error("connector.kafkaConnection: set the top-level kafkaConnection to bring your own Kafka, or leave it out for Event Hubs");
  const modes = (["oidcIssuerUrl", "useConnectionString"] as const).filter(set);
  if (modes.length !== 1) {
    throw new Error(
      "choose how the connector reaches Kafka: set exactly one of oidcIssuerUrl (Event Hubs with Entra ID through workload identity), " +
        `useConnectionString (Event Hubs with a SAS connection string) or kafkaConnection (your own Kafka); got ${modes.length ? modes.join(", ") : "none"}`,
    );
  }
  const existing = (["existingIdentityId", "principalId", "clientId"] as const).filter(set);
  if (existing.length && modes[0] !== "oidcIssuerUrl") throw new Error(`${existing.join(", ")}: an existing identity is used through workload identity; set oidcIssuerUrl`);
  if (existing.length && existing.length !== 3) {
    throw new Error(
      `an existing identity needs existingIdentityId (to federate it with the connector's service account), principalId (for the roles) and clientId (for the pods); got only ${existing.join(", ")}`,
    );
  }
  return modes[0] === "oidcIssuerUrl" ? "workloadIdentity" : "connectionString";
}

/** A stand-in connection, to validate the rest of the spec before the namespace exists. */
export function placeholderConnection(useConnectionString: boolean, secretName: string): KafkaConnectionArgs {
  return {
    endpoint: "placeholder.servicebus.windows.net:9093",
    tls: { tlsEnabled: true },
    authentication: {
      enabled: true,
      authType: useConnectionString ? { sasl: { saslType: "plain", token: { secretName } } } : { systemAssignedManagedIdentity: { audience: "https://placeholder.servicebus.windows.net" } },
    },
  };
}

/**
 * Who runs the workload; throws naming the arguments that do not fit it. Workload settings that
 * the operator would ignore are refused rather than dropped.
 */
export function bridgeWorkloadManager(args: MqttKafkaBridgeArgs, connectorName: string): WorkloadManager {
  const { manager = "pulumi", ...workload } = args.workload ?? {};
  if (manager !== "pulumi" && manager !== "operator") throw new Error(`workload.manager: got ${JSON.stringify(manager)}; must be "pulumi" or "operator"`);
  if (manager === "pulumi") {
    if (args.operator !== undefined) throw new Error('operator: set workload.manager: "operator" to have the operator run the connector, or remove operator');
    return manager;
  }
  const problems = operatorModeProblems(workload, connectorName, "workload.");
  if (problems.length) throw new Error(`with workload.manager "operator": ${problems.join("; ")}`);
  const { install, ...operatorArgs } = args.operator ?? {};
  const unused = Object.keys(operatorArgs).filter((k) => operatorArgs[k as keyof typeof operatorArgs] !== undefined);
  if (!install && unused.length) throw new Error(`${unused.map((k) => `operator.${k}`).join(", ")}: used only when this stack installs the operator; set operator.install: true, or remove them`);
  if (install) {
    try {
      operatorManifests(operatorOptions(operatorArgs));
    } catch (e) {
      if (e instanceof OperatorOptionError) throw new Error(`operator.${e.message}`);
      throw e;
    }
  }
  const watched = args.operator?.watchNamespace;
  if (install && watched !== undefined && typeof args.kubernetesNamespace === "string" && watched !== args.kubernetesNamespace) {
    throw new Error(`operator.watchNamespace: got ${JSON.stringify(watched)}; the connector is in ${JSON.stringify(args.kubernetesNamespace)}, which that operator would not watch`);
  }
  return manager;
}
