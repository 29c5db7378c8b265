import type { KafkaConnectorTopicMapResource } from "../config/schema";
import { topicMatches } from "../core/topic-filter";
import { connectorRoutes } from "../config/routes";
import { compileTemplate } from "../core/template";
import { templateCouldMatch } from "../config/templates";

/**
 * MQTT user property a kafkaToMqtt route adds when its messages could come back to this same
 * connector through an mqttToKafka filter. mqttToKafka routes drop messages carrying their own
 * connector's value, which breaks every cycle (each one passes through mqttToKafka after kafkaToMqtt).
 */
export const ORIGIN_PROPERTY = "x-bridge-origin";

export function connectorOrigin(namespace: string | undefined, name: string): string {
  return `${namespace ?? "default"}/${name}`;
}

/** How a kafkaToMqtt route marks its messages: never, always, or when the filled topic matches one of `under`. */
export type LoopMarking = { mark: "never" } | { mark: "always" } | { mark: "matching"; under: string[] };

/**
 * Per kafkaToMqtt route name, whether its messages need the origin mark. A fixed MQTT topic is
 * marked when one of the connector's mqttToKafka filters matches it. A templated one is checked per
 * message against the filters some filling could match (config/templates.ts decides which, erring
 * towards more), so a record can never pass back through this connector unmarked.
 */
export function loopMarkings(maps: KafkaConnectorTopicMapResource[]): Map<string, LoopMarking> {
  const routes = connectorRoutes(maps);
  const filters = [...new Set(routes.flatMap((r) => (r.direction === "mqttToKafka" ? [r.body.mqttTopic] : [])))];
  const out = new Map<string, LoopMarking>();
  for (const r of routes) {
    if (r.direction !== "kafkaToMqtt") continue;
    const t = compileTemplate(r.body.mqttTopic, "kafkaToMqtt");
    if (t.fixed) {
      const topic = t.parts.join("");
      out.set(r.body.name, filters.some((f) => topicMatches(f, topic)) ? { mark: "always" } : { mark: "never" });
      continue;
    }
    const under = filters.filter((f) => templateCouldMatch(t, f)).sort();
    out.set(r.body.name, under.length ? { mark: "matching", under } : { mark: "never" });
  }
  return out;
}

/** kafkaToMqtt route names whose messages may need the origin mark (see loopMarkings). */
export function loopCapableRoutes(maps: KafkaConnectorTopicMapResource[]): Set<string> {
  return new Set([...loopMarkings(maps)].flatMap(([name, m]) => (m.mark === "never" ? [] : [name])));
}
