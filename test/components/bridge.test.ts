import { CONNECTION_STRING, SUBSCRIPTION, isSecretValue, record, unwrapSecret, valueOf } from "./mocks";
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import {
  EVENT_HUBS_DATA_RECEIVER_ROLE,
  EVENT_HUBS_DATA_SENDER_ROLE,
  InvalidArgsError,
  MqttKafkaBridge,
  type BridgeConnectorSpecArgs,
  type MqttKafkaBridgeArgs,
} from "../../components";
import { at, deployedConfig, graph, one, ofType, topicMap } from "./fixtures";

const connector = (): BridgeConnectorSpecArgs => ({
  image: { repository: "registry.example.com/mqtt-kafka-connector", tag: "1.2.3" },
  instances: 2,
  logLevel: "info",
  localBrokerConnection: { endpoint: "mqtt-broker.iot.svc:8883", tls: { tlsEnabled: true }, authentication: { kubernetes: {} } },
});
const base = (): MqttKafkaBridgeArgs => ({
  location: "westeurope",
  kubernetesNamespace: "iot",
  oidcIssuerUrl: "https://oidc.example.com/tenant/issuer/",
  eventHubs: { namespaceName: "plant-ehns-dev" },
  connector: connector(),
  topicMap: topicMap(),
});
const RG = "plant-rg-rg1234"; // mock name of the created resource group
const NS_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}/providers/Microsoft.EventHub/namespaces/plant-ehns-dev`;
const RA = "azure-native:authorization:RoleAssignment";
const configOf = (r: Awaited<ReturnType<typeof record>>) => deployedConfig(r, "plant");

describe("MqttKafkaBridge", () => {
  it("composes Event Hubs, identity, per-hub roles, CRDs and the workload", async () => {
    let bridge!: MqttKafkaBridge;
    const r = await record(() => (bridge = new MqttKafkaBridge("plant", { ...base(), installCrds: true })));
    assert.deepEqual(graph(r), [
      "azure-native:authorization:RoleAssignment plant-roles-receiver-commands",
      "azure-native:authorization:RoleAssignment plant-roles-receiver-telemetry",
      "azure-native:authorization:RoleAssignment plant-roles-sender-telemetry",
      "azure-native:eventhub:EventHub plant-eventhubs-hub-commands",
      "azure-native:eventhub:EventHub plant-eventhubs-hub-telemetry",
      "azure-native:eventhub:Namespace plant-eventhubs-namespace",
      "azure-native:managedidentity:FederatedIdentityCredential plant-identity-federation",
      "azure-native:managedidentity:UserAssignedIdentity plant-identity-identity",
      "azure-native:resources:ResourceGroup plant-rg",
      "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition plant-crds-kafkaconnector",
      "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition plant-crds-kafkaconnectortopicmap",
      "kubernetes:apps/v1:StatefulSet plant-connector-statefulset",
      "kubernetes:core/v1:Service plant-connector-service",
      "kubernetes:core/v1:ServiceAccount plant-connector-serviceaccount",
      "kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnector plant-connector-kafkaconnector",
      "kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnectorTopicMap plant-connector-topicmap",
      "kubernetes:policy/v1:PodDisruptionBudget plant-connector-pdb",
      "kubernetes:rbac.authorization.k8s.io/v1:Role plant-connector-role",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding plant-connector-rolebinding",
      "mqtt-kafka-connector:index:ConnectorCrds plant-crds",
      "mqtt-kafka-connector:index:ConnectorIdentity plant-identity",
      "mqtt-kafka-connector:index:EventHubsKafka plant-eventhubs",
      "mqtt-kafka-connector:index:EventHubsRoleAssignments plant-roles",
      "mqtt-kafka-connector:index:KafkaConnector plant-connector",
      "mqtt-kafka-connector:index:MqttKafkaBridge plant",
    ]);
    assert.deepEqual(bridge.hubNames, ["telemetry", "commands"]);
    assert.deepEqual(
      ofType(r, "azure-native:eventhub:EventHub").map((h) => h.inputs["eventHubName"]).sort(),
      ["commands", "telemetry"],
    );
    assert.equal(await valueOf(bridge.bootstrapServers), "plant-ehns-dev.servicebus.windows.net:9093");
    assert.equal(await valueOf(bridge.resourceGroupName), RG);
  });

  it("federates the identity with the connector's service account and grants it only per-hub roles", async () => {
    let bridge!: MqttKafkaBridge;
    const r = await record(() => (bridge = new MqttKafkaBridge("plant", base())));
    assert.deepEqual(one(r, "azure-native:managedidentity:FederatedIdentityCredential", "plant-identity-federation").inputs, {
      resourceGroupName: RG,
      resourceName: "plant-identity-identity",
      issuer: "https://oidc.example.com/tenant/issuer/",
      subject: "system:serviceaccount:iot:plant",
      audiences: ["api://AzureADTokenExchange"],
    });
    const principal = "principal-id-of-plant-identity-identity";
    assert.deepEqual(
      ofType(r, RA).map((x) => [x.inputs["principalId"], x.inputs["scope"], String(x.inputs["roleDefinitionId"]).split("/").pop()]).sort(),
      [
        [principal, `${NS_ID}/eventhubs/commands`, EVENT_HUBS_DATA_RECEIVER_ROLE],
        [principal, `${NS_ID}/eventhubs/telemetry`, EVENT_HUBS_DATA_SENDER_ROLE],
        [principal, `${NS_ID}/eventhubs/telemetry`, EVENT_HUBS_DATA_RECEIVER_ROLE],
      ],
    );
    assert.deepEqual(ofType(r, RA).filter((x) => x.inputs["scope"] === NS_ID), [], "no namespace-wide assignment by default");
    const sa = one(r, "kubernetes:core/v1:ServiceAccount", "plant-connector-serviceaccount").inputs;
    assert.deepEqual(at(sa, "metadata", "annotations"), { "azure.workload.identity/client-id": "client-id-of-plant-identity-identity" });
    assert.equal(at(one(r, "kubernetes:apps/v1:StatefulSet", "plant-connector-statefulset").inputs, "spec", "template", "metadata", "labels", "azure.workload.identity/use"), "true");
    assert.equal(await valueOf(bridge.principalId), principal);
    assert.equal(await valueOf(bridge.clientId), "client-id-of-plant-identity-identity");
  });

  it("points the connector at the namespace's Kafka endpoint with Entra ID authentication", async () => {
    const r = await record(() => new MqttKafkaBridge("plant", base()));
    const { connector: c, topicMaps } = configOf(r);
    assert.deepEqual(c.metadata, { name: "plant", namespace: "iot" });
    assert.deepEqual(c.spec.kafkaConnection, {
      endpoint: "plant-ehns-dev.servicebus.windows.net:9093",
      tls: { tlsEnabled: true },
      authentication: { enabled: true, authType: { systemAssignedManagedIdentity: { audience: "https://plant-ehns-dev.servicebus.windows.net" } } },
    });
    assert.equal(c.spec.instances, 2);
    assert.equal(at(one(r, "kubernetes:apps/v1:StatefulSet", "plant-connector-statefulset").inputs, "spec", "replicas"), 2);
    assert.equal(topicMaps[0]!.spec.kafkaConnectorRef, "plant");
  });

  it("opts into namespace-wide role assignments", async () => {
    const r = await record(() => new MqttKafkaBridge("plant", { ...base(), namespaceWideRoleAssignments: true }));
    assert.deepEqual(ofType(r, RA).map((x) => [x.name, x.inputs["scope"]]).sort(), [
      ["plant-roles-receiver-namespace", NS_ID],
      ["plant-roles-sender-namespace", NS_ID],
    ]);
  });

  it("federates an existing identity with the connector's service account instead of creating one", async () => {
    const existingIdentityId = "/subscriptions/s-1/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/plant-connector";
    const r = await record(() => new MqttKafkaBridge("plant", { ...base(), existingIdentityId, principalId: "p-1", clientId: "c-1", resourceGroupName: "rg-existing" }));
    assert.deepEqual(ofType(r, "azure-native:managedidentity:UserAssignedIdentity"), []);
    assert.deepEqual(ofType(r, "azure-native:resources:ResourceGroup"), []);
    const fed = one(r, "azure-native:managedidentity:FederatedIdentityCredential", "plant-identity-federation").inputs;
    assert.deepEqual([fed["resourceGroupName"], fed["resourceName"], fed["subject"]], ["rg-identities", "plant-connector", "system:serviceaccount:iot:plant"]);
    assert.deepEqual([...new Set(ofType(r, RA).map((x) => x.inputs["principalId"]))], ["p-1"]);
    assert.deepEqual(at(one(r, "kubernetes:core/v1:ServiceAccount", "plant-connector-serviceaccount").inputs, "metadata", "annotations"), {
      "azure.workload.identity/client-id": "c-1",
    });
  });

  it("brings your own Kafka: the workload alone, no Azure resource", async () => {
    const { oidcIssuerUrl: _unused, eventHubs: _eh, ...rest } = base();
    const kafkaConnection = { endpoint: "kafka-0.kafka:9093,kafka-1.kafka:9093", tls: { tlsEnabled: true }, authentication: { enabled: true, authType: { sasl: { saslType: "scramSha512" as const, token: { secretName: "kafka-user" } } } } };
    let bridge!: MqttKafkaBridge;
    const r = await record(() => (bridge = new MqttKafkaBridge("plant", { ...rest, kafkaConnection })));
    assert.deepEqual(graph(r).filter((g) => g.startsWith("azure-native:")), []);
    assert.deepEqual(configOf(r).connector.spec.kafkaConnection, kafkaConnection);
    assert.equal(await valueOf(bridge.bootstrapServers), kafkaConnection.endpoint);
    assert.deepEqual(bridge.hubNames, ["telemetry", "commands"]);
    assert.equal(await valueOf(bridge.eventHubsNamespace), undefined);
  });

  it("protects the namespace and the hubs when asked, so deleting them needs a deliberate step", async () => {
    const r = await record(() => new MqttKafkaBridge("plant", { ...base(), protectData: true }));
    assert.deepEqual(
      ofType(r, "azure-native:eventhub:EventHub").concat(ofType(r, "azure-native:eventhub:Namespace")).map((x) => [x.name, x.protect]).sort(),
      [["plant-eventhubs-hub-commands", true], ["plant-eventhubs-hub-telemetry", true], ["plant-eventhubs-namespace", true]],
    );
    const unprotected = await record(() => new MqttKafkaBridge("plant", base()));
    assert.deepEqual(ofType(unprotected, "azure-native:eventhub:EventHub").map((x) => x.protect), [false, false]);
  });

  it("with a connection string: SASL PLAIN from a Secret holding a Pulumi secret, and no role assignments", async () => {
    const { oidcIssuerUrl: _unused, ...rest } = base();
    let bridge!: MqttKafkaBridge;
    const r = await record(() => (bridge = new MqttKafkaBridge("plant", { ...rest, useConnectionString: true, createKubernetesNamespace: true })));
    assert.deepEqual(ofType(r, RA), []);
    assert.deepEqual(ofType(r, "azure-native:managedidentity:UserAssignedIdentity"), []);
    assert.deepEqual(at(one(r, "kubernetes:core/v1:Namespace", "plant-k8s-namespace").inputs, "metadata", "name"), "iot");
    const secret = one(r, "kubernetes:core/v1:Secret", "plant-eventhubs-connection-string").inputs;
    assert.deepEqual(at(secret, "metadata", "name"), "plant-eventhubs");
    const stringData = secret["stringData"];
    const password = at(unwrapSecret(stringData), "password");
    assert.ok(isSecretValue(stringData) || isSecretValue(password), "connection string is not a secret");
    assert.equal(unwrapSecret(password), CONNECTION_STRING);
    assert.equal(await pulumi.isSecret(bridge.connectionString), true);
    const { connector: c } = configOf(r);
    assert.deepEqual(c.spec.kafkaConnection.authentication, { enabled: true, authType: { sasl: { saslType: "plain", token: { secretName: "plant-eventhubs" } } } });
    // The connection string itself is never in the custom resources, only the Secret's name.
    assert.ok(!JSON.stringify(r.filter((x) => x.type.includes("mq.iotoperations")).map((x) => x.inputs)).includes("SharedAccessKey"));
    const sts = one(r, "kubernetes:apps/v1:StatefulSet", "plant-connector-statefulset").inputs;
    const vols = at(sts, "spec", "template", "spec", "volumes") as { name: string; secret?: { secretName: string } }[];
    assert.deepEqual(vols.find((v) => v.secret)?.secret, { secretName: "plant-eventhubs" });
    assert.equal(at(one(r, "azure-native:eventhub:Namespace", "plant-eventhubs-namespace").inputs, "disableLocalAuth"), false);
  });

  it("leaves the CRDs to a cluster-level stack by default, and keeps them on destroy when it installs them", async () => {
    const r = await record(() => new MqttKafkaBridge("plant", base()));
    assert.deepEqual(graph(r).filter((g) => g.includes("CustomResourceDefinition") || g.includes("ConnectorCrds")), []);
    const withCrds = await record(() => new MqttKafkaBridge("plant", { ...base(), installCrds: true }));
    assert.deepEqual(ofType(withCrds, "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition").map((c) => c.retainOnDelete), [true, true]);
  });

  describe("bad args throw clear errors", () => {
    const { oidcIssuerUrl: _unused, ...noAuth } = base();
    const cases: [string, () => MqttKafkaBridgeArgs, string | RegExp][] = [
      [
        "no authentication choice",
        () => noAuth,
        'MqttKafkaBridge "plant": choose how the connector reaches Kafka: set exactly one of oidcIssuerUrl (Event Hubs with Entra ID through workload identity), useConnectionString (Event Hubs with a SAS connection string) or kafkaConnection (your own Kafka); got none',
      ],
      ["two authentication choices", () => ({ ...base(), useConnectionString: true }), /set exactly one of .*; got oidcIssuerUrl, useConnectionString$/],
      [
        "a client ID without its principal",
        () => ({ ...base(), clientId: "c" }),
        `MqttKafkaBridge "plant": an existing identity needs existingIdentityId (to federate it with the connector's service account), principalId (for the roles) and clientId (for the pods); got only clientId`,
      ],
      [
        "a principal without its client ID (the pods could not use it)",
        () => ({ ...base(), principalId: "p", existingIdentityId: "/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i" }),
        /an existing identity needs existingIdentityId .* got only existingIdentityId, principalId$/,
      ],
      [
        "an existing principal without workload identity",
        () => ({ ...noAuth, useConnectionString: true, principalId: "p" }),
        'MqttKafkaBridge "plant": principalId: an existing identity is used through workload identity; set oidcIssuerUrl',
      ],
      [
        "your own Kafka with Event Hubs arguments",
        () => ({ ...noAuth, kafkaConnection: { endpoint: "k:9092", tls: { tlsEnabled: false } }, protectData: true }),
        'MqttKafkaBridge "plant": kafkaConnection brings your own Kafka, so no Azure resource is created; remove eventHubs, protectData',
      ],
      [
        "a compression Event Hubs does not accept",
        () => ({ ...base(), topicMap: { ...topicMap(), compression: "snappy" } }),
        'MqttKafkaBridge "plant": topicMap.compression: got "snappy"; Event Hubs accepts only none or gzip (gzip on Premium and Dedicated tiers); set eventHubs.skuName: "Premium" for gzip',
      ],
      ["gzip on Standard", () => ({ ...base(), topicMap: { ...topicMap(), compression: "gzip" } }), /gzip needs the Premium tier/],
      [
        "a kafkaConnection the bridge derives itself",
        () => ({ ...base(), connector: { ...connector(), kafkaConnection: { endpoint: "x:1", tls: { tlsEnabled: true } } } as BridgeConnectorSpecArgs }),
        /connector.kafkaConnection: set the top-level kafkaConnection to bring your own Kafka, or leave it out for Event Hubs/,
      ],
      [
        "an invalid connector setting",
        () => ({ ...base(), connector: { ...connector(), clientIdPrefix: "has space" } }),
        /MqttKafkaBridge "plant": invalid connector spec:\n {2}KafkaConnector\/plant: spec.clientIdPrefix: got "has space"; must match/,
      ],
    ];
    for (const [what, args, message] of cases) {
      it(what, async () => {
        const r = await record(() => {
          assert.throws(
            () => new MqttKafkaBridge("plant", args()),
            (e: Error) => {
              assert.ok(e instanceof InvalidArgsError, String(e));
              if (typeof message === "string") assert.equal(e.message, message);
              else assert.match(e.message, message);
              return true;
            },
          );
        });
        assert.deepEqual(r.filter((x) => !x.type.startsWith("mqtt-kafka-connector:")), [], "nothing may be created");
      });
    }
    it("gzip is fine on Premium", async () => {
      const r = await record(() => new MqttKafkaBridge("plant", { ...base(), eventHubs: { namespaceName: "plant-ehns-dev", skuName: "Premium" }, topicMap: { ...topicMap(), compression: "gzip" } }));
      assert.equal(configOf(r).topicMaps[0]!.spec.compression, "gzip");
    });
  });
});
