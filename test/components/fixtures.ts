/** Shared args for the component tests. Plain data; import after ./mocks. */
import type { KafkaConnectorSpecArgs, KafkaConnectorTopicMapSpecArgs } from "../../components";
import type { Registered } from "./mocks";
import { strict as assert } from "node:assert";
import { stringify as stringifyYaml } from "yaml";
import { parseConfigText, selectConnector, type ConnectorConfig } from "../../connector/config/load";

/** Two hubs: `telemetry` is written by two routes and read by one, `commands` is read by one. */
export function topicMap(): KafkaConnectorTopicMapSpecArgs {
  return {
    compression: "none",
    partitionStrategy: "property",
    partitionKeyProperty: "device-id",
    routes: [
      { mqttToKafka: { name: "telemetry-in", mqttTopic: "plant/+/telemetry/#", kafkaTopic: "telemetry", sharedSubscription: { groupName: "bridge", groupMinimumShareNumber: 2 } } },
      { kafkaToMqtt: { name: "commands-out", kafkaTopic: "commands", mqttTopic: "plant/commands", qos: 0 } },
      { mqttToKafka: { name: "alarms-in", mqttTopic: "plant/+/alarms", kafkaTopic: "telemetry", kafkaAcks: "one" } },
      { kafkaToMqtt: { name: "telemetry-echo", kafkaTopic: "telemetry", mqttTopic: "plant/echo" } },
    ],
  };
}

export function connectorSpec(): KafkaConnectorSpecArgs {
  return {
    image: { repository: "registry.example.com/mqtt-kafka-connector", tag: "1.2.3", pullPolicy: "Always" },
    instances: 3,
    clientIdPrefix: "plant",
    logLevel: "info",
    kafkaConnection: {
      endpoint: "plant-ehns.servicebus.windows.net:9093",
      tls: { tlsEnabled: true },
      authentication: { enabled: true, authType: { systemAssignedManagedIdentity: { audience: "https://plant-ehns.servicebus.windows.net" } } },
    },
    localBrokerConnection: {
      endpoint: "mqtt-broker.iot.svc:8883",
      tls: { tlsEnabled: true, trustedCaCertificateConfigMap: "mqtt-ca" },
      authentication: { kubernetes: {} },
    },
  };
}

/** `type name` of every registered resource, sorted: the exact resource graph. */
export function graph(r: Registered[]): string[] {
  return r.map((x) => `${x.type} ${x.name}`).sort();
}

export function one(r: Registered[], type: string, name: string): Registered {
  const found = r.filter((x) => x.type === type && x.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} ${name}, found ${found.length}: ${graph(r).join(", ")}`);
  return found[0]!;
}

export function ofType(r: Registered[], type: string): Registered[] {
  return r.filter((x) => x.type === type);
}

/** Reads a nested property of recorded inputs. */
export function at(v: unknown, ...path: (string | number)[]): unknown {
  let cur = v;
  for (const p of path) cur = cur === null || cur === undefined ? undefined : (cur as Record<string | number, unknown>)[p];
  return cur;
}

/** The KafkaConnector and topic map custom resources a record holds, through the connector's own loader. */
export function deployedConfig(r: Registered[], connectorName: string): ConnectorConfig {
  const crs = r.filter((x) => x.type === "kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnector" || x.type === "kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnectorTopicMap");
  const text = crs.map((x) => stringifyYaml({ apiVersion: x.inputs["apiVersion"], kind: x.inputs["kind"], metadata: { name: (x.inputs["metadata"] as { name: string }).name, namespace: (x.inputs["metadata"] as { namespace?: string }).namespace }, spec: x.inputs["spec"] })).join("---\n");
  const { resources, problems } = parseConfigText(text, "custom resources");
  assert.deepEqual(problems, []);
  return selectConnector(resources, connectorName);
}
