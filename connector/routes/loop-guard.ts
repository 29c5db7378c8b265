import type { KafkaConnectorTopicMapResource } from "../config/schema";
import { topicMatches } from "../core/topic-filter";

/**
 * MQTT user property a kafkaToMqtt route adds when its messages could come back to this same
 * connector through an mqttToKafka filter. mqttToKafka routes drop messages carrying their own
 * connector's value, which breaks every cycle (each one passes through mqttToKafka after kafkaToMqtt).
 */
export const ORIGIN_PROPERTY = "x-bridge-origin";

export function connectorOrigin(namespace: string | undefined, name: string): string {
  return `${namespace ?? "default"}/${name}`;
}

/** kafkaToMqtt route names whose MQTT topic one of the connector's mqttToKafka filters matches. */
export function loopCapableRoutes(maps: KafkaConnectorTopicMapResource[]): Set<string> {
  const routes = maps.flatMap((m) => m.spec.routes);
  const filters = routes.flatMap((r) => (r.mqttToKafka ? [r.mqttToKafka.mqttTopic] : []));
  const out = new Set<string>();
  for (const r of routes) {
    const k = r.kafkaToMqtt;
    if (k && filters.some((f) => topicMatches(f, k.mqttTopic))) out.add(k.name);
  }
  return out;
}
