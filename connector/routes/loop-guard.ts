import type { KafkaConnectorTopicMapResource } from "../config/schema";
import { topicMatches } from "../core/topic-filter";
import { connectorRoutes } from "../config/routes";

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
  const routes = connectorRoutes(maps);
  const filters = routes.flatMap((r) => (r.direction === "mqttToKafka" ? [r.body.mqttTopic] : []));
  return new Set(routes.flatMap((r) => (r.direction === "kafkaToMqtt" && filters.some((f) => topicMatches(f, r.body.mqttTopic)) ? [r.body.name] : [])));
}
