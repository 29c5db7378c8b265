/**
 * Facts derived from topic maps, asked by the connector, `check` and the Pulumi components alike:
 * a route's direction and body, its key, and the Kafka topics the routes use.
 */
import type { KafkaConnectorTopicMapResource, KafkaToMqttRoute, MqttToKafkaRoute, RouteResolved } from "./schema";

export type Direction = "mqttToKafka" | "kafkaToMqtt";

/** The Kafka topic fields of a route, in either direction. */
export interface RouteTopicFields {
  name: string;
  /** A topic; for mqttToKafka possibly a template (`${...}`). kafkaToMqtt routes set it or kafkaTopics. */
  kafkaTopic?: string;
  /** mqttToKafka: the topics a templated kafkaTopic may produce to. kafkaToMqtt: the topics it consumes. */
  kafkaTopics?: readonly string[];
  deadLetter?: { kafkaTopic?: string };
}

/** The part of a route these functions read; the validated spec and the component args both fit it. */
export interface RouteShape<M = RouteTopicFields, K = M> {
  mqttToKafka?: M;
  kafkaToMqtt?: K;
}

export type RouteBody<R extends RouteShape> =
  | { direction: "mqttToKafka"; body: NonNullable<R["mqttToKafka"]> }
  | { direction: "kafkaToMqtt"; body: NonNullable<R["kafkaToMqtt"]> };

/** Which of the two a route is, and its body; undefined for a route that sets neither (validation reports it). */
export function routeBody<R extends RouteShape>(route: R): RouteBody<R> | undefined {
  if (route.mqttToKafka) return { direction: "mqttToKafka", body: route.mqttToKafka as NonNullable<R["mqttToKafka"]> };
  if (route.kafkaToMqtt) return { direction: "kafkaToMqtt", body: route.kafkaToMqtt as NonNullable<R["kafkaToMqtt"]> };
  return undefined;
}

/** One route of a connector, with the topic map it comes from. */
export type ConnectorRoute = {
  map: KafkaConnectorTopicMapResource;
  /** `<topic map>/<route>`, unique within a connector. */
  key: string;
  route: RouteResolved;
} & ({ direction: "mqttToKafka"; body: MqttToKafkaRoute } | { direction: "kafkaToMqtt"; body: KafkaToMqttRoute });

export function connectorRoutes(maps: readonly KafkaConnectorTopicMapResource[]): ConnectorRoute[] {
  return maps.flatMap((map) =>
    map.spec.routes.flatMap((route) => {
      const b = routeBody(route);
      return b ? [{ map, route, key: `${map.metadata.name}/${b.body.name}`, ...b } as ConnectorRoute] : [];
    }),
  );
}

/** How a route uses a Kafka topic. */
export type TopicUse = "produces" | "consumes" | "deadLetters";

export interface TopicUsage {
  topic: string;
  /** Route names with how each uses the topic, in route order. */
  users: { route: string; use: TopicUse; field: string }[];
}

/**
 * Every Kafka topic the routes name, route topics and Kafka dead-letter topics, in order of first
 * use. All must exist before the routes start: the connector never creates topics.
 */
export function kafkaTopicUsage<R extends RouteShape>(routes: readonly R[]): TopicUsage[] {
  const out = new Map<string, TopicUsage>();
  const use = (topic: string, route: string, how: TopicUse, field: string) => {
    let u = out.get(topic);
    if (!u) out.set(topic, (u = { topic, users: [] }));
    u.users.push({ route, use: how, field });
  };
  routes.forEach((route, i) => {
    const b = routeBody(route);
    if (!b) return;
    const field = `routes[${i}].${b.direction}`;
    const how = b.direction === "mqttToKafka" ? "produces" : "consumes";
    for (const t of routeKafkaTopics(b.body)) use(t.topic, b.body.name, how, `${field}.${t.field}`);
    const dl = b.body.deadLetter?.kafkaTopic;
    if (dl !== undefined) use(dl, b.body.name, "deadLetters", `${field}.deadLetter.kafkaTopic`);
  });
  return [...out.values()];
}

