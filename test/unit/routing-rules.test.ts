import { strict as assert } from "node:assert";
import { parseConfigText } from "../../connector/config/load";
import { loopCapableRoutes, connectorOrigin } from "../../connector/routes/loop-guard";
import { explanation, DLQ } from "../../connector/routes/dead-letter";
import { recordSize, mqttClientId } from "../../connector/routes/limits";
import { recordRejection, kafkaError } from "../../connector/ports/kafka/errors";
import { resolveInstanceIndex } from "../../connector/instance";
import type { KafkaConnectorTopicMapResource } from "../../connector/config/schema";

function maps(routes: string): KafkaConnectorTopicMapResource[] {
  const { resources, problems } = parseConfigText(`apiVersion: mq.iotoperations.azure.com/v1beta1\nkind: KafkaConnectorTopicMap\nmetadata: {name: m}\nspec:\n  kafkaConnectorRef: c\n  routes:\n${routes}`, "t");
  assert.deepEqual(problems, []);
  return resources as KafkaConnectorTopicMapResource[];
}

describe("routing rules", () => {
  it("marks only kafkaToMqtt routes whose topic an mqttToKafka filter of the same connector matches", () => {
    const m = maps(
      [
        "    - kafkaToMqtt: {name: loops, kafkaTopic: a, mqttTopic: plant/cmd}",
        "    - kafkaToMqtt: {name: safe, kafkaTopic: a, mqttTopic: other/cmd}",
        "    - mqttToKafka: {name: in, mqttTopic: plant/#, kafkaTopic: a}",
      ].join("\n"),
    );
    assert.deepEqual([...loopCapableRoutes(m)], ["loops"]);
    assert.equal(connectorOrigin(undefined, "bridge"), "default/bridge");
    assert.equal(connectorOrigin("iot", "bridge"), "iot/bridge");
  });

  it("explains a dead letter with reason, source, route, time and Kafka position", () => {
    const e = explanation("r1", { reason: "oversize: 2 bytes", sourceTopic: "t", payload: Buffer.alloc(0), source: { partition: 3, offset: "42" } }, new Date("2026-01-02T03:04:05Z"));
    assert.deepEqual(e, {
      [DLQ.reason]: "oversize: 2 bytes",
      [DLQ.sourceTopic]: "t",
      [DLQ.route]: "r1",
      [DLQ.time]: "2026-01-02T03:04:05.000Z",
      [DLQ.sourcePartition]: "3",
      [DLQ.sourceOffset]: "42",
    });
  });

  it("tells record rejections from connection and permission errors, through kafkajs wrappers", () => {
    assert.equal(recordRejection({ type: "MESSAGE_TOO_LARGE" }), "MESSAGE_TOO_LARGE");
    assert.equal(recordRejection({ name: "KafkaJSNumberOfRetriesExceeded", originalError: { type: "CORRUPT_MESSAGE" } }), "CORRUPT_MESSAGE");
    assert.equal(recordRejection({ type: "TOPIC_AUTHORIZATION_FAILED" }), undefined, "never drop data over a permission problem");
    assert.equal(recordRejection(new Error("Connection error: ECONNREFUSED")), undefined);
    // The Kafka port hands routes these as codes, never kafkajs' fields.
    const rejected = kafkaError({ name: "KafkaJSNumberOfRetriesExceeded", originalError: { type: "CORRUPT_MESSAGE", retriable: false } }, "produce to t");
    assert.deepEqual([rejected.code, rejected.reason, rejected.retriable], ["KAFKA_RECORD_REJECTED", "CORRUPT_MESSAGE", false]);
    assert.equal(kafkaError({ type: "TOPIC_AUTHORIZATION_FAILED", message: "Not authorized to access topics" }).code, "KAFKA_ERROR");
    const down = kafkaError(Object.assign(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:9"), { name: "KafkaJSConnectionError", retriable: true }));
    assert.deepEqual([down.code, down.retriable], ["KAFKA_UNREACHABLE", true]);
  });

  it("sizes records with key, headers and overhead", () => {
    assert.equal(recordSize({ key: Buffer.from("ab"), value: Buffer.alloc(100), partition: 0 }), 166);
    assert.equal(recordSize({ key: null, value: Buffer.alloc(10), partition: 0, headers: { h: "xyz", m: ["a", "b"] } }), 10 + 64 + (1 + 3 + 8) + 2 * (1 + 1 + 8));
  });

  it("builds stable client IDs and instance indexes", () => {
    assert.equal(mqttClientId("bridge", 2, "telemetry", 1), "bridge-2-telemetry-1");
    assert.equal(resolveInstanceIndex(undefined, { POD_NAME: "bridge-connector-3" }), 3);
    assert.equal(resolveInstanceIndex("5", { POD_NAME: "x-3" }), 5);
    assert.equal(resolveInstanceIndex(undefined, { CONNECTOR_INSTANCE_INDEX: "7", POD_NAME: "x-3" }), 7);
    assert.equal(resolveInstanceIndex(undefined, {}), 0);
    assert.throws(() => resolveInstanceIndex("-1", {}), { message: 'instance index must be a non-negative integer, got "-1"' });
  });
});
