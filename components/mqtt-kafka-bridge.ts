import * as pulumi from "@pulumi/pulumi";
import { eventHubsCompressionProblem } from "../connector/config/endpoints";
import type { Compression } from "../connector/config/schema";
import { childOptions } from "./options";
import * as resources from "@pulumi/azure-native/resources";
import * as kubernetes from "@pulumi/kubernetes";
import type { BridgeConnectorSpecArgs, KafkaConnectionArgs, KafkaConnectorSpecArgs, KafkaConnectorTopicMapSpecArgs } from "./spec-types";
import { EventHubsKafka, type EventHubSettingsArgs } from "./event-hubs-kafka";
import { EventHubsRoleAssignments } from "./event-hubs-role-assignments";
import { ConnectorIdentity } from "./connector-identity";
import { ConnectorCrds } from "./connector-crds";
import { KafkaConnector, type ConnectorWorkloadArgs } from "./kafka-connector";
import { InvalidArgsError, isFullyKnown, resolveConnectorSpec } from "./connector-config";
import { hubsFromRoutes } from "./hubs";

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

/** Kubernetes workload settings of the bridge: those of the KafkaConnector component. */
export type BridgeWorkloadArgs = ConnectorWorkloadArgs;

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
  /** Tags for the Azure resources. */
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

/** The Kafka side the bridge sets up: the connection the connector uses, and what to report. */
interface KafkaSide {
  connection: KafkaConnectionArgs;
  resourceGroupName?: pulumi.Output<string>;
  eventHubs?: EventHubsKafka;
  /** Identity and role assignments the pods must wait for. */
  deps: pulumi.Resource[];
  principalId: pulumi.Output<string | undefined>;
  clientId: pulumi.Output<string | undefined>;
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

/**
 * The whole bridge: Event Hubs namespace and hubs from the topic map, least-privilege role
 * assignments for the connector's identity, the CRDs (optionally) and the connector workload; or,
 * with `kafkaConnection`, the workload alone against your own Kafka.
 */
export class MqttKafkaBridge extends pulumi.ComponentResource {
  /** Resource group of the Azure resources (undefined with your own Kafka). */
  public readonly resourceGroupName: pulumi.Output<string | undefined>;
  /** Event Hubs namespace name (undefined with your own Kafka). */
  public readonly eventHubsNamespace: pulumi.Output<string | undefined>;
  /** Kafka bootstrap servers. */
  public readonly bootstrapServers: pulumi.Output<string>;
  /** Entra token audience of the namespace (undefined unless Entra ID is used). */
  public readonly tokenAudience: pulumi.Output<string | undefined>;
  /** Kafka topics the routes use (event hub names on Event Hubs). */
  public readonly hubNames: string[];
  /** Event hub resource IDs keyed by name (empty with your own Kafka). */
  public readonly hubIds: pulumi.Output<{ [hub: string]: string }>;
  /** Principal that holds the Event Hubs roles (undefined with a connection string or your own Kafka). */
  public readonly principalId: pulumi.Output<string | undefined>;
  /** Client ID used through workload identity, if any. */
  public readonly clientId: pulumi.Output<string | undefined>;
  /** Kubernetes namespace of the connector. */
  public readonly kubernetesNamespace: pulumi.Output<string>;
  /** Kubernetes name of the connector (KafkaConnector and StatefulSet). */
  public readonly connectorName: string;
  /** The KafkaConnector and topic map as deployed, every default filled in (multi-document YAML). */
  public readonly connectorConfig: pulumi.Output<string>;
  /** SAS connection string, a secret; only with `useConnectionString`. */
  public readonly connectionString: pulumi.Output<string | undefined>;