/** Whether an mqttToKafka kafkaTopic is a template rather than a topic name (a name cannot hold `$`). */
export function isTopicTemplate(kafkaTopic: string | undefined): boolean {
  return kafkaTopic !== undefined && kafkaTopic.includes("${");
}

/**
 * The Kafka topics a route names, each with its field: its kafkaTopic, or the kafkaTopics list (a
 * kafkaToMqtt route's sources, or what a templated mqttToKafka kafkaTopic may produce to). A
 * templated kafkaTopic without a list names none: its topics are known only per message.
 */
export function routeKafkaTopics(body: RouteTopicFields): { topic: string; field: string }[] {
  if (body.kafkaTopics && (body.kafkaTopic === undefined || isTopicTemplate(body.kafkaTopic))) {
    return body.kafkaTopics.map((topic, j) => ({ topic, field: `kafkaTopics[${j}]` }));
  }
  if (body.kafkaTopic !== undefined && !isTopicTemplate(body.kafkaTopic)) return [{ topic: body.kafkaTopic, field: "kafkaTopic" }];
  return [];
}

/** mqttToKafka routes whose templated kafkaTopic has no kafkaTopics list, with their field paths. */
export function openTemplateRoutes<R extends RouteShape>(routes: readonly R[]): { route: string; field: string; template: string }[] {
  return routes.flatMap((route, i) => {
    const b = routeBody(route);
    if (b?.direction !== "mqttToKafka" || !isTopicTemplate(b.body.kafkaTopic) || b.body.kafkaTopics) return [];
    return [{ route: b.body.name, field: `routes[${i}].mqttToKafka.kafkaTopics`, template: b.body.kafkaTopic! }];
  });
}

/** The Kafka topics of a connector's topic maps, each with the `<map>/<route>` keys that use it. */
export function connectorTopics(maps: readonly KafkaConnectorTopicMapResource[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of maps) {
    for (const u of kafkaTopicUsage(m.spec.routes)) {
      const keys = out.get(u.topic) ?? [];
      for (const user of u.users) if (!keys.includes(`${m.metadata.name}/${user.route}`)) keys.push(`${m.metadata.name}/${user.route}`);
      out.set(u.topic, keys);
    }
  }
  return out;
}

/** Whether any route produces to Kafka (an mqttToKafka route, or a Kafka dead-letter topic). */
export function needsProducer(maps: readonly KafkaConnectorTopicMapResource[]): boolean {
  return connectorRoutes(maps).some((r) => r.direction === "mqttToKafka" || r.body.deadLetter?.kafkaTopic !== undefined);
}

/** The topics mqttToKafka routes produce to (for their max.message.bytes). */
export function producedTopics(maps: readonly KafkaConnectorTopicMapResource[]): string[] {
  return [...new Set(connectorRoutes(maps).flatMap((r) => (r.direction === "mqttToKafka" ? routeKafkaTopics(r.body).map((t) => t.topic) : [])))];
}

/** The topics a kafkaToMqtt route consumes. */
export function consumedTopics(route: KafkaToMqttRoute): string[] {
  return route.kafkaTopics ? [...route.kafkaTopics] : route.kafkaTopic !== undefined ? [route.kafkaTopic] : [];
}

/** Names used twice in a list, each as `[index, name, index of its first use]`; undefined entries are skipped. */
export function duplicateNames(names: readonly (string | undefined)[]): [number, string, number][] {
  const seen = new Map<string, number>();
  const out: [number, string, number][] = [];
  names.forEach((name, i) => {
    if (name === undefined) return;
    const first = seen.get(name);
    if (first === undefined) seen.set(name, i);
    else out.push([i, name, first]);
  });
  return out;
}
