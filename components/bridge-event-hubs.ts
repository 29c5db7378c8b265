/**
 * The Event Hubs side of MqttKafkaBridge: namespace and hubs, the identity and its least-privilege
 * roles (or a SAS connection string), and the connection the connector uses to reach them.
 */
import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import { EventHubsKafka } from "./event-hubs-kafka";
import { EventHubsRoleAssignments } from "./event-hubs-role-assignments";
import { ConnectorIdentity } from "./connector-identity";
import type { MqttKafkaBridgeArgs } from "./bridge-args";
import type { KafkaConnectionArgs } from "./spec-types";

/** The Kafka side the bridge sets up: the connection the connector uses, and what to report. */
export interface KafkaSide {
  connection: KafkaConnectionArgs;
  resourceGroupName?: pulumi.Output<string>;
  eventHubs?: EventHubsKafka;
  /** Identity and role assignments the pods must wait for. */
  deps: pulumi.Resource[];
  principalId: pulumi.Output<string | undefined>;
  clientId: pulumi.Output<string | undefined>;
}

/** The Event Hubs namespace and hubs, the identity and its roles, and the connection to them. */
export function eventHubsSide(
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
