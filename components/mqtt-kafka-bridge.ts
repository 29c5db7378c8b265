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
  /** The connector settings: the KafkaConnector spec without `kafkaConnection`, which the bridge derives. */
  connector: BridgeConnectorSpecArgs;
  /** The routes. The event hubs are exactly the distinct Kafka topics of these routes. */
  topicMap: KafkaConnectorTopicMapSpecArgs;
  /** Event Hubs settings. */
  eventHubs?: BridgeEventHubsArgs;
  /**
   * OIDC issuer URL of the AKS cluster. Creates a user-assigned identity federated with the
   * connector's service account (workload identity) and gives it the Event Hubs roles.
   */
  oidcIssuerUrl?: pulumi.Input<string>;
  /** Use an existing principal (e.g. an Arc extension's identity) for the role assignments instead. */
  principalId?: pulumi.Input<string>;
  /** With `principalId`: its client ID, to use it through workload identity. */
  clientId?: pulumi.Input<string>;
  /** Authenticate with a SAS connection string (SASL PLAIN) instead of Entra ID. No role assignments are made. */
  useConnectionString?: boolean;
  /** Assign the roles on the whole namespace instead of per hub. Default false. */
  namespaceWideRoleAssignments?: boolean;
  /** Install the CRDs. Default true; turn off when they are managed elsewhere. */
  installCrds?: boolean;
  /** Kubernetes workload settings. */
  workload?: BridgeWorkloadArgs;
  /** Tags for the Azure resources. */
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

/**
 * The whole bridge: Event Hubs namespace and hubs from the topic map, least-privilege role
 * assignments for the connector's identity, the CRDs and the connector workload.
 */
export class MqttKafkaBridge extends pulumi.ComponentResource {
  /** Resource group of the Azure resources. */
  public readonly resourceGroupName: pulumi.Output<string>;
  /** Event Hubs namespace name. */
  public readonly eventHubsNamespace: pulumi.Output<string>;
  /** Kafka bootstrap servers. */
  public readonly bootstrapServers: pulumi.Output<string>;
  /** Entra token audience of the namespace. */
  public readonly tokenAudience: pulumi.Output<string>;
  /** Event hub names (= Kafka topics). */
  public readonly hubNames: string[];
  /** Event hub resource IDs keyed by name. */
  public readonly hubIds: pulumi.Output<{ [hub: string]: string }>;
  /** Principal that holds the Event Hubs roles (undefined with a connection string). */
  public readonly principalId: pulumi.Output<string | undefined>;
  /** Client ID used through workload identity, if any. */
  public readonly clientId: pulumi.Output<string | undefined>;
  /** Kubernetes namespace of the connector. */
  public readonly kubernetesNamespace: pulumi.Output<string>;
  /** Kubernetes name of the connector (KafkaConnector and StatefulSet). */
  public readonly connectorName: string;
  /** sha256 of the rendered connector config. */
  public readonly configChecksum: pulumi.Output<string>;
  /** SAS connection string, a secret; only with `useConnectionString`. */
  public readonly connectionString: pulumi.Output<string | undefined>;

