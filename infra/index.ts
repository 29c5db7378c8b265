/**
 * This repository's own environments. Reads stack config (declared in Pulumi.yaml), builds the
 * bridge, exports what operators need. Nothing else belongs here: logic lives in components/.
 */
import * as pulumi from "@pulumi/pulumi";
import * as kubernetes from "@pulumi/kubernetes";
import { Compression, LogLevel, MqttKafkaBridge, type KafkaConnectionArgs, type KafkaConnectorTopicMapSpecArgs, type LocalBrokerConnectionArgs } from "../components";

const config = new pulumi.Config();
// Pulumi.yaml defaults optional strings to "", meaning "not set".
const optional = (key: string): string | undefined => config.get(key) || undefined;
const ifSet = <K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } => (value === undefined ? {} : ({ [key]: value } as { [k in K]: V }));

// Every stack names its cluster: nothing is deployed to whichever context happens to be current.
const cluster = new kubernetes.Provider("cluster", {
  context: config.require("kubeContext"),
  ...ifSet("kubeconfig", optional("kubeconfig")),
});

// `{}` in Pulumi.yaml: Event Hubs. A connection: your own Kafka, and no Azure resource.
const ownKafka = config.getObject<KafkaConnectionArgs | Record<string, never>>("kafkaConnection") ?? {};
const kafkaConnection = "endpoint" in ownKafka ? (ownKafka as KafkaConnectionArgs) : undefined;
// Pulumi.yaml gives it an empty default, so that stacks with their own Kafka need not set it.
const eventHubsNamespaceName = optional("eventHubsNamespace");
if (!kafkaConnection && !eventHubsNamespaceName) {
  throw new pulumi.RunError("eventHubsNamespace is required with Event Hubs (kafkaConnection {}): pulumi config set eventHubsNamespace <globally unique name>");
}
const oidcIssuerUrl = optional("oidcIssuerUrl");

const bridge = new MqttKafkaBridge(
  config.require("connectorName"),
  {
    kubernetesNamespace: config.require("kubernetesNamespace"),
    createKubernetesNamespace: config.requireBoolean("createKubernetesNamespace"),
    connector: {
      image: { repository: config.require("imageRepository"), tag: config.require("imageTag") },
      instances: config.requireNumber("instances"),
      logLevel: config.require("logLevel", { allowedValues: Object.values(LogLevel) }) as LogLevel,
      localBrokerConnection: config.requireObject<LocalBrokerConnectionArgs>("localBrokerConnection"),
    },
    topicMap: { ...config.requireObject<KafkaConnectorTopicMapSpecArgs>("topicMap"), compression: config.require("compression", { allowedValues: Object.values(Compression) }) as Compression },
    installCrds: config.requireBoolean("installCrds"),
    workload: { mqttTokenAudience: config.require("mqttTokenAudience") },
    ...(kafkaConnection
      ? { kafkaConnection }
      : {
          location: config.require("location"),
          ...ifSet("resourceGroupName", optional("resourceGroupName")),
          eventHubs: {
            namespaceName: eventHubsNamespaceName!,
            skuName: config.require("eventHubsSku"),
            skuCapacity: config.requireNumber("eventHubsCapacity"),
            partitionCount: config.requireNumber("partitionCount"),
            retentionHours: config.requireNumber("retentionHours"),
          },
          ...ifSet("oidcIssuerUrl", oidcIssuerUrl),
          ...ifSet("existingIdentityId", optional("existingIdentityId")),
          ...ifSet("principalId", optional("principalId")),
          ...ifSet("clientId", optional("clientId")),
          ...(config.requireBoolean("useConnectionString") ? { useConnectionString: true } : {}),
          namespaceWideRoleAssignments: config.requireBoolean("namespaceWideRoleAssignments"),
          protectData: config.requireBoolean("protectData"),
        }),
  },
  { providers: { kubernetes: cluster } },
);

export const resourceGroup = bridge.resourceGroupName;
export const eventHubsNamespace = bridge.eventHubsNamespace;
export const bootstrapServers = bridge.bootstrapServers;
export const tokenAudience = bridge.tokenAudience;
export const eventHubs = bridge.hubNames;
export const eventHubIds = bridge.hubIds;
export const kubernetesNamespace = bridge.kubernetesNamespace;
export const connectorName = bridge.connectorName;
export const identityPrincipalId = bridge.principalId;
export const identityClientId = bridge.clientId;
export const connectorConfig = bridge.connectorConfig;
export const connectionString = bridge.connectionString;
