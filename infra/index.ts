/**
 * This repository's own environments. Reads stack config (declared in Pulumi.yaml), builds the
 * bridge, exports what operators need. Nothing else belongs here: logic lives in components/.
 */
import * as pulumi from "@pulumi/pulumi";
import { MqttKafkaBridge, type KafkaConnectorTopicMapSpecArgs, type LocalBrokerConnectionArgs } from "../components";

const config = new pulumi.Config();
// Pulumi.yaml defaults optional strings to "", meaning "not set".
const optional = (key: string): string | undefined => config.get(key) || undefined;
const resourceGroupName = optional("resourceGroupName");
const oidcIssuerUrl = optional("oidcIssuerUrl");
const principalId = optional("principalId");
const clientId = optional("clientId");

const bridge = new MqttKafkaBridge(config.require("connectorName"), {
  location: config.require("location"),
  ...(resourceGroupName ? { resourceGroupName } : {}),
  kubernetesNamespace: config.require("kubernetesNamespace"),
  createKubernetesNamespace: config.requireBoolean("createKubernetesNamespace"),
  connector: {
    image: { repository: config.require("imageRepository"), tag: config.require("imageTag") },
    instances: config.requireNumber("instances"),
    logLevel: config.require("logLevel"),
    localBrokerConnection: config.requireObject<LocalBrokerConnectionArgs>("localBrokerConnection"),
  },
  topicMap: { ...config.requireObject<KafkaConnectorTopicMapSpecArgs>("topicMap"), compression: config.require("compression") },
  eventHubs: {
    namespaceName: config.require("eventHubsNamespace"),
    skuName: config.require("eventHubsSku"),
    skuCapacity: config.requireNumber("eventHubsCapacity"),
    partitionCount: config.requireNumber("partitionCount"),
    retentionHours: config.requireNumber("retentionHours"),
  },
  ...(oidcIssuerUrl ? { oidcIssuerUrl } : {}),
  ...(principalId ? { principalId } : {}),
  ...(clientId ? { clientId } : {}),
  useConnectionString: config.requireBoolean("useConnectionString"),
  namespaceWideRoleAssignments: config.requireBoolean("namespaceWideRoleAssignments"),
  installCrds: config.requireBoolean("installCrds"),
});

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
export const configChecksum = bridge.configChecksum;
export const connectionString = bridge.connectionString;
