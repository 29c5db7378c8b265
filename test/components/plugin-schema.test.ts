import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as components from "../../components";
import { COMPRESSIONS, KAFKA_ACKS, LOG_LEVELS, PARTITION_STRATEGIES, SASL_TYPES } from "../../connector/config/schema";

const ROOT = resolve(__dirname, "..", "..", "..");

/** Pulumi's analyzer for source-based component packages (PulumiPlugin.yaml); experimental, untyped here. */
interface AnalyzerResult {
  components: Record<string, { inputs: Record<string, { plain?: boolean; $ref?: string; type?: string }>; outputs: Record<string, unknown> }>;
  typeDefinitions: Record<string, { properties?: Record<string, unknown>; enum?: unknown[] }>;
}
type AnalyzerCtor = new (dir: string, name: string, packageJSON: object, names: Set<string>) => { analyze(): AnalyzerResult };

describe("multi-language schema (PulumiPlugin.yaml)", function () {
  this.timeout(120_000); // type-checks the whole program

  it("every exported component's args and outputs are expressible for other Pulumi languages", () => {
    const { Analyzer } = require("@pulumi/pulumi/provider/experimental/analyzer") as { Analyzer: AnalyzerCtor };
    // The same discovery the plugin host uses: every ComponentResource class the package exports.
    const { getPulumiComponents } = require("@pulumi/pulumi/provider/experimental/provider") as { getPulumiComponents(m: object): { name: string }[] };
    const names = getPulumiComponents(components).map((c) => c.name);
    assert.deepEqual([...names].sort(), ["ConnectorCrds", "ConnectorIdentity", "ConnectorOperator", "EventHubsKafka", "EventHubsRoleAssignments", "KafkaConnector", "MqttKafkaBridge"]);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as object;
    // Point the analyzer at the TypeScript entry directly; the published entry is compiled JS.
    const result = new Analyzer(ROOT, "mqtt-kafka-connector", { ...pkg, main: "components/index.js", exports: undefined }, new Set(names)).analyze();
    assert.deepEqual(Object.keys(result.components).sort(), [...names].sort());
    // Routes shape the resource graph, so they stay plain; spec leaves stay Inputs.
    assert.equal(result.components["MqttKafkaBridge"]!.inputs["topicMap"]!.plain, true);
    assert.equal(result.typeDefinitions["RouteArgs"] !== undefined, true);
    assert.equal(result.typeDefinitions["KafkaConnectorSpecArgs"]?.properties?.["instances"] !== undefined, true);
    // Enum-like fields are real enums of the schema, with the connector's own values.
    const enums = Object.fromEntries(
      Object.entries(result.typeDefinitions)
        .filter(([, t]) => t.enum)
        .map(([name, t]) => [name, (t.enum as { value: string }[]).map((m) => m.value)]),
    );
    assert.deepEqual(enums, {
      Compression: [...COMPRESSIONS],
      ImagePullPolicy: ["Always", "IfNotPresent", "Never"],
      KafkaAcks: [...KAFKA_ACKS],
      LogLevel: [...LOG_LEVELS],
      PartitionStrategy: [...PARTITION_STRATEGIES],
      SaslType: [...SASL_TYPES],
      WorkloadManager: ["pulumi", "operator"],
    });
    assert.deepEqual(result.components["MqttKafkaBridge"]!.inputs["kafkaConnection"]?.$ref, "#/types/mqtt-kafka-connector:index:KafkaConnectionArgs");
  });
});