  constructor(name: string, args: MqttKafkaBridgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mqtt-kafka-connector:index:MqttKafkaBridge", name, {}, opts);
    const component = `MqttKafkaBridge ${JSON.stringify(name)}`;
    const fail = (message: string): never => {
      throw new InvalidArgsError(component, message);
    };
    const connectorName = args.connectorName ?? name;
    let mode: ReturnType<typeof bridgeKafkaMode> = "own";
    try {
      mode = bridgeKafkaMode(args);
    } catch (e) {
      fail((e as Error).message);
    }
    const secretName = `${connectorName}-eventhubs`;
    if (mode !== "own") {
      const sku = args.eventHubs?.skuName ?? "Standard";
      const compressionProblem = eventHubsCompressionProblem((args.topicMap.compression ?? "none") as Compression, sku !== "Standard");
      if (compressionProblem) fail(`topicMap.compression: ${compressionProblem}${sku === "Standard" ? '; set eventHubs.skuName: "Premium" for gzip' : ""}`);
    }
    if (isFullyKnown(args.connector) && isFullyKnown(args.kafkaConnection)) {
      const connection = args.kafkaConnection ?? placeholderConnection(mode === "connectionString", secretName);
      resolveConnectorSpec(component, { name: connectorName, namespace: "default" }, { ...args.connector, kafkaConnection: connection });
    }

    const childOpts = childOptions(this, opts);
    const k8sNamespace: pulumi.Output<string> = args.createKubernetesNamespace
      ? new kubernetes.core.v1.Namespace(`${name}-k8s-namespace`, { metadata: { name: args.kubernetesNamespace } }, childOpts).metadata.name
      : pulumi.output(args.kubernetesNamespace);
    const kafka: KafkaSide =
      mode === "own"
        ? { connection: args.kafkaConnection!, deps: [], principalId: pulumi.output(undefined), clientId: pulumi.output(undefined) }
        : this.eventHubsSide(name, args, mode === "connectionString", secretName, connectorName, k8sNamespace, childOpts);
    const deps = [...kafka.deps, ...(kafka.eventHubs ? [kafka.eventHubs] : [])];
    if (args.installCrds === true) deps.push(new ConnectorCrds(`${name}-crds`, {}, childOpts));

    const spec: KafkaConnectorSpecArgs = { ...args.connector, kafkaConnection: kafka.connection };
    const connector = new KafkaConnector(
      `${name}-connector`,
      {
        namespace: k8sNamespace,
        connectorName,
        spec,
        topicMap: args.topicMap,
        ...(mode === "workloadIdentity" ? { workloadIdentityClientId: kafka.clientId.apply((c) => c ?? "") } : {}),
        ...(args.workload ?? {}),
      },
      // The pods start once the identity, its roles and the CRDs exist; earlier they would crash-loop.
      childOptions(this, opts, deps),
    );

    const eh = kafka.eventHubs;
    this.resourceGroupName = kafka.resourceGroupName ?? pulumi.output(undefined);
    this.eventHubsNamespace = eh ? eh.namespaceName : pulumi.output(undefined);
    this.bootstrapServers = pulumi.output(kafka.connection.endpoint);
    this.tokenAudience = eh && mode === "workloadIdentity" ? eh.tokenAudience : pulumi.output(undefined);
    this.hubNames = eh ? eh.hubNames : hubsFromRoutes(args.topicMap.routes ?? []).map((h) => h.name);
    this.hubIds = eh ? eh.hubIds : pulumi.output<{ [hub: string]: string }>({});
    this.principalId = kafka.principalId;
    this.clientId = kafka.clientId;
    this.kubernetesNamespace = k8sNamespace;
    this.connectorName = connectorName;
    this.connectorConfig = connector.connectorConfig;
    this.connectionString = eh ? eh.connectionString : pulumi.output(undefined);
    this.registerOutputs({
      resourceGroupName: this.resourceGroupName,
      eventHubsNamespace: this.eventHubsNamespace,
      bootstrapServers: this.bootstrapServers,
      tokenAudience: this.tokenAudience,
      hubNames: this.hubNames,
      hubIds: this.hubIds,
      principalId: this.principalId,
      clientId: this.clientId,
      kubernetesNamespace: this.kubernetesNamespace,
      connectorName: this.connectorName,
      connectorConfig: this.connectorConfig,
      connectionString: this.connectionString,
    });
  }

