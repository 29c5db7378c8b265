// KafkaConnector and MqttKafkaBridge when the operator runs the workload: only the custom
// resources, annotated for the operator, and the operator (from the same builder) builds from them
// the same pods the Pulumi-managed workload has.
import { record, valueOf } from "./mocks";
import { dependenciesOf } from "./dependencies";
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { InvalidArgsError, KafkaConnector, MqttKafkaBridge, WORKLOAD_IDENTITY_ANNOTATION, WORKLOAD_MANAGER_ANNOTATION, type KafkaConnectorArgs, type MqttKafkaBridgeArgs } from "../../components";
import { desiredObjects } from "../../connector/operator/reconcile";
import { DEFAULT_OPERATOR_RESOURCES } from "../../connector/operator/manifests";
import { at, connectorSpec, graph, one, topicMap } from "./fixtures";
import { DEFAULTS } from "../unit/operator-fixtures";

const KC = "kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnector";
const STS = "kubernetes:apps/v1:StatefulSet";
const CLIENT_ID = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d";
const base = (): KafkaConnectorArgs => ({ namespace: "iot", connectorName: "plant", spec: connectorSpec(), topicMap: topicMap(), workloadManager: "operator" });
type Recorded = Awaited<ReturnType<typeof record>>;
/** The KafkaConnector custom resource as the API server would hand it to the operator. */
const asWatched = (r: Recorded, name: string) => {
  const cr = one(r, KC, name).inputs as { apiVersion: string; kind: string; metadata: { name: string; namespace: string; annotations?: Record<string, string> }; spec: unknown };
  return { apiVersion: cr.apiVersion, kind: cr.kind, metadata: { ...cr.metadata, uid: "u-1", generation: 1 }, spec: cr.spec };
};

