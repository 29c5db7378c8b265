import { CONNECTION_STRING, SUBSCRIPTION, isSecretValue, record, unwrapSecret, valueOf, invoked } from "./mocks";
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { EventHubsKafka, InvalidArgsError, type EventHubsKafkaArgs } from "../../components";
import { at, graph, one, ofType, topicMap } from "./fixtures";

const base = (): EventHubsKafkaArgs => ({ resourceGroupName: "rg-plant", location: "westeurope", namespaceName: "plant-ehns", topicMap: topicMap() });
const hubId = (hub: string) => `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-plant/providers/Microsoft.EventHub/namespaces/plant-ehns/eventhubs/${hub}`;

describe("EventHubsKafka", () => {
  it("creates a Standard namespace and one event hub per distinct route topic, named like the topic", async () => {
    let eh!: EventHubsKafka;
    const r = await record(() => (eh = new EventHubsKafka("eh", base())));
    assert.deepEqual(graph(r), [
      "azure-native:eventhub:EventHub eh-hub-commands",
      "azure-native:eventhub:EventHub eh-hub-telemetry",
      "azure-native:eventhub:Namespace eh-namespace",
      "mqtt-kafka-connector:index:EventHubsKafka eh",
    ]);
    assert.deepEqual(one(r, "azure-native:eventhub:Namespace", "eh-namespace").inputs, {
      resourceGroupName: "rg-plant",
      location: "westeurope",
      namespaceName: "plant-ehns",
      sku: { name: "Standard", tier: "Standard", capacity: 1 },
      minimumTlsVersion: "1.2",
      // No SAS rule was asked for, so local auth is off: Entra ID only.
      disableLocalAuth: true,
      publicNetworkAccess: "Enabled", // the azure-native SDK's default
    });
    for (const hub of ["telemetry", "commands"]) {
      assert.deepEqual(one(r, "azure-native:eventhub:EventHub", `eh-hub-${hub}`).inputs, {
        resourceGroupName: "rg-plant",
        namespaceName: "plant-ehns",
        eventHubName: hub,
        partitionCount: 4,
        retentionDescription: { cleanupPolicy: "Delete", retentionTimeInHours: 24 },
      });
    }
    assert.deepEqual(eh.hubNames, ["telemetry", "commands"]);
    assert.equal(await valueOf(eh.bootstrapServers), "plant-ehns.servicebus.windows.net:9093");
    assert.equal(await valueOf(eh.tokenAudience), "https://plant-ehns.servicebus.windows.net");
    assert.deepEqual(await valueOf(eh.hubIds), { telemetry: hubId("telemetry"), commands: hubId("commands") });
    assert.equal(await valueOf(eh.connectionString), undefined);
  });

  it("applies default and per-hub partition count and retention, and the Premium SKU", async () => {
    const r = await record(
      () =>
        new EventHubsKafka("eh", {
          ...base(),
          skuName: "Premium",
          skuCapacity: 2,
          partitionCount: 2,
          retentionHours: 48,
          hubSettings: { telemetry: { partitionCount: 64, retentionHours: 720 } },
        }),
    );
    assert.deepEqual(at(one(r, "azure-native:eventhub:Namespace", "eh-namespace").inputs, "sku"), { name: "Premium", tier: "Premium", capacity: 2 });
    const hubs = Object.fromEntries(ofType(r, "azure-native:eventhub:EventHub").map((h) => [h.inputs["eventHubName"], [h.inputs["partitionCount"], at(h.inputs, "retentionDescription", "retentionTimeInHours")]]));
    assert.deepEqual(hubs, { telemetry: [64, 720], commands: [2, 48] });
  });

  it("uses the DNS suffix of other clouds for the endpoint and audience", async () => {
    let eh!: EventHubsKafka;
    await record(() => (eh = new EventHubsKafka("eh", { ...base(), serviceBusDnsSuffix: "servicebus.chinacloudapi.cn" })));
    assert.equal(await valueOf(eh.bootstrapServers), "plant-ehns.servicebus.chinacloudapi.cn:9093");
    assert.equal(await valueOf(eh.tokenAudience), "https://plant-ehns.servicebus.chinacloudapi.cn");
  });

  it("puts a namespace SAS connection string into a basic-auth Secret, as a Pulumi secret", async () => {
    let eh!: EventHubsKafka;
    const r = await record(() => (eh = new EventHubsKafka("eh", { ...base(), createConnectionString: true, connectionStringSecretNamespace: "iot" })));
    assert.deepEqual(graph(r), [
      "azure-native:eventhub:EventHub eh-hub-commands",
      "azure-native:eventhub:EventHub eh-hub-telemetry",
      "azure-native:eventhub:Namespace eh-namespace",
      "azure-native:eventhub:NamespaceAuthorizationRule eh-rule",
      "kubernetes:core/v1:Secret eh-connection-string",
      "mqtt-kafka-connector:index:EventHubsKafka eh",
    ]);
    assert.equal(at(one(r, "azure-native:eventhub:Namespace", "eh-namespace").inputs, "disableLocalAuth"), false);
    assert.deepEqual(one(r, "azure-native:eventhub:NamespaceAuthorizationRule", "eh-rule").inputs, {
      resourceGroupName: "rg-plant",
      namespaceName: "plant-ehns",
      rights: ["Send", "Listen"],
    });
    assert.deepEqual(invoked.map((i) => [i.token, i.inputs["authorizationRuleName"]]), [["azure-native:eventhub:listNamespaceKeys", "eh-rule-rule"]]);
    const secret = one(r, "kubernetes:core/v1:Secret", "eh-connection-string").inputs;
    assert.equal(secret["type"], "kubernetes.io/basic-auth");
    assert.deepEqual(at(secret, "metadata", "name"), "eventhubs-connection-string");
    assert.deepEqual(at(secret, "metadata", "namespace"), "iot");
    // The password reaches the engine only inside a secret wrapper.
    const stringData = secret["stringData"];
    const password = at(unwrapSecret(stringData), "password");
    assert.ok(isSecretValue(stringData) || isSecretValue(password), "stringData.password is not a secret");
    assert.deepEqual(unwrapSecret(password), CONNECTION_STRING);
    assert.equal(at(unwrapSecret(stringData), "username"), "$ConnectionString");
    assert.equal(await pulumi.isSecret(eh.connectionString), true);
    assert.equal(await valueOf(eh.connectionString), CONNECTION_STRING);
    assert.equal(await valueOf(eh.connectionStringSecretName), "eventhubs-connection-string");
  });

  it("scopes the SAS rule to one hub when asked", async () => {
    const r = await record(
      () => new EventHubsKafka("eh", { ...base(), createConnectionString: true, connectionStringSecretNamespace: "iot", connectionStringHub: "commands", connectionStringRights: ["Listen"] }),
    );
    assert.deepEqual(one(r, "azure-native:eventhub:EventHubAuthorizationRule", "eh-rule").inputs, {
      resourceGroupName: "rg-plant",
      namespaceName: "plant-ehns",
      eventHubName: "commands",
      rights: ["Listen"],
    });
    assert.deepEqual(ofType(r, "azure-native:eventhub:NamespaceAuthorizationRule"), []);
    assert.deepEqual(invoked.map((i) => [i.token, i.inputs["eventHubName"]]), [["azure-native:eventhub:listEventHubKeys", "commands"]]);
  });

  describe("bad args throw clear errors", () => {
    const cases: [string, () => EventHubsKafkaArgs, string | RegExp][] = [
      [
        "a topic Event Hubs cannot name",
        () => ({ ...base(), topicMap: { routes: [{ kafkaToMqtt: { name: "bad-route", kafkaTopic: "-leading-dash", mqttTopic: "x" } }] } }),
        'EventHubsKafka "eh": invalid topic map for Event Hubs:\n  route "bad-route" (routes[0].kafkaToMqtt.kafkaTopic): Kafka topic "-leading-dash" cannot be an event hub name; event hub names must start and end with a letter or digit',
      ],
      [
        "a topic map the connector would reject",
        () => ({ ...base(), topicMap: { routes: [{ mqttToKafka: { name: "r", mqttTopic: "a/#", kafkaTopic: "t", qos: 2 } }] } }),
        'EventHubsKafka "eh": invalid topic map:\n  KafkaConnectorTopicMap/topic-map: spec.routes[0].mqttToKafka.qos: got 2; allowed: 0, 1',
      ],
      ["the Basic SKU", () => ({ ...base(), skuName: "Basic" }), 'EventHubsKafka "eh": skuName: got "Basic"; allowed: Standard, Premium (Basic has no Kafka endpoint)'],
      [
        "settings for a hub no route uses",
        () => ({ ...base(), hubSettings: { telemtry: { partitionCount: 2 } } }),
        'EventHubsKafka "eh": hubSettings["telemtry"]: no route uses this topic (hubs: telemetry, commands)',
      ],
      ["too many partitions for Standard", () => ({ ...base(), partitionCount: 40 }), 'EventHubsKafka "eh": partitionCount: got 40; allowed: 1..32 on Standard'],
      [
        "retention beyond the tier",
        () => ({ ...base(), hubSettings: { commands: { retentionHours: 200 } } }),
        'EventHubsKafka "eh": hubSettings["commands"].retentionHours: got 200; allowed: 1..168 on Standard',
      ],
      ["a bad namespace name", () => ({ ...base(), namespaceName: "eh" }), /namespaceName: got "eh"; Event Hubs namespace names are 6 to 50/],
      ["a connection string without a Secret namespace", () => ({ ...base(), createConnectionString: true }), /connectionStringSecretNamespace is required with createConnectionString/],
      [
        "a rule for an unknown hub",
        () => ({ ...base(), createConnectionString: true, connectionStringSecretNamespace: "iot", connectionStringHub: "nope" }),
        /connectionStringHub: got "nope"; not one of the hubs \(telemetry, commands\)/,
      ],
    ];
    for (const [what, args, message] of cases) {
      it(what, async () => {
        const r = await record(() => {
          assert.throws(
            () => new EventHubsKafka("eh", args()),
            (e: Error) => {
              assert.ok(e instanceof InvalidArgsError, String(e));
              if (typeof message === "string") assert.equal(e.message, message);
              else assert.match(e.message, message);
              return true;
            },
          );
        });
        assert.deepEqual(r.filter((x) => !x.type.startsWith("mqtt-kafka-connector:")), [], "no Azure resource may be registered");
      });
    }
  });
});