  /** The Event Hubs namespace and hubs, the identity and its roles, and the connection to them. */
  private eventHubsSide(
    name: string,
    args: MqttKafkaBridgeArgs,
    useConnectionString: boolean,
    secretName: string,
    connectorName: string,
    k8sNamespace: pulumi.Output<string>,
    childOpts: pulumi.CustomResourceOptions,
  ): KafkaSide {
    const rgName: pulumi.Output<string> =
      args.resourceGroupName !== undefined
        ? pulumi.output(args.resourceGroupName)
        : new resources.ResourceGroup(
            `${name}-rg`,
            { ...(args.location !== undefined ? { location: args.location } : {}), ...(args.tags !== undefined ? { tags: args.tags } : {}) },
            childOpts,
          ).name;
    const eh = args.eventHubs ?? {};
    const eventHubs = new EventHubsKafka(
      `${name}-eventhubs`,
      {
        resourceGroupName: rgName,
        ...(args.location !== undefined ? { location: args.location } : {}),
        ...(eh.namespaceName !== undefined ? { namespaceName: eh.namespaceName } : {}),
        skuName: eh.skuName ?? "Standard",
        ...(eh.skuCapacity !== undefined ? { skuCapacity: eh.skuCapacity } : {}),
        topicMap: args.topicMap,
        ...(eh.partitionCount !== undefined ? { partitionCount: eh.partitionCount } : {}),
        ...(eh.retentionHours !== undefined ? { retentionHours: eh.retentionHours } : {}),
        ...(eh.hubSettings !== undefined ? { hubSettings: eh.hubSettings } : {}),
        ...(eh.serviceBusDnsSuffix !== undefined ? { serviceBusDnsSuffix: eh.serviceBusDnsSuffix } : {}),
        ...(args.protectData ? { protectData: true } : {}),
        ...(args.tags !== undefined ? { tags: args.tags } : {}),
        ...(useConnectionString
          ? {
              createConnectionString: true,
              connectionStringSecretNamespace: k8sNamespace,
              connectionStringSecretName: secretName,
              ...(eh.connectionStringHub !== undefined ? { connectionStringHub: eh.connectionStringHub } : {}),
            }
          : {}),
      },
      childOpts,
    );
    const connection: KafkaConnectionArgs = {
      endpoint: eventHubs.bootstrapServers,
      tls: { tlsEnabled: true },
      authentication: {
        enabled: true,
        authType: useConnectionString ? { sasl: { saslType: "plain", token: { secretName } } } : { systemAssignedManagedIdentity: { audience: eventHubs.tokenAudience } },
      },
    };
    if (useConnectionString) return { connection, resourceGroupName: rgName, eventHubs, deps: [], principalId: pulumi.output(undefined), clientId: pulumi.output(undefined) };

    const identity = new ConnectorIdentity(
      `${name}-identity`,
      {
        resourceGroupName: rgName,
        ...(args.location !== undefined ? { location: args.location } : {}),
        oidcIssuerUrl: args.oidcIssuerUrl!,
        serviceAccountNamespace: k8sNamespace,
        serviceAccountName: connectorName,
        ...(args.existingIdentityId !== undefined
          ? { existingIdentityId: args.existingIdentityId, existingClientId: args.clientId!, existingPrincipalId: args.principalId! }
          : {}),
        ...(args.tags !== undefined ? { tags: args.tags } : {}),
      },
      childOpts,
    );
    const roles = new EventHubsRoleAssignments(
      `${name}-roles`,
      {
        principalId: identity.principalId,
        topicMap: args.topicMap,
        hubIds: eventHubs.hubIds,
        namespaceId: eventHubs.namespaceId,
        namespaceScope: args.namespaceWideRoleAssignments === true,
      },
      childOpts,
    );
    return { connection, resourceGroupName: rgName, eventHubs, deps: [identity, roles], principalId: identity.principalId.apply((p) => p), clientId: identity.clientId.apply((c) => c) };
  }
}

/** A stand-in connection, to validate the rest of the spec before the namespace exists. */
function placeholderConnection(useConnectionString: boolean, secretName: string): KafkaConnectionArgs {
  return {
    endpoint: "placeholder.servicebus.windows.net:9093",
    tls: { tlsEnabled: true },
    authentication: {
      enabled: true,
      authType: useConnectionString ? { sasl: { saslType: "plain", token: { secretName } } } : { systemAssignedManagedIdentity: { audience: "https://placeholder.servicebus.windows.net" } },
    },
  };
}
