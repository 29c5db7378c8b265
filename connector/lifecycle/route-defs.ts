/** The routes a set of topic maps defines, and the pipeline that runs each. */
import type { KafkaConnectorResource, KafkaConnectorTopicMapResource } from "../config/schema";
import { connectorRoutes, type ConnectorRoute } from "../config/routes";
import { describeSubscription, routeSubscription } from "../config/subscription";
import type { RuntimeOptions } from "./runtime";
import type { Logger } from "../logger";
import type { ConnectorMetrics } from "../metrics";
import type { ConnectorPorts } from "../ports/factory";
import type { KafkaProducerPort } from "../ports/types";
import { loopMarkings, type LoopMarking } from "../routes/loop-guard";
import { consumedTopics, isTopicTemplate, routeKafkaTopics } from "../config/routes";
import { MqttToKafkaPipeline } from "../routes/mqtt-to-kafka";
import { KafkaToMqttPipeline } from "../routes/kafka-to-mqtt";
import type { Pipeline } from "../routes/pipeline";
import type { RouteState } from "./reload-plan";
import type { TopicMetadata } from "./topic-metadata";
import type { Spool } from "../spool/store";

export type PipelineRuntime = Pick<
  RuntimeOptions,
  "instanceIndex" | "receiveMaximum" | "sessionExpirySeconds" | "maxBufferedBytes" | "kafkaToMqttConnections" | "kafkaToMqttMaxInFlight" | "leaveSharedOnStop"
>;

export interface RouteDef extends RouteState {
  route: ConnectorRoute;
  /** Whether a kafkaToMqtt route must mark its messages (one of our mqttToKafka filters matches its topic). */
  markLoops: boolean;
  /** For a templated kafkaToMqtt topic: the filters a filled topic is checked against before it is marked. */
  loopFilters?: string[];
}

/** Each route of the maps with what decides whether a running one must be restarted. */
export function routeDefs(connector: KafkaConnectorResource, maps: KafkaConnectorTopicMapResource[]): Map<string, RouteDef> {
  const loops = loopMarkings(maps);
  return new Map(
    connectorRoutes(maps).map((r) => {
      const { routes: _routes, kafkaConnectorRef: _ref, ...shared } = r.map.spec;
      const filter = r.direction === "mqttToKafka" ? routeSubscription(r.body, connector.metadata.name, connector.spec.instances).filter : undefined;
      const marking: LoopMarking = (r.direction === "kafkaToMqtt" && loops.get(r.body.name)) || { mark: "never" };
      const markLoops = marking.mark !== "never";
      // A templated route's filters are part of what it runs with: a change to them restarts it.
      const loopFilters = marking.mark === "matching" ? marking.under : undefined;
      const fingerprint = JSON.stringify({ route: r.route, shared, markLoops, filter, ...(loopFilters ? { loopFilters } : {}) });
      return [r.key, { route: r, markLoops, ...(loopFilters ? { loopFilters } : {}), filter, fingerprint }];
    }),
  );
}

/** One line per route for the start-up log. */
export function describeRoute(d: RouteDef, connector: KafkaConnectorResource): string {
  const { direction, body: b, key } = d.route;
  if (direction === "kafkaToMqtt") return `${key}: kafka ${consumedTopics(b).join(", ")} -> mqtt ${b.mqttTopic} (qos ${b.qos})`;
  const { instances } = connector.spec;
  const how = describeSubscription(routeSubscription(b, connector.metadata.name, instances), instances);
  const to = !isTopicTemplate(b.kafkaTopic) ? b.kafkaTopic : `${b.kafkaTopic} (${b.kafkaTopics ? `one of ${b.kafkaTopics.join(", ")}` : "any existing topic"})`;
  const key2 = b.kafkaKey !== undefined ? `, key ${b.kafkaKey}` : "";
  return `${key}: mqtt ${b.mqttTopic} -> kafka ${to} (qos ${b.qos}, acks ${b.kafkaAcks}${key2}; ${how})`;
}

export interface PipelineContext {
  connector: KafkaConnectorResource;
  clientIdPrefix: string;
  /** `<namespace>/<name>`: marks messages this connector published. */
  origin: string;
  ports: ConnectorPorts;
  /** The shared producer; present whenever a route produces (mqttToKafka or a Kafka dead-letter topic). */
  producer: () => KafkaProducerPort;
  topics: TopicMetadata;
  runtime: PipelineRuntime;
  metrics: ConnectorMetrics;
  log: Logger;
  /** The connector's disk spool, when it has one. */
  spool?: { spool: Spool; mode: "outage" | "always" };
}

export function createPipeline(def: RouteDef, ctx: PipelineContext): Pipeline {
  const { route: r } = def;
  const rt = ctx.runtime;
  const log = ctx.log.child({ route: r.body.name, direction: r.direction });
  const common = { key: r.key, instanceIndex: rt.instanceIndex, clientIdPrefix: ctx.clientIdPrefix, sessionExpirySeconds: rt.sessionExpirySeconds, partitionCount: ctx.topics.partitionCount };
  const metrics = ctx.metrics.route(r.body.name, r.direction);
  if (r.direction === "mqttToKafka") {
    // A templated route's batches hold several topics: they stay under the smallest limit known.
    const limits = routeKafkaTopics(r.body).flatMap((t) => ctx.topics.maxMessageBytes(t.topic) ?? []);
    const limit = limits.length ? Math.min(...limits) : undefined;
    const templated = isTopicTemplate(r.body.kafkaTopic);
    return new MqttToKafkaPipeline(r.body, r.map.spec, ctx.ports.mqtt, ctx.producer(), {
      ...common,
      receiveMaximum: rt.receiveMaximum,
      maxBufferedBytes: rt.maxBufferedBytes,
      hash: ctx.ports.hash,
      ...(limit !== undefined && !templated ? { topicMaxMessageBytes: limit } : {}),
      ...(templated ? { maxMessageBytesOf: (t: string) => ctx.topics.maxMessageBytes(t), topicStatus: ctx.topics.status, lookupTopic: ctx.topics.lookup } : {}),
      origin: ctx.origin,
      leaveSharedOnStop: rt.leaveSharedOnStop,
      subscription: routeSubscription(r.body, ctx.connector.metadata.name, ctx.connector.spec.instances),
      metrics,
      ...(ctx.spool ? { spool: ctx.spool } : {}),
    }, log);
  }
  return new KafkaToMqttPipeline(r.body, r.map.spec, ctx.ports.mqtt, ctx.ports.kafka, {
    ...common,
    maxInFlight: rt.kafkaToMqttMaxInFlight,
    connections: rt.kafkaToMqttConnections,
    ...(def.markLoops ? { markOrigin: ctx.origin } : {}),
    ...(def.loopFilters ? { markOnlyUnder: def.loopFilters } : {}),
    producer: ctx.producer,
    metrics,
  }, log);
}
