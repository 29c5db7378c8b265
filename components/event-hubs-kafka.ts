import * as pulumi from "@pulumi/pulumi";
import { childOptions } from "./options";
import * as eventhub from "@pulumi/azure-native/eventhub";
import * as kubernetes from "@pulumi/kubernetes";
import type { KafkaConnectorTopicMapSpecArgs } from "./spec-types";
import { hubsFromRoutes, namespaceNameProblem, type HubUsage } from "./hubs";
import { InvalidArgsError, resolveTopicMapSpec } from "./connector-config";

/** Per-hub settings, keyed by Kafka topic in `EventHubsKafkaArgs.hubSettings`. */
export interface EventHubSettingsArgs {
  /** Partition count of this hub. Defaults to `EventHubsKafkaArgs.partitionCount`. */
  partitionCount?: pulumi.Input<number>;
  /** Retention of this hub in hours. Defaults to `EventHubsKafkaArgs.retentionHours`. */
  retentionHours?: pulumi.Input<number>;
}

export interface EventHubsKafkaArgs {
  /** Resource group of the namespace. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region. Defaults to the resource group's region (provider default). */
  location?: pulumi.Input<string>;
  /**
   * Namespace name; globally unique, 6-50 letters, digits and `-`. Defaults to an auto-generated name.
   * Setting it lets `pulumi preview` show the Kafka endpoint before the namespace exists.
   */
  namespaceName?: pulumi.Input<string>;
  /** SKU: `Standard` (default) or `Premium`. Basic has no Kafka endpoint. */
  skuName?: pulumi.Input<string>;
  /** Throughput units (Standard) or processing units (Premium). Default 1. */
  skuCapacity?: pulumi.Input<number>;
  /** The topic map; one event hub is created per distinct route topic, named exactly like it. */
  topicMap: KafkaConnectorTopicMapSpecArgs;
  /** Default partition count of every hub. Default 4 (Standard allows up to 32). */
  partitionCount?: pulumi.Input<number>;
  /** Default retention of every hub, in hours. Default 24 (Standard allows up to 168). */
  retentionHours?: pulumi.Input<number>;
  /** Per-hub overrides keyed by Kafka topic; every key must be a topic of the topic map. */
  hubSettings?: { [topic: string]: EventHubSettingsArgs };
  /**
   * Create a SAS authorization rule and put its connection string in a Kubernetes Secret, for SASL
   * PLAIN with username `$ConnectionString`. Off by default: Entra ID (role assignments) is preferred,
   * and without a rule the namespace's local (SAS) authentication is disabled.
   */
  createConnectionString?: boolean;
  /** Scope the rule to this one hub instead of the namespace (the connection string then has an EntityPath). */
  connectionStringHub?: string;
  /** Rights of the rule. Default `["Send", "Listen"]`. */
  connectionStringRights?: pulumi.Input<string>[];
  /** Kubernetes namespace of the connection string Secret. Required with `createConnectionString`. */
  connectionStringSecretNamespace?: pulumi.Input<string>;
  /** Name of the connection string Secret. Default `eventhubs-connection-string`. */
  connectionStringSecretName?: pulumi.Input<string>;
  /** Disable SAS (local) authentication on the namespace. Default: true unless `createConnectionString`. */
  disableLocalAuth?: pulumi.Input<boolean>;
  /** DNS suffix of Event Hubs endpoints. Default `servicebus.windows.net` (Azure public cloud). */
  serviceBusDnsSuffix?: pulumi.Input<string>;
  /**
   * Protect the namespace and every event hub (Pulumi `protect`): an `up` or `destroy` that would
   * delete one, and with it its retained data (for example after a route's `kafkaTopic` is renamed),
   * stops with an error until the protection is lifted on purpose. Default false.
   */
  protectData?: boolean;
  /** Tags for the Azure resources. */
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

const SKUS = ["Standard", "Premium"];
/** Service limits that apply per tier; checked only when the values are known at plan time. */
const LIMITS: Record<string, { partitions: number; retentionHours: number }> = {
  Standard: { partitions: 32, retentionHours: 168 },
  Premium: { partitions: 100, retentionHours: 2160 },
};

/**
 * An Event Hubs namespace used through its Kafka endpoint, with one event hub per Kafka topic of the
 * topic map's routes.
 */
export class EventHubsKafka extends pulumi.ComponentResource {
  /** Namespace name. */
  public readonly namespaceName: pulumi.Output<string>;
  /** Namespace resource ID. */
  public readonly namespaceId: pulumi.Output<string>;
  /** Kafka bootstrap servers, `<namespace>.servicebus.windows.net:9093`. */
  public readonly bootstrapServers: pulumi.Output<string>;
  /** Entra token audience, `https://<namespace>.servicebus.windows.net`. */
  public readonly tokenAudience: pulumi.Output<string>;
  /** Event hub names (the distinct route topics), in order of first use. */
  public readonly hubNames: string[];
  /** Event hub resource IDs keyed by hub name. */
  public readonly hubIds: pulumi.Output<{ [hub: string]: string }>;
  /** Connection string of the SAS rule (a secret); only with `createConnectionString`. */
  public readonly connectionString: pulumi.Output<string | undefined>;
  /** Name of the Kubernetes Secret holding `username`/`password`; only with `createConnectionString`. */
  public readonly connectionStringSecretName: pulumi.Output<string | undefined>;