  constructor(name: string, args: MqttKafkaBridgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mqtt-kafka-connector:index:MqttKafkaBridge", name, {}, opts);
    const component = `MqttKafkaBridge ${JSON.stringify(name)}`;
    const fail = (message: string): never => {
      throw new InvalidArgsError(component, message);
    };
    const connectorName = args.connectorName ?? name;
    const modes = [
      args.oidcIssuerUrl !== undefined && "oidcIssuerUrl",
      args.principalId !== undefined && "principalId",
      args.useConnectionString === true && "useConnectionString",
    ].filter((m): m is string => typeof m === "string");
    if (modes.length !== 1) {
      fail(
        `choose how the connector authenticates to Event Hubs: set exactly one of oidcIssuerUrl (new workload identity), ` +
          `principalId (existing identity) or useConnectionString; got ${modes.length ? modes.join(", ") : "none"}`,
      );
    }
    if (args.clientId !== undefined && args.principalId === undefined) fail("clientId is only used together with principalId");
    if ("kafkaConnection" in (args.connector as object)) {
      fail("connector.kafkaConnection is derived from the Event Hubs namespace; use the KafkaConnector component to set it yourself");
    }
    const sku = args.eventHubs?.skuName ?? "Standard";
    const compressionProblem = eventHubsCompressionProblem((args.topicMap.compression ?? "none") as Compression, sku !== "Standard");
    if (compressionProblem) fail(`topicMap.compression: ${compressionProblem}${sku === "Standard" ? '; set eventHubs.skuName: "Premium" for gzip' : ""}`);
    const secretName = `${connectorName}-eventhubs`;
    const useConnectionString = args.useConnectionString === true;
    const placeholderConnection = (): KafkaConnectionArgs => ({
      endpoint: "placeholder.servicebus.windows.net:9093",
      tls: { tlsEnabled: true },
      authentication: {
        enabled: true,
        authType: useConnectionString
          ? { sasl: { saslType: "plain", token: { secretName } } }
          : { systemAssignedManagedIdentity: { audience: "https://placeholder.servicebus.windows.net" } },
      },
    });
    if (isFullyKnown(args.connector)) {
      resolveConnectorSpec(component, { name: connectorName, namespace: "default" }, { ...args.connector, kafkaConnection: placeholderConnection() });
    }

    const childOpts = childOptions(this, opts);
    const rgName: pulumi.Output<string> =
      args.resourceGroupName !== undefined
        ? pulumi.output(args.resourceGroupName)
        : new resources.ResourceGroup(
            `${name}-rg`,
            { ...(args.location !== undefined ? { location: args.location } : {}), ...(args.tags !== undefined ? { tags: args.tags } : {}) },
            childOpts,
          ).name;
    const k8sNamespace: pulumi.Output<string> = args.createKubernetesNamespace
      ? new kubernetes.core.v1.Namespace(`${name}-k8s-namespace`, { metadata: { name: args.kubernetesNamespace } }, childOpts).metadata.name
      : pulumi.output(args.kubernetesNamespace);

    const eh = args.eventHubs ?? {};
    const eventHubs = new EventHubsKafka(
      `${name}-eventhubs`,
      {
        resourceGroupName: rgName,
        ...(args.location !== undefined ? { location: args.location } : {}),
        ...(eh.namespaceName !== undefined ? { namespaceName: eh.namespaceName } : {}),
        skuName: sku,
        ...(eh.skuCapacity !== undefined ? { skuCapacity: eh.skuCapacity } : {}),
        topicMap: args.topicMap,
        ...(eh.partitionCount !== undefined ? { partitionCount: eh.partitionCount } : {}),
        ...(eh.retentionHours !== undefined ? { retentionHours: eh.retentionHours } : {}),
        ...(eh.hubSettings !== undefined ? { hubSettings: eh.hubSettings } : {}),
        ...(eh.serviceBusDnsSuffix !== undefined ? { serviceBusDnsSuffix: eh.serviceBusDnsSuffix } : {}),
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

    let principalId: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let clientId: pulumi.Output<string | undefined> = pulumi.output(undefined);
    const workloadDeps: pulumi.Resource[] = [];
    if (args.oidcIssuerUrl !== undefined) {
      const identity = new ConnectorIdentity(
        `${name}-identity`,
        {
          resourceGroupName: rgName,
          ...(args.location !== undefined ? { location: args.location } : {}),
          oidcIssuerUrl: args.oidcIssuerUrl,
          serviceAccountNamespace: k8sNamespace,
          serviceAccountName: connectorName,
          ...(args.tags !== undefined ? { tags: args.tags } : {}),
        },
        childOpts,
      );
      principalId = identity.principalId;
      clientId = identity.clientId;
      workloadDeps.push(identity);
    } else if (args.principalId !== undefined) {
      principalId = pulumi.output(args.principalId);
      if (args.clientId !== undefined) clientId = pulumi.output(args.clientId);
    }
    if (!useConnectionString) {
      workloadDeps.push(
        new EventHubsRoleAssignments(
          `${name}-roles`,
          {
            principalId: principalId.apply((p) => p ?? ""),
            topicMap: args.topicMap,
            hubIds: eventHubs.hubIds,
            namespaceId: eventHubs.namespaceId,
            namespaceScope: args.namespaceWideRoleAssignments === true,
          },
          childOpts,
        ),
      );
    }

    if (args.installCrds !== false) workloadDeps.push(new ConnectorCrds(`${name}-crds`, {}, childOpts));

    const kafkaConnection: KafkaConnectionArgs = {
      endpoint: eventHubs.bootstrapServers,
      tls: { tlsEnabled: true },
      authentication: {
        enabled: true,
        authType: useConnectionString
          ? { sasl: { saslType: "plain", token: { secretName } } }
          : { systemAssignedManagedIdentity: { audience: eventHubs.tokenAudience } },
      },
    };
    const spec: KafkaConnectorSpecArgs = { ...args.connector, kafkaConnection };
    const w = args.workload ?? {};
    const connector = new KafkaConnector(
      `${name}-connector`,
      {
        namespace: k8sNamespace,
        connectorName,
        spec,
        topicMap: args.topicMap,
        ...(args.oidcIssuerUrl !== undefined || args.clientId !== undefined ? { workloadIdentityClientId: clientId.apply((c) => c ?? "") } : {}),
        ...w,
      },
      // The pods start once the identity, its roles and the CRDs exist; earlier they would crash-loop.
      childOptions(this, opts, [...workloadDeps, eventHubs]),
    );

    this.resourceGroupName = rgName;
    this.eventHubsNamespace = eventHubs.namespaceName;
    this.bootstrapServers = eventHubs.bootstrapServers;
    this.tokenAudience = eventHubs.tokenAudience;
    this.hubNames = eventHubs.hubNames;
    this.hubIds = eventHubs.hubIds;
    this.principalId = principalId;
    this.clientId = clientId;
    this.kubernetesNamespace = k8sNamespace;
    this.connectorName = connectorName;
    this.configChecksum = connector.configChecksum;
    this.connectionString = eventHubs.connectionString;
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
      configChecksum: this.configChecksum,
      connectionString: this.connectionString,
    });
  }
}
