import * as pulumi from "@pulumi/pulumi";
import { childOptions } from "./options";
import * as authorization from "@pulumi/azure-native/authorization";
import type { KafkaConnectorTopicMapSpecArgs } from "./spec-types";
import { hubsFromRoutes } from "./hubs";
import { planRoleAssignments, roleAssignmentName, roleDefinitionId } from "./rbac";
import { InvalidArgsError } from "./connector-config";

export interface EventHubsRoleAssignmentsArgs {
  /** Object (principal) ID that gets the roles: a managed identity, or e.g. an Arc extension's identity. */
  principalId: pulumi.Input<string>;
  /** Principal type. Default `ServicePrincipal` (right for managed identities; avoids replication-delay failures). */
  principalType?: pulumi.Input<string>;
  /** The topic map; its routes decide which role goes on which hub. */
  topicMap: KafkaConnectorTopicMapSpecArgs;
  /** Event hub resource IDs keyed by hub name (Kafka topic), e.g. `EventHubsKafka.hubIds`. Needed unless `namespaceScope`. */
  hubIds?: pulumi.Input<{ [hub: string]: pulumi.Input<string> }>;
  /** Event Hubs namespace resource ID. Needed with `namespaceScope`. */
  namespaceId?: pulumi.Input<string>;
  /** Assign the roles on the whole namespace instead of per hub. Off by default (least privilege). */
  namespaceScope?: boolean;
}

/**
 * Azure Event Hubs Data Sender on each hub an mqttToKafka route writes to and Data Receiver on each
 * hub a kafkaToMqtt route reads, with deterministic assignment names.
 */
export class EventHubsRoleAssignments extends pulumi.ComponentResource {
  /** Role assignment resource IDs keyed by role (`sender-<hub>`, `receiver-<hub>`, or `*-namespace`). */
  public readonly assignmentIds: pulumi.Output<{ [role: string]: string }>;

  constructor(name: string, args: EventHubsRoleAssignmentsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mqtt-kafka-connector:index:EventHubsRoleAssignments", name, {}, opts);
    const component = `EventHubsRoleAssignments ${JSON.stringify(name)}`;
    let plan;
    try {
      plan = planRoleAssignments(hubsFromRoutes(args.topicMap.routes ?? [], { requireTopicLists: true }), args.namespaceScope === true);
    } catch (e) {
      throw new InvalidArgsError(component, (e as Error).message);
    }
    if (args.namespaceScope === true && args.namespaceId === undefined) throw new InvalidArgsError(component, "namespaceId is required with namespaceScope");
    if (args.namespaceScope !== true && args.hubIds === undefined) throw new InvalidArgsError(component, "hubIds is required (or set namespaceScope)");

    const hubIds = pulumi.output(args.hubIds ?? {});
    const childOpts = childOptions(this, opts);
    const ids: Record<string, pulumi.Output<string>> = {};
    for (const p of plan) {
      const scope: pulumi.Output<string> =
        p.hub === undefined
          ? pulumi.output(args.namespaceId!)
          : hubIds.apply((m) => {
              const id = m[p.hub!];
              if (!id) throw new InvalidArgsError(component, `hubIds has no entry for hub ${JSON.stringify(p.hub)} (routes ${p.routes.join(", ")})`);
              return id;
            });
      const assignment = new authorization.RoleAssignment(
        `${name}-${p.role}`,
        {
          scope,
          principalId: args.principalId,
          principalType: args.principalType ?? "ServicePrincipal",
          roleDefinitionId: scope.apply((s) => roleDefinitionId(s, p.roleDefinitionGuid)),
          roleAssignmentName: pulumi.all([scope, args.principalId]).apply(([s, principal]) => roleAssignmentName(s, principal, p.roleDefinitionGuid)),
          description: `mqtt-kafka-connector routes: ${p.routes.join(", ")}`,
        },
        childOpts,
      );
      ids[p.role] = assignment.id;
    }
    this.assignmentIds = pulumi.all(ids);
    this.registerOutputs({ assignmentIds: this.assignmentIds });
  }
}