  /** The hubs and the routes using each (for role assignments). */
  public readonly hubUsage: HubUsage[];

  constructor(name: string, args: EventHubsKafkaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mqtt-kafka-connector:index:EventHubsKafka", name, {}, opts);
    const fail = (message: string): never => {
      throw new InvalidArgsError(`EventHubsKafka ${JSON.stringify(name)}`, message);
    };
    // The connector's own validator first, so a bad topic map reads the same here as at runtime.
    const topicMap = resolveTopicMapSpec(`EventHubsKafka ${JSON.stringify(name)}`, { name: "topic-map", namespace: "default" }, {
      ...args.topicMap,
      kafkaConnectorRef: args.topicMap.kafkaConnectorRef ?? "unset",
    });
    let hubs: HubUsage[] = [];
    try {
      hubs = hubsFromRoutes(topicMap.spec.routes.map((r) => ({ ...r })), { requireTopicLists: true });
    } catch (e) {
      fail((e as Error).message);
    }
    if (hubs.length === 0) fail("the topic map has no routes, so there is no event hub to create");
    const hubNames = hubs.map((h) => h.name);
    for (const topic of Object.keys(args.hubSettings ?? {})) {
      if (!hubNames.includes(topic)) fail(`hubSettings[${JSON.stringify(topic)}]: no route uses this topic (hubs: ${hubNames.join(", ")})`);
    }
    const sku = args.skuName ?? "Standard";
    if (typeof sku === "string" && !SKUS.includes(sku)) fail(`skuName: got ${JSON.stringify(sku)}; allowed: ${SKUS.join(", ")} (Basic has no Kafka endpoint)`);
    if (typeof args.namespaceName === "string") {
      const problem = namespaceNameProblem(args.namespaceName);
      if (problem) fail(`namespaceName: got ${JSON.stringify(args.namespaceName)}; ${problem}`);
    }
    const limits = typeof sku === "string" ? LIMITS[sku] : undefined;
    const checkHub = (where: string, partitions: unknown, retention: unknown) => {
      if (typeof partitions === "number" && (!Number.isInteger(partitions) || partitions < 1 || (limits && partitions > limits.partitions))) {
        fail(`${where}partitionCount: got ${partitions}; allowed: 1..${limits?.partitions ?? 100} on ${String(sku)}`);
      }
      if (typeof retention === "number" && (!Number.isInteger(retention) || retention < 1 || (limits && retention > limits.retentionHours))) {
        fail(`${where}retentionHours: got ${retention}; allowed: 1..${limits?.retentionHours ?? 2160} on ${String(sku)}`);
      }
    };
    checkHub("", args.partitionCount, args.retentionHours);
    for (const [topic, s] of Object.entries(args.hubSettings ?? {})) checkHub(`hubSettings[${JSON.stringify(topic)}].`, s.partitionCount, s.retentionHours);
    const wantsConnectionString = args.createConnectionString === true;
    if (wantsConnectionString && args.connectionStringSecretNamespace === undefined) {
      fail("connectionStringSecretNamespace is required with createConnectionString");
    }
    if (args.connectionStringHub !== undefined && !hubNames.includes(args.connectionStringHub)) {
      fail(`connectionStringHub: got ${JSON.stringify(args.connectionStringHub)}; not one of the hubs (${hubNames.join(", ")})`);
    }

    const childOpts = childOptions(this, opts);
    // Only what holds data is protected; rules and the Secret can come and go.
    const dataOpts = { ...childOpts, ...(args.protectData ? { protect: true } : {}) };
    const namespace = new eventhub.Namespace(
      `${name}-namespace`,
      {
        resourceGroupName: args.resourceGroupName,
        ...(args.location !== undefined ? { location: args.location } : {}),
        ...(args.namespaceName !== undefined ? { namespaceName: args.namespaceName } : {}),
        sku: { name: sku, tier: sku, capacity: args.skuCapacity ?? 1 },
        minimumTlsVersion: "1.2",
        disableLocalAuth: args.disableLocalAuth ?? !wantsConnectionString,
        ...(args.tags !== undefined ? { tags: args.tags } : {}),
      },
      dataOpts,
    );
    // Known at preview time when namespaceName is given, unlike namespace.name.
    const nsName = args.namespaceName !== undefined ? pulumi.output(args.namespaceName) : namespace.name;

    const hubResources: Record<string, eventhub.EventHub> = {};
    for (const hub of hubs) {
      const settings = args.hubSettings?.[hub.name] ?? {};
      hubResources[hub.name] = new eventhub.EventHub(
        `${name}-hub-${hub.name}`,
        {
          resourceGroupName: args.resourceGroupName,
          namespaceName: namespace.name,
          eventHubName: hub.name,
          partitionCount: settings.partitionCount ?? args.partitionCount ?? 4,
          retentionDescription: { cleanupPolicy: "Delete", retentionTimeInHours: settings.retentionHours ?? args.retentionHours ?? 24 },
        },
        dataOpts,
      );
    }

    let connectionString: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let secretName: pulumi.Output<string | undefined> = pulumi.output(undefined);
    if (wantsConnectionString) {
      const rights = args.connectionStringRights ?? ["Send", "Listen"];
      const hubName = args.connectionStringHub;
      let keys: pulumi.Output<{ primaryConnectionString: string }>;
      if (hubName !== undefined) {
        const rule = new eventhub.EventHubAuthorizationRule(
          `${name}-rule`,
          { resourceGroupName: args.resourceGroupName, namespaceName: namespace.name, eventHubName: hubResources[hubName]!.name, rights },
          childOpts,
        );
        keys = eventhub.listEventHubKeysOutput(
          { resourceGroupName: args.resourceGroupName, namespaceName: namespace.name, eventHubName: hubResources[hubName]!.name, authorizationRuleName: rule.name },
          { parent: this },
        );
      } else {
        const rule = new eventhub.NamespaceAuthorizationRule(
          `${name}-rule`,
          { resourceGroupName: args.resourceGroupName, namespaceName: namespace.name, rights },
          childOpts,
        );
        keys = eventhub.listNamespaceKeysOutput(
          { resourceGroupName: args.resourceGroupName, namespaceName: namespace.name, authorizationRuleName: rule.name },
          { parent: this },
        );
      }
      const cs = pulumi.secret(keys.primaryConnectionString);
      const secret = new kubernetes.core.v1.Secret(
        `${name}-connection-string`,
        {
          metadata: {
            name: args.connectionStringSecretName ?? "eventhubs-connection-string",
            namespace: args.connectionStringSecretNamespace!,
            labels: { "app.kubernetes.io/part-of": "mqtt-kafka-connector", "app.kubernetes.io/managed-by": "pulumi" },
          },
          // Same keys as `kubectl create secret generic --from-literal=username=... --from-literal=password=...`.
          type: "kubernetes.io/basic-auth",
          stringData: { username: "$ConnectionString", password: cs },
        },
        childOpts,
      );
      connectionString = cs;
      secretName = secret.metadata.name;
    }

    this.namespaceName = nsName;
    this.namespaceId = namespace.id;
    const suffix = args.serviceBusDnsSuffix ?? "servicebus.windows.net";
    this.bootstrapServers = pulumi.interpolate`${nsName}.${suffix}:9093`;
    this.tokenAudience = pulumi.interpolate`https://${nsName}.${suffix}`;
    this.hubNames = hubNames;
    this.hubUsage = hubs;
    this.hubIds = pulumi.all(Object.fromEntries(hubNames.map((h) => [h, hubResources[h]!.id])));
    this.connectionString = connectionString;
    this.connectionStringSecretName = secretName;
    this.registerOutputs({
      namespaceName: this.namespaceName,
      namespaceId: this.namespaceId,
      bootstrapServers: this.bootstrapServers,
      tokenAudience: this.tokenAudience,
      hubNames: this.hubNames,
      hubIds: this.hubIds,
      connectionString: this.connectionString,
      connectionStringSecretName: this.connectionStringSecretName,
    });
  }
}
