// Names, topics and connector YAML for one scenario, plus a background
// watcher of a topic's end offset.
import { randomBytes } from "node:crypto";
import type { Admin } from "kafkajs";
import type { FaultBrokers } from "./brokers";
import { topicEnd } from "./streams";

export interface Topology {
  scenario: number;
  /** Unique per run: part of every name, so runs and scenarios never share state. */
  id: string;
  connectorName: string;
  m2k?: { route: string; mqttTopic: string; kafkaTopic: string; partitions: number };
  k2m?: { route: string; kafkaTopic: string; mqttTopic: string; partitions: number; group: string };
}

export function makeTopology(scenario: number, directions: { m2k: boolean; k2m: boolean }, partitions = 3): Topology {
  const id = `s${scenario}-${Date.now().toString(36)}-${randomBytes(2).toString("hex")}`;
  return {
    scenario,
    id,
    connectorName: `faults-${id}`,
    ...(directions.m2k ? { m2k: { route: "m2k", mqttTopic: `faults/${id}/in`, kafkaTopic: `faults-${id}-m2k`, partitions } } : {}),
    ...(directions.k2m ? { k2m: { route: "k2m", kafkaTopic: `faults-${id}-k2m`, mqttTopic: `faults/${id}/out`, partitions, group: `faults-${id}-k2m` } } : {}),
  };
}

export async function createTopics(b: FaultBrokers, t: Topology): Promise<void> {
  if (t.m2k) await b.kafka.createTopic(t.m2k.kafkaTopic, t.m2k.partitions);
  if (t.k2m) await b.kafka.createTopic(t.k2m.kafkaTopic, t.k2m.partitions);
}

export interface YamlOptions {
  /** Appended inside the mqttToKafka / kafkaToMqtt flow mapping, e.g. `deadLetter: {kafkaTopic: x}`. */
  m2kExtra?: string;
  k2mExtra?: string;
  /** Extra topic-map spec lines (two-space indented). */
  mapExtra?: string[];
}

/**
 * KafkaConnector + KafkaConnectorTopicMap for the scenario's brokers, at
 * logLevel info so the final "connector stopped" line carries per-route stats.
 */
export function topologyYaml(b: FaultBrokers, t: Topology, o: YamlOptions = {}): string {
  const routes: string[] = [];
  if (t.m2k) {
    routes.push(
      `    - mqttToKafka: {name: ${t.m2k.route}, mqttTopic: "${t.m2k.mqttTopic}", kafkaTopic: ${t.m2k.kafkaTopic}, qos: 1, kafkaAcks: all${o.m2kExtra ? `, ${o.m2kExtra}` : ""}}`,
    );
  }
  if (t.k2m) {
    routes.push(
      `    - kafkaToMqtt: {name: ${t.k2m.route}, kafkaTopic: ${t.k2m.kafkaTopic}, mqttTopic: "${t.k2m.mqttTopic}", consumerGroupId: ${t.k2m.group}, qos: 1${o.k2mExtra ? `, ${o.k2mExtra}` : ""}}`,
    );
  }
  return [
    "apiVersion: mq.iotoperations.azure.com/v1beta1",
    "kind: KafkaConnector",
    `metadata: {name: ${t.connectorName}}`,
    "spec:",
    "  image: {}",
    "  instances: 1",
    "  logLevel: info",
    `  kafkaConnection: {endpoint: "${b.kafka.bootstrap}", tls: {tlsEnabled: false}}`,
    `  localBrokerConnection: {endpoint: "127.0.0.1:${b.mqtt.port}", tls: {tlsEnabled: false}}`,
    "---",
    "apiVersion: mq.iotoperations.azure.com/v1beta1",
    "kind: KafkaConnectorTopicMap",
    `metadata: {name: ${t.connectorName}-map}`,
    "spec:",
    `  kafkaConnectorRef: ${t.connectorName}`,
    ...(o.mapExtra ?? []),
    "  routes:",
    ...routes,
    "",
  ].join("\n");
}

/** Keeps `value` at the topic's end offset (sum over partitions), polled every `everyMs`. */
export class TopicEndWatch {
  value = 0;
  private timer: NodeJS.Timeout;
  private busy = false;

  constructor(admin: Admin, topic: string, everyMs = 500) {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      void topicEnd(admin, topic)
        .then((v) => {
          if (v !== undefined) this.value = v;
        })
        .finally(() => (this.busy = false));
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
