import { record } from "./mocks";
import { strict as assert } from "node:assert";
import { ConnectorCrds, renderCrds, toSdkSchemaKeys } from "../../components";
import { at, graph, one } from "./fixtures";

const CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";

describe("ConnectorCrds", () => {
  it("creates both CRDs from the generated definitions, in the Kubernetes SDK's key spelling", async () => {
    const r = await record(() => new ConnectorCrds("crds", { labels: { team: "iot" } }));
    assert.deepEqual(graph(r), [`${CRD} crds-kafkaconnector`, `${CRD} crds-kafkaconnectortopicmap`, "mqtt-kafka-connector:index:ConnectorCrds crds"]);
    const [connector, topicMap] = renderCrds();
    for (const [name, crd] of [["crds-kafkaconnector", connector!], ["crds-kafkaconnectortopicmap", topicMap!]] as const) {
      const inputs = one(r, CRD, name).inputs;
      assert.deepEqual(at(inputs, "metadata"), { name: crd.metadata.name, labels: { "app.kubernetes.io/part-of": "mqtt-kafka-connector", team: "iot" } });
      assert.deepEqual(inputs["spec"], toSdkSchemaKeys(crd.spec));
    }
    // The SDK spells x-kubernetes-* with underscores; the provider restores the dashes.
    const schema = at(one(r, CRD, "crds-kafkaconnector").inputs, "spec", "versions", 0, "schema", "openAPIV3Schema");
    assert.equal(at(schema, "properties", "status", "properties", "operator", "x_kubernetes_preserve_unknown_fields"), true);
    assert.deepEqual(at(schema, "properties", "status", "properties", "conditions", "x_kubernetes_list_map_keys"), ["type"]);
    assert.equal((at(schema, "properties", "spec", "properties", "kafkaConnection", "x_kubernetes_validations") as unknown[]).length, 3);
    assert.equal(JSON.stringify(schema).includes('"x-kubernetes-'), false);
  });

  it("renames only schema keywords, never field names under properties", () => {
    assert.deepEqual(
      toSdkSchemaKeys({ properties: { "x-kubernetes-field": { type: "string", "x-kubernetes-validations": [] } }, "x-kubernetes-preserve-unknown-fields": true }),
      { properties: { "x-kubernetes-field": { type: "string", x_kubernetes_validations: [] } }, x_kubernetes_preserve_unknown_fields: true },
    );
  });
});