describe("KafkaConnector with workloadManager \"operator\"", () => {
  it("creates only the two custom resources, and names the StatefulSet and service account as the operator will", async () => {
    let c!: KafkaConnector;
    const r = await record(() => (c = new KafkaConnector("bridge", base())));
    assert.deepEqual(graph(r), [`${KC} bridge-kafkaconnector`, "kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnectorTopicMap bridge-topicmap", "mqtt-kafka-connector:index:KafkaConnector bridge"]);
    assert.deepEqual(at(one(r, KC, "bridge-kafkaconnector").inputs, "metadata", "annotations"), { [WORKLOAD_MANAGER_ANNOTATION]: "operator" });
    const desired = desiredObjects(asWatched(r, "bridge-kafkaconnector"), DEFAULTS);
    assert.ok(desired.valid, JSON.stringify(desired));
    assert.equal(await valueOf(c.statefulSetName), desired.statefulSet);
    assert.equal(await valueOf(c.serviceAccountName), desired.objects.find((o) => o.kind === "ServiceAccount")!.metadata.name);
    assert.match(await valueOf(c.connectorConfig), /kind: KafkaConnector\n/);
  });

  it("gives the operator the workload identity client ID as an annotation, which it turns into the service account's", async () => {
    const r = await record(() => new KafkaConnector("bridge", { ...base(), workloadIdentityClientId: pulumi.output(CLIENT_ID) }));
    assert.deepEqual(at(one(r, KC, "bridge-kafkaconnector").inputs, "metadata", "annotations"), { [WORKLOAD_MANAGER_ANNOTATION]: "operator", [WORKLOAD_IDENTITY_ANNOTATION]: CLIENT_ID });
    const desired = desiredObjects(asWatched(r, "bridge-kafkaconnector"), DEFAULTS);
    assert.ok(desired.valid);
    assert.deepEqual(desired.objects.find((o) => o.kind === "ServiceAccount")!.metadata.annotations, { "azure.workload.identity/client-id": CLIENT_ID });
  });

  it("leads the operator to the same pods as the Pulumi-managed workload (one builder, same defaults)", async () => {
    const byPulumi = await record(() => new KafkaConnector("bridge", { ...base(), workloadManager: "pulumi", workloadIdentityClientId: CLIENT_ID }));
    const byOperator = await record(() => new KafkaConnector("bridge", { ...base(), workloadIdentityClientId: CLIENT_ID }));
    const desired = desiredObjects(asWatched(byOperator, "bridge-kafkaconnector"), DEFAULTS);
    assert.ok(desired.valid);
    const withoutManager = (spec: unknown) => JSON.parse(JSON.stringify(spec).replace(/"app\.kubernetes\.io\/managed-by":"[^"]*"/g, '"app.kubernetes.io/managed-by":"-"')) as unknown;
    assert.deepEqual(withoutManager(desired.objects.find((o) => o.kind === "StatefulSet")!["spec"]), withoutManager(one(byPulumi, STS, "bridge-statefulset").inputs["spec"]));
    // The Pulumi-managed connector's resource tells an operator on the cluster to leave it alone.
    assert.equal(at(one(byPulumi, KC, "bridge-kafkaconnector").inputs, "metadata", "annotations", WORKLOAD_MANAGER_ANNOTATION), "pulumi");
  });

  it("creates no SecretProviderClass for Key Vault references: the operator does", async () => {
    const spec = connectorSpec();
    spec.kafkaConnection = {
      endpoint: "ns.servicebus.windows.net:9093",
      tls: { tlsEnabled: true },
      authentication: { enabled: true, authType: { sasl: { saslType: "plain", token: { keyVault: { vault: { name: "kv1", directoryId: "tenant", credentials: { servicePrincipalLocalSecretName: "kv-sp" } }, vaultSecret: { name: "eh-conn" } } } } } },
    };
    const r = await record(() => new KafkaConnector("bridge", { ...base(), spec }));
    assert.deepEqual(r.map((x) => x.type).filter((t) => t.startsWith("kubernetes:")).sort(), [KC, "kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnectorTopicMap"]);
  });

  const refused: [string, Partial<KafkaConnectorArgs>, RegExp][] = [
    ["pod settings that the operator's flags decide", { cpuRequest: "1", maxUnavailable: 2 }, /with workloadManager "operator": cpuRequest, maxUnavailable: the operator sets these for every connector it runs; set them on the operator/],
    ["pod settings the operator has no setting for", { env: { NODE_OPTIONS: "--x" } }, /env: the operator has no such setting/],
    ["another service account name", { serviceAccountName: "other" }, /serviceAccountName: the operator names the service account after the connector \("plant"\)/],
    ["no custom resources", { createCustomResources: false }, /createCustomResources: the operator runs what the custom resources say/],
    ["a name the operator refuses", { connectorName: "plant.a" }, /connectorName: got "plant\.a"; the operator needs lower-case letters/],
    ["a client ID that is not a GUID", { workloadIdentityClientId: "client-123" }, /workloadIdentityClientId: got "client-123"; must be the client ID \(a GUID\)/],
    ["an unknown manager", { workloadManager: "helm" as never }, /workloadManager: got "helm"; must be "pulumi" or "operator"/],
  ];
  for (const [what, extra, message] of refused) {
    it(`refuses ${what}, naming the argument`, async () => {
      const r = await record(() => assert.throws(() => new KafkaConnector("bridge", { ...base(), ...extra }), (e: Error) => e instanceof InvalidArgsError && message.test(e.message) && e.message.startsWith('KafkaConnector "bridge": ')));
      assert.deepEqual(r.filter((x) => x.type.startsWith("kubernetes:")), []);
    });
  }
});

const bridgeArgs = (): MqttKafkaBridgeArgs => ({
  kubernetesNamespace: "iot",
  kafkaConnection: { endpoint: "kafka.data.svc:9092", tls: { tlsEnabled: false } },
  connector: { image: { repository: "registry.example.com/mqtt-kafka-connector", tag: "1.2.3" }, instances: 2, localBrokerConnection: { endpoint: "mqtt.iot.svc:1883" } },
  topicMap: topicMap(),
  workload: { manager: "operator" },
});

describe("MqttKafkaBridge with workload.manager \"operator\"", () => {
  it("installs the operator on request, running the connector's image, and creates the custom resources after it and no workload", async () => {
    const r = await record(() => new MqttKafkaBridge("plant", { ...bridgeArgs(), operator: { install: true, connector: { cpuRequest: "200m" } } }));
    assert.deepEqual(graph(r), [
      "kubernetes:apps/v1:Deployment plant-operator-deployment",
      "kubernetes:core/v1:Namespace plant-operator-namespace",
      "kubernetes:core/v1:ServiceAccount plant-operator-serviceaccount",
      `${KC} plant-connector-kafkaconnector`,
      "kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnectorTopicMap plant-connector-topicmap",
      "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole plant-operator-role",
      "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding plant-operator-binding",
      "mqtt-kafka-connector:index:ConnectorOperator plant-operator",
      "mqtt-kafka-connector:index:KafkaConnector plant-connector",
      "mqtt-kafka-connector:index:MqttKafkaBridge plant",
    ]);
    const container = at(one(r, "kubernetes:apps/v1:Deployment", "plant-operator-deployment").inputs, "spec", "template", "spec", "containers", 0) as { image: string; args: string[]; resources: unknown };
    assert.equal(container.image, "registry.example.com/mqtt-kafka-connector:1.2.3");
    assert.deepEqual(container.args, ["operator", "--cpu-request=200m"]);
    assert.deepEqual(container.resources, DEFAULT_OPERATOR_RESOURCES);
    for (const cr of ["plant-connector-kafkaconnector", "plant-connector-topicmap"]) assert.ok(dependenciesOf(cr).includes("plant-operator-deployment"), `${cr}: ${dependenciesOf(cr).join(", ")}`);
  });

  it("with Event Hubs and workload identity: the client ID on the custom resource, which waits for the identity and its roles", async () => {
    const args: MqttKafkaBridgeArgs = {
      ...bridgeArgs(),
      kafkaConnection: undefined,
      location: "westeurope",
      oidcIssuerUrl: "https://oidc.example.com/issuer/",
      existingIdentityId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id",
      clientId: CLIENT_ID,
      principalId: "p-1",
      eventHubs: { namespaceName: "plant-ehns" },
    };
    const r = await record(() => new MqttKafkaBridge("plant", args));
    assert.deepEqual(r.filter((x) => /StatefulSet|ServiceAccount|Deployment|SecretProviderClass/.test(x.type)), [], "no workload and no operator");
    assert.equal(at(one(r, KC, "plant-connector-kafkaconnector").inputs, "metadata", "annotations", WORKLOAD_IDENTITY_ANNOTATION), CLIENT_ID);
    assert.equal(at(one(r, "azure-native:managedidentity:FederatedIdentityCredential", "plant-identity-federation").inputs, "subject"), "system:serviceaccount:iot:plant", "the service account the operator creates");
    const deps = dependenciesOf("plant-connector-kafkaconnector");
    assert.ok(deps.includes("plant-identity-federation") && deps.some((d) => d.startsWith("plant-roles-")), deps.join(", "));
  });

  const refused: [string, Partial<MqttKafkaBridgeArgs>, RegExp][] = [
    ["workload settings the operator would ignore", { workload: { manager: "operator", memoryLimit: "1Gi", runtime: { kafkaToMqttConnections: 8 } } }, /with workload\.manager "operator": workload\.memoryLimit: the operator sets these.*; workload\.runtime: the operator has no such setting/],
    ["operator settings without the operator", { workload: {}, operator: { install: true } }, /operator: set workload\.manager: "operator"/],
    ["operator settings it would not use", { operator: { namespace: "ops" } }, /operator\.namespace: used only when this stack installs the operator; set operator\.install: true/],
    ["an operator that would not watch the connector's namespace", { operator: { install: true, watchNamespace: "team" } }, /operator\.watchNamespace: got "team"; the connector is in "iot"/],
    ["a bad operator setting", { operator: { install: true, connector: { memoryLimit: "lots" } } }, /^MqttKafkaBridge "plant": operator\.connector\.memoryLimit: --memory-limit must be a Kubernetes quantity/],
  ];
  for (const [what, extra, message] of refused) {
    it(`refuses ${what}`, async () => {
      await record(() => assert.throws(() => new MqttKafkaBridge("plant", { ...bridgeArgs(), ...extra }), (e: Error) => e instanceof InvalidArgsError && message.test(e.message)));
    });
  }
});
