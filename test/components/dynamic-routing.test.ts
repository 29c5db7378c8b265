import { SUBSCRIPTION, record } from "./mocks";
import { strict as assert } from "node:assert";
import {
  EVENT_HUBS_DATA_RECEIVER_ROLE,
  EVENT_HUBS_DATA_SENDER_ROLE,
  EventHubsKafka,
  EventHubsRoleAssignments,
  InvalidArgsError,
  MqttKafkaBridge,
  type KafkaConnectorTopicMapSpecArgs,
  type MqttKafkaBridgeArgs,
} from "../../components";
import { deployedConfig, graph, ofType } from "./fixtures";

/** A fan-out route listing its three topics, and a kafkaToMqtt route reading two. */
const dynamicMap = (): KafkaConnectorTopicMapSpecArgs => ({
  routes: [
    {
      mqttToKafka: {
        name: "fan",
        mqttTopic: "factory/+/+/telemetry",
        kafkaTopic: "telemetry-${inputTopic.2}",
        kafkaTopics: ["telemetry-berlin", "telemetry-paris", "telemetry-rome"],
        kafkaKey: "${inputTopic.3}",
      },
    },
    { kafkaToMqtt: { name: "cmd", kafkaTopics: ["commands-a", "commands-b"], mqttTopic: "devices/${key}/commands" } },
  ],
});
/** The same fan-out without its list. */
const openMap = (): KafkaConnectorTopicMapSpecArgs => ({
  routes: [{ mqttToKafka: { name: "fan", mqttTopic: "factory/+/+/telemetry", kafkaTopic: "telemetry-${inputTopic.2}" } }],
});
const bridgeArgs = (topicMap: KafkaConnectorTopicMapSpecArgs): MqttKafkaBridgeArgs => ({
  resourceGroupName: "rg-plant",
  location: "westeurope",
  kubernetesNamespace: "iot",
  oidcIssuerUrl: "https://oidc.example.com/tenant/issuer/",
  eventHubs: { namespaceName: "plant-ehns-dev" },
  connector: { image: { repository: "registry.example.com/mqtt-kafka-connector", tag: "1.2.3" }, instances: 1 },
  topicMap,
});
const NS_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-plant/providers/Microsoft.EventHub/namespaces/plant-ehns-dev`;
const RA = "azure-native:authorization:RoleAssignment";

describe("dynamic routing in the Pulumi components", () => {
  it("makes each listed topic an event hub with its own Data Sender, and each source topic one with Data Receiver", async () => {
    let bridge!: MqttKafkaBridge;
    const r = await record(() => (bridge = new MqttKafkaBridge("plant", bridgeArgs(dynamicMap()))));
    const hubs = ["telemetry-berlin", "telemetry-paris", "telemetry-rome", "commands-a", "commands-b"];
    assert.deepEqual(bridge.hubNames, hubs);
    assert.deepEqual(ofType(r, "azure-native:eventhub:EventHub").map((h) => h.inputs["eventHubName"]).sort(), [...hubs].sort());
    assert.ok(!graph(r).some((g) => g.includes("${")), "no resource is named after the template");
    const principal = "principal-id-of-plant-identity-identity";
    assert.deepEqual(
      ofType(r, RA).map((x) => [x.name, x.inputs["principalId"], x.inputs["scope"], String(x.inputs["roleDefinitionId"]).split("/").pop(), x.inputs["description"]]).sort(),
      [
        ["plant-roles-receiver-commands-a", principal, `${NS_ID}/eventhubs/commands-a`, EVENT_HUBS_DATA_RECEIVER_ROLE, "mqtt-kafka-connector routes: cmd"],
        ["plant-roles-receiver-commands-b", principal, `${NS_ID}/eventhubs/commands-b`, EVENT_HUBS_DATA_RECEIVER_ROLE, "mqtt-kafka-connector routes: cmd"],
        ["plant-roles-sender-telemetry-berlin", principal, `${NS_ID}/eventhubs/telemetry-berlin`, EVENT_HUBS_DATA_SENDER_ROLE, "mqtt-kafka-connector routes: fan"],
        ["plant-roles-sender-telemetry-paris", principal, `${NS_ID}/eventhubs/telemetry-paris`, EVENT_HUBS_DATA_SENDER_ROLE, "mqtt-kafka-connector routes: fan"],
        ["plant-roles-sender-telemetry-rome", principal, `${NS_ID}/eventhubs/telemetry-rome`, EVENT_HUBS_DATA_SENDER_ROLE, "mqtt-kafka-connector routes: fan"],
      ],
    );
    // The deployed topic map keeps the templates for the connector to fill.
    const route = deployedConfig(r, "plant").topicMaps[0]!.spec.routes;
    assert.equal(route[0]!.mqttToKafka!.kafkaTopic, "telemetry-${inputTopic.2}");
    assert.deepEqual(route[1]!.kafkaToMqtt!.kafkaTopics, ["commands-a", "commands-b"]);
  });

  it("takes per-hub settings for listed topics", async () => {
    const r = await record(
      () => new EventHubsKafka("eh", { resourceGroupName: "rg-plant", namespaceName: "plant-ehns", topicMap: dynamicMap(), hubSettings: { "telemetry-rome": { partitionCount: 8 } } }),
    );
    const partitions = Object.fromEntries(ofType(r, "azure-native:eventhub:EventHub").map((h) => [h.inputs["eventHubName"], h.inputs["partitionCount"]]));
    assert.deepEqual(partitions, { "telemetry-berlin": 4, "telemetry-paris": 4, "telemetry-rome": 8, "commands-a": 4, "commands-b": 4 });
  });

  const refusal =
    'invalid topic map for Event Hubs:\n  routes[0].mqttToKafka.kafkaTopics: required on Event Hubs, since route "fan" has a templated kafkaTopic ("telemetry-${inputTopic.2}"): ' +
    "event hubs must exist before a message names one, so list every topic the template may produce and each becomes a hub with its Data Sender role";
  const cases: [string, () => void, string][] = [
    ["MqttKafkaBridge", () => new MqttKafkaBridge("plant", bridgeArgs(openMap())), `EventHubsKafka "plant-eventhubs": ${refusal}`],
    ["EventHubsKafka", () => new EventHubsKafka("eh", { resourceGroupName: "rg-plant", namespaceName: "plant-ehns", topicMap: openMap() }), `EventHubsKafka "eh": ${refusal}`],
    ["EventHubsRoleAssignments", () => new EventHubsRoleAssignments("roles", { principalId: "p-1", topicMap: openMap(), hubIds: {} }), `EventHubsRoleAssignments "roles": ${refusal}`],
  ];
  for (const [component, build, message] of cases) {
    it(`${component} on Event Hubs refuses a templated route without kafkaTopics, naming the field, and creates no hub or role`, async () => {
      const r = await record(() => {
        assert.throws(build, (e: Error) => {
          assert.ok(e instanceof InvalidArgsError, String(e));
          assert.equal(e.message, message);
          return true;
        });
      });
      assert.deepEqual(graph(r).filter((g) => g.startsWith("azure-native:")), [], "no Azure resource");
    });
  }

  it("with your own Kafka a templated route needs no list: no Azure resource, the template deployed as written", async () => {
    const { oidcIssuerUrl: _o, eventHubs: _e, resourceGroupName: _r, ...rest } = bridgeArgs(openMap());
    let bridge!: MqttKafkaBridge;
    const r = await record(() => (bridge = new MqttKafkaBridge("plant", { ...rest, kafkaConnection: { endpoint: "kafka-0.kafka:9092", tls: { tlsEnabled: false } } })));
    assert.deepEqual(graph(r).filter((g) => g.startsWith("azure-native:")), []);
    assert.deepEqual(bridge.hubNames, [], "its topics are known only per message");
    assert.equal(deployedConfig(r, "plant").topicMaps[0]!.spec.routes[0]!.mqttToKafka!.kafkaTopic, "telemetry-${inputTopic.2}");
  });

  it("reports a template error at preview with the connector's own words", async () => {
    const bad: KafkaConnectorTopicMapSpecArgs = { routes: [{ mqttToKafka: { name: "fan", mqttTopic: "f/+", kafkaTopic: "t-${inputTopic.0}", kafkaTopics: ["t-a"] } }] };
    await record(() => {
      assert.throws(
        () => new EventHubsKafka("eh", { resourceGroupName: "rg", topicMap: bad }),
        (e: Error) => e instanceof InvalidArgsError && e.message.includes('spec.routes[0].mqttToKafka.kafkaTopic: got "t-${inputTopic.0}"; `${inputTopic.0}` at character 3: levels count from 1'),
      );
    });
  });
});
