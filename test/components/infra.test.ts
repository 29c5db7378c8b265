import { record } from "./mocks";
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { at, deployedConfig, ofType, one } from "./fixtures";

const ROOT = resolve(__dirname, "..", "..", "..");
const PROJECT = "mqtt-kafka-connector";

interface ProjectConfigDecl {
  type?: string;
  default?: unknown;
  value?: unknown;
}

/** Stack config the way the Pulumi CLI assembles it: Pulumi.yaml defaults/values, then the stack file. */
function stackConfig(stack: string): Record<string, string> {
  const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string; main: string; config: Record<string, ProjectConfigDecl> };
  assert.equal(project.name, PROJECT);
  const out: Record<string, string> = {};
  const put = (key: string, v: unknown) => (out[key] = typeof v === "string" ? v : JSON.stringify(v));
  for (const [key, decl] of Object.entries(project.config)) {
    const v = decl.default ?? decl.value;
    if (v !== undefined) put(`${PROJECT}:${key}`, v);
  }
  const stackFile = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  for (const [key, v] of Object.entries(stackFile.config)) {
    const bare = key.replace(`${PROJECT}:`, "");
    assert.ok(key.includes(":") && (!key.startsWith(`${PROJECT}:`) || bare in project.config), `${key} is not declared in Pulumi.yaml`);
    put(key, v);
  }
  for (const [key, decl] of Object.entries(project.config)) {
    assert.ok(`${PROJECT}:${key}` in out, `stack ${stack} must set ${key} (no default in Pulumi.yaml)`);
    if (decl.type === "integer") assert.match(out[`${PROJECT}:${key}`]!, /^\d+$/, `${stack} ${key}`);
    if (decl.type === "boolean") assert.match(out[`${PROJECT}:${key}`]!, /^(true|false)$/, `${stack} ${key}`);
  }
  return out;
}

async function runProgram(stack: string) {
  pulumi.runtime.setAllConfig(stackConfig(stack));
  const entry = require.resolve("../../infra");
  delete require.cache[entry];
  let outputs: Record<string, unknown> = {};
  const r = await record(() => {
    outputs = require(entry) as Record<string, unknown>;
  });
  return { r, outputs };
}

describe("infra program (Pulumi.yaml + per-stack config)", () => {
  for (const [stack, expected] of [
    ["dev", { sku: "Standard", instances: 1, partitions: 2, logLevel: "debug", compression: "none", context: "aks-plant-dev", protect: false }],
    ["prod", { sku: "Premium", instances: 3, partitions: 16, logLevel: "warn", compression: "gzip", context: "aks-plant-prod", protect: true }],
  ] as const) {
    it(`${stack}: builds the bridge the stack describes`, async () => {
      const { r, outputs } = await runProgram(stack);
      assert.equal(one(r, "mqtt-kafka-connector:index:MqttKafkaBridge", "mqtt-kafka-bridge").type, "mqtt-kafka-connector:index:MqttKafkaBridge");
      assert.equal(at(one(r, "azure-native:eventhub:Namespace", "mqtt-kafka-bridge-eventhubs-namespace").inputs, "sku", "name"), expected.sku);
      const hubs = ofType(r, "azure-native:eventhub:EventHub");
      assert.deepEqual(hubs.map((h) => h.inputs["eventHubName"]).sort(), ["plant-alarms", "plant-dead-letters", "plant-setpoints", "plant-telemetry"]);
      assert.deepEqual([...new Set(hubs.map((h) => h.inputs["partitionCount"]))], [expected.partitions]);
      assert.equal(at(one(r, "kubernetes:apps/v1:StatefulSet", "mqtt-kafka-bridge-connector-statefulset").inputs, "spec", "replicas"), expected.instances);
      const { connector, topicMaps } = deployedConfig(r, "mqtt-kafka-bridge");
      assert.equal(connector.spec.logLevel, expected.logLevel);
      assert.equal(topicMaps[0]!.spec.compression, expected.compression);
      assert.equal(ofType(r, "azure-native:managedidentity:FederatedIdentityCredential").length, 1);
      assert.deepEqual(
        ofType(r, "azure-native:authorization:RoleAssignment").map((x) => x.name).sort(),
        ["sender-plant-alarms", "sender-plant-dead-letters", "receiver-plant-setpoints", "sender-plant-telemetry"].map((n) => `mqtt-kafka-bridge-roles-${n}`).sort(),
      );
      // Each stack names its cluster, and its subscription (azure-native's own config key).
      assert.equal(one(r, "pulumi:providers:kubernetes", "cluster").inputs["context"], expected.context);
      assert.match(stackConfig(stack)["azure-native:subscriptionId"] ?? "", /^[0-9a-f-]{36}$/);
      assert.deepEqual([...new Set(hubs.map((h) => h.protect))], [expected.protect], "event hubs protected in prod");
      assert.deepEqual(ofType(r, "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"), [], "CRDs are a cluster-level install");
      assert.equal(at(one(r, "kubernetes:apps/v1:StatefulSet", "mqtt-kafka-bridge-connector-statefulset").inputs, "metadata", "namespace"), "azure-iot-operations");
      assert.deepEqual(
        Object.keys(outputs).sort(),
        [
          "bootstrapServers", "connectionString", "connectorConfig", "connectorName", "eventHubIds", "eventHubs", "eventHubsNamespace",
          "identityClientId", "identityPrincipalId", "kubernetesNamespace", "resourceGroup", "tokenAudience",
        ],
      );
    });
  }

  it("with kafkaConnection, brings your own Kafka: the workload only, no Azure resource", async () => {
    const config = stackConfig("dev");
    config["mqtt-kafka-connector:kafkaConnection"] = JSON.stringify({ endpoint: "kafka.data.svc:9092", tls: { tlsEnabled: false } });
    pulumi.runtime.setAllConfig(config);
    const entry = require.resolve("../../infra");
    delete require.cache[entry];
    const r = await record(() => require(entry));
    assert.deepEqual(r.filter((x) => x.type.startsWith("azure-native:")).map((x) => x.type), []);
    assert.equal(deployedConfig(r, "mqtt-kafka-bridge").connector.spec.kafkaConnection.endpoint, "kafka.data.svc:9092");
  });
});
