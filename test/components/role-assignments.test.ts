import { SUBSCRIPTION, record, valueOf } from "./mocks";
import { strict as assert } from "node:assert";
import {
  EVENT_HUBS_DATA_RECEIVER_ROLE,
  EVENT_HUBS_DATA_SENDER_ROLE,
  EventHubsRoleAssignments,
  InvalidArgsError,
  roleAssignmentName,
} from "../../components";
import { graph, ofType, topicMap } from "./fixtures";

const NS_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.EventHub/namespaces/plant-ehns`;
const hubIds = { telemetry: `${NS_ID}/eventhubs/telemetry`, commands: `${NS_ID}/eventhubs/commands` };
const roleDef = (guid: string) => `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const RA = "azure-native:authorization:RoleAssignment";

describe("EventHubsRoleAssignments", () => {
  it("gives Data Sender on each hub a route writes to and Data Receiver on each hub a route reads, scoped to that hub", async () => {
    let ra!: EventHubsRoleAssignments;
    const r = await record(() => (ra = new EventHubsRoleAssignments("roles", { principalId: "p-123", topicMap: topicMap(), hubIds, namespaceId: NS_ID })));
    assert.deepEqual(graph(r), [
      `${RA} roles-receiver-commands`,
      `${RA} roles-receiver-telemetry`,
      `${RA} roles-sender-telemetry`,
      "mqtt-kafka-connector:index:EventHubsRoleAssignments roles",
    ]);
    const expected = (role: string, hub: "telemetry" | "commands", guid: string, routes: string) => ({
      scope: hubIds[hub],
      principalId: "p-123",
      principalType: "ServicePrincipal",
      roleDefinitionId: roleDef(guid),
      roleAssignmentName: roleAssignmentName(hubIds[hub], "p-123", guid),
      description: `mqtt-kafka-connector routes: ${routes}`,
    });
    const byName = Object.fromEntries(ofType(r, RA).map((x) => [x.name, x.inputs]));
    assert.deepEqual(byName, {
      "roles-sender-telemetry": expected("sender", "telemetry", EVENT_HUBS_DATA_SENDER_ROLE, "telemetry-in, alarms-in"),
      "roles-receiver-telemetry": expected("receiver", "telemetry", EVENT_HUBS_DATA_RECEIVER_ROLE, "telemetry-echo"),
      "roles-receiver-commands": expected("receiver", "commands", EVENT_HUBS_DATA_RECEIVER_ROLE, "commands-out"),
    });
    // Least privilege: nothing on the namespace, no Sender on a hub that is only read.
    assert.deepEqual(ofType(r, RA).filter((x) => x.inputs["scope"] === NS_ID), []);
    assert.deepEqual(
      ofType(r, RA).filter((x) => x.inputs["scope"] === hubIds.commands && x.inputs["roleDefinitionId"] === roleDef(EVENT_HUBS_DATA_SENDER_ROLE)),
      [],
    );
    assert.equal(Object.keys(await valueOf(ra.assignmentIds)).length, 3);
  });

  it("assigns on the namespace only when namespaceScope is set", async () => {
    const r = await record(() => new EventHubsRoleAssignments("roles", { principalId: "p-123", topicMap: topicMap(), namespaceId: NS_ID, namespaceScope: true }));
    assert.deepEqual(
      ofType(r, RA).map((x) => [x.name, x.inputs["scope"], x.inputs["roleDefinitionId"]]).sort(),
      [
        ["roles-receiver-namespace", NS_ID, roleDef(EVENT_HUBS_DATA_RECEIVER_ROLE)],
        ["roles-sender-namespace", NS_ID, roleDef(EVENT_HUBS_DATA_SENDER_ROLE)],
      ],
    );
  });

  it("only creates the roles the directions need", async () => {
    const r = await record(
      () =>
        new EventHubsRoleAssignments("roles", {
          principalId: "p",
          topicMap: { routes: [{ mqttToKafka: { name: "only-out", mqttTopic: "a", kafkaTopic: "telemetry" } }] },
          hubIds,
        }),
    );
    assert.deepEqual(graph(r), [`${RA} roles-sender-telemetry`, "mqtt-kafka-connector:index:EventHubsRoleAssignments roles"]);
  });

  it("takes another principal type", async () => {
    const r = await record(() => new EventHubsRoleAssignments("roles", { principalId: "p", principalType: "Group", topicMap: topicMap(), hubIds }));
    assert.deepEqual([...new Set(ofType(r, RA).map((x) => x.inputs["principalType"]))], ["Group"]);
  });

  it("bad args throw clear errors", () => {
    assert.throws(
      () => new EventHubsRoleAssignments("roles", { principalId: "p", topicMap: topicMap() }),
      (e: Error) => e instanceof InvalidArgsError && e.message === 'EventHubsRoleAssignments "roles": hubIds is required (or set namespaceScope)',
    );
    assert.throws(
      () => new EventHubsRoleAssignments("roles", { principalId: "p", topicMap: topicMap(), namespaceScope: true }),
      /EventHubsRoleAssignments "roles": namespaceId is required with namespaceScope/,
    );
    assert.throws(
      () => new EventHubsRoleAssignments("roles", { principalId: "p", topicMap: { routes: [{ mqttToKafka: { name: "r", mqttTopic: "a", kafkaTopic: "x." } }] }, hubIds }),
      /route "r" \(routes\[0\]\.mqttToKafka\.kafkaTopic\): Kafka topic "x\." cannot be an event hub name/,
    );
  });
});
