import type { ConnectorConfig } from "./config/load";
import type { KafkaConnectorTopicMapResource, MqttToKafkaRoute, RouteResolved } from "./config/schema";
import { SecretStore } from "./config/secrets";
import { ConnectorError } from "./core/errors";
import { backoffMs, sleep } from "./core/backoff";
import { withTimeout } from "./core/timeout";
import type { Logger } from "./logger";
import { ConnectorMetrics } from "./metrics";
import { KafkaJsPort } from "./ports/kafka-port";
import { MqttJsPort } from "./ports/mqtt-port";
import { kafkaAuth, mqttSettings, isEventHubs, splitEndpoints } from "./ports/connection-settings";
import { kafkaFailureSummary } from "./ports/kafka-port";
import { murmur2 } from "./ports/kafka-murmur2";
import type { KafkaPort, KafkaProducerPort, MqttPort } from "./ports/types";
import { MqttToKafkaPipeline } from "./routes/mqtt-to-kafka";
import { KafkaToMqttPipeline } from "./routes/kafka-to-mqtt";
import { connectorOrigin, loopCapableRoutes } from "./routes/loop-guard";
import { routeSubscription, describeSubscription, type RouteSubscription } from "./config/subscription";

const TOPIC_LIMITS_TIMEOUT_MS = 10_000;

export interface RuntimeOptions {
  instanceIndex: number;
  secretsDir: string;
  receiveMaximum: number;
  sessionExpirySeconds: number;
  maxBufferedBytes: number;
  kafkaToMqttMaxInFlight: number;
  /** MQTT connections per kafkaToMqtt route (capped by the source topic's partitions). */
  kafkaToMqttConnections: number;
  offsetReset: "earliest" | "latest";
  commitIntervalMs: number;
  /** Kafka consumer group session timeout: how long a crashed instance's partitions wait for it. */
  sessionTimeoutMs: number;
  partitionRefreshMs: number;
  /** Shared-subscription clients leave their group and end their sessions on a graceful stop. */
  leaveSharedOnStop: boolean;
  /** Interval of the one-line throughput summary logged at info; 0 disables it. */
  summaryIntervalMs: number;
}

export const DEFAULT_RUNTIME: Omit<RuntimeOptions, "instanceIndex" | "secretsDir"> = {
  receiveMaximum: 1000,
  sessionExpirySeconds: 3600,
  maxBufferedBytes: 64 * 1024 * 1024,
  kafkaToMqttMaxInFlight: 1000,
  kafkaToMqttConnections: 4,
  offsetReset: "earliest",
  commitIntervalMs: 1000,
  sessionTimeoutMs: 10_000,
  partitionRefreshMs: 60_000,
  leaveSharedOnStop: true,
  summaryIntervalMs: 60_000,
};

export interface ConnectorPorts {
  mqtt: MqttPort;
  kafka: KafkaPort;
}

export type ConnectorState = "new" | "starting" | "running" | "stopping" | "stopped";

type Pipeline = MqttToKafkaPipeline | KafkaToMqttPipeline;

interface RouteEntry {
  /** `<topic map>/<route>` */
  key: string;
  /** Everything that shapes the route's behaviour; a change means restart this route. */
  fingerprint: string;
  pipeline: Pipeline;
}

interface RouteDef {
  key: string;
  fingerprint: string;
  map: KafkaConnectorTopicMapResource;
  route: RouteResolved;
}

/** The routes of a set of topic maps, with what decides whether a running route must be restarted. */
function routeDefs(maps: KafkaConnectorTopicMapResource[]): RouteDef[] {
  const loops = loopCapableRoutes(maps);
  return maps.flatMap((map) =>
    map.spec.routes.map((route) => {
      const r = (route.mqttToKafka ?? route.kafkaToMqtt)!;
      const { routes: _routes, kafkaConnectorRef: _ref, ...shared } = map.spec;
      return {
        key: `${map.metadata.name}/${r.name}`,
        fingerprint: JSON.stringify({ route, shared, markLoops: loops.has(r.name) }),
        map,
        route,
      };
    }),
  );
}

/** Route topics and Kafka dead-letter topics: all must exist before a route starts. */
function kafkaTopics(maps: KafkaConnectorTopicMapResource[]): string[] {
  return [
    ...new Set(
      maps.flatMap((m) =>
        m.spec.routes.flatMap((r) => {
          const x = (r.mqttToKafka ?? r.kafkaToMqtt)!;
          return x.deadLetter?.kafkaTopic ? [x.kafkaTopic, x.deadLetter.kafkaTopic] : [x.kafkaTopic];
        }),
      ),
    ),
  ];
}

/**
 * One KafkaConnector with its topic maps. `start()` connects and starts every route; `stop()` drains:
 * stop intake → flush batches → await Kafka acks and PUBACKs/commits → disconnect. `reload()` swaps
 * topic maps while running, restarting only the routes that changed.
 */
export class Connector {
  state: ConnectorState = "new";
  readonly metrics: ConnectorMetrics;
  readonly clientIdPrefix: string;
  private readonly routes = new Map<string, RouteEntry>();
  private topicMaps: KafkaConnectorTopicMapResource[];
  private readonly ports: ConnectorPorts;
  private producer: KafkaProducerPort | undefined;
  private partitions = new Map<string, number>();
  /** Topics' max.message.bytes, best effort: clusters that do not say (or deny DescribeConfigs) leave it out. */
  private topicLimits = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private stopping: Promise<void> | undefined;
  private drainCompleted = false;
  private reloading: Promise<void> = Promise.resolve();
  private readonly abortStart = new AbortController();
  private readonly origin: string;

  constructor(
    readonly config: ConnectorConfig,
    readonly runtime: RuntimeOptions,
    private readonly log: Logger,
    ports?: ConnectorPorts,
  ) {
    const meta = config.connector.metadata;
    this.clientIdPrefix = config.connector.spec.clientIdPrefix ?? meta.name;
    this.origin = connectorOrigin(meta.namespace, meta.name);
    this.topicMaps = config.topicMaps;
    this.metrics = new ConnectorMetrics({ connector: meta.name, instance: String(runtime.instanceIndex) });
    this.checkEventHubsLimits(config.topicMaps);
    this.ports = ports ?? this.defaultPorts();
  }

  get m2k(): MqttToKafkaPipeline[] {
    return [...this.routes.values()].map((r) => r.pipeline).filter((p): p is MqttToKafkaPipeline => p instanceof MqttToKafkaPipeline);
  }

  get k2m(): KafkaToMqttPipeline[] {
    return [...this.routes.values()].map((r) => r.pipeline).filter((p): p is KafkaToMqttPipeline => p instanceof KafkaToMqttPipeline);
  }

  private defaultPorts(): ConnectorPorts {
    const spec = this.config.connector.spec;
    const secrets = new SecretStore(this.runtime.secretsDir);
    const auth = kafkaAuth(spec, secrets);
    const mqtt = mqttSettings(spec, secrets);
    this.log.info(
      { kafka: spec.kafkaConnection.endpoint, kafkaTls: spec.kafkaConnection.tls.tlsEnabled, kafkaAuth: auth.describe, mqtt: mqtt.url, mqttTls: spec.localBrokerConnection.tls.tlsEnabled, mqttAuth: mqtt.describe },
      "connection settings",
    );
    const onEvent = (client: "mqtt" | "kafka", event: "reconnect" | "error") =>
      event === "reconnect" ? this.metrics.reconnects.inc({ client }) : this.metrics.connectionErrors.inc({ client });
    return {
      mqtt: new MqttJsPort(mqtt, this.log.child({ side: "mqtt" }), (e) => onEvent("mqtt", e)),
      kafka: new KafkaJsPort(
        {
          brokers: splitEndpoints(spec.kafkaConnection.endpoint),
          clientId: `${this.clientIdPrefix}-${this.runtime.instanceIndex}`,
          ...(auth.ssl ? { ssl: auth.ssl } : {}),
          ...(auth.sasl ? { sasl: auth.sasl } : {}),
          eventHubs: isEventHubs(spec.kafkaConnection.endpoint),
          offsetReset: this.runtime.offsetReset,
          commitIntervalMs: this.runtime.commitIntervalMs,
          sessionTimeoutMs: this.runtime.sessionTimeoutMs,
          partitionsConsumedConcurrently: 4,
        },
        this.log.child({ side: "kafka" }),
        (e) => onEvent("kafka", e),
      ),
    };
  }

  /** Event Hubs refuses snappy and lz4; say so before connecting rather than after the first send. */
  private checkEventHubsLimits(maps: KafkaConnectorTopicMapResource[]): void {
    if (!isEventHubs(this.config.connector.spec.kafkaConnection.endpoint)) return;
    const bad = maps.filter((m) => m.spec.compression === "snappy" || m.spec.compression === "lz4");
    if (bad.length) {
      throw new ConnectorError(
        "CONFIG_INVALID",
        bad.map((m) => `KafkaConnectorTopicMap/${m.metadata.name}: spec.compression: got "${m.spec.compression}"; Event Hubs accepts only none or gzip (gzip on Premium and Dedicated tiers)`).join("\n"),
      );
    }
    for (const m of maps.filter((x) => x.spec.compression === "gzip")) {
      this.log.warn({ topicMap: m.metadata.name }, "gzip compression needs an Event Hubs Premium or Dedicated namespace");
    }
  }

  private routesUsing(maps: KafkaConnectorTopicMapResource[], topic: string): string[] {
    return routeDefs(maps)
      .filter((d) => {
        const x = (d.route.mqttToKafka ?? d.route.kafkaToMqtt)!;
        return x.kafkaTopic === topic || x.deadLetter?.kafkaTopic === topic;
      })
      .map((d) => d.key);
  }

  /** Partition counts for the maps' topics. Fails at once, naming routes, when a topic is missing. */
  private async partitionsFor(maps: KafkaConnectorTopicMapResource[]): Promise<Map<string, number>> {
    const topics = kafkaTopics(maps);
    try {
      return await this.ports.kafka.partitionCounts(topics);
    } catch (e) {
      if (e instanceof ConnectorError && e.code === "KAFKA_TOPIC_MISSING") {
        const detail = topics.filter((t) => e.message.includes(JSON.stringify(t))).map((t) => `${t} (routes: ${this.routesUsing(maps, t).join(", ")})`);
        throw new ConnectorError("KAFKA_TOPIC_MISSING", `${e.message}\n  missing: ${detail.join("; ")}`);
      }
      throw e;
    }
  }

  /** Retries while Kafka is unreachable; a missing topic is not retried. */
  private async fetchPartitions(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.partitions = await this.partitionsFor(this.topicMaps);
        return;
      } catch (e) {
        if (e instanceof ConnectorError && e.code === "KAFKA_TOPIC_MISSING") throw e;
        const delay = backoffMs(attempt, 1000);
        this.log.error({ err: (e as Error).message, attempt, retryInMs: delay, endpoint: this.config.connector.spec.kafkaConnection.endpoint }, kafkaFailureSummary(e));
        await sleep(delay, this.abortStart.signal);
        if (this.abortStart.signal.aborted) throw new ConnectorError("STOPPED", "stopped before Kafka became reachable");
      }
    }
  }

  private async fetchTopicLimits(maps: KafkaConnectorTopicMapResource[]): Promise<Map<string, number>> {
    const topics = maps.flatMap((m) => m.spec.routes.flatMap((r) => (r.mqttToKafka ? [r.mqttToKafka.kafkaTopic] : [])));
    try {
      // Bounded: a cluster that stalls on DescribeConfigs must not hold up the start.
      return await withTimeout(this.ports.kafka.maxMessageBytes(topics), TOPIC_LIMITS_TIMEOUT_MS, "DescribeConfigs");
    } catch (e) {
      this.log.info({ err: (e as Error).message }, "topics' max.message.bytes unknown; records Kafka refuses as too large are isolated and dead-lettered when they are refused");
      return new Map();
    }
  }

  private subscriptionOf(route: MqttToKafkaRoute): RouteSubscription {
    return routeSubscription(route, this.config.connector.metadata.name, this.config.connector.spec.instances);
  }

  partitionCount = (topic: string): number => {
    const n = this.partitions.get(topic);
    if (n === undefined) throw new ConnectorError("KAFKA_TOPIC_MISSING", `no partition metadata for ${topic}`);
    return n;
  };

  private async ensureProducer(maps: KafkaConnectorTopicMapResource[]): Promise<void> {
    if (this.producer) return;
    const needed = maps.some((m) => m.spec.routes.some((r) => r.mqttToKafka || r.kafkaToMqtt?.deadLetter?.kafkaTopic));
    if (!needed) return;
    const producer = this.ports.kafka.producer();
    await producer.connect();
    this.producer = producer;
  }

  private build(def: RouteDef, maps: KafkaConnectorTopicMapResource[]): Pipeline {
    const rt = this.runtime;
    const { route, map } = def;
    if (route.mqttToKafka) {
      const name = route.mqttToKafka.name;
      return new MqttToKafkaPipeline(route.mqttToKafka, map.spec, this.ports.mqtt, this.producer!, {
        instanceIndex: rt.instanceIndex,
        clientIdPrefix: this.clientIdPrefix,
        receiveMaximum: rt.receiveMaximum,
        sessionExpirySeconds: rt.sessionExpirySeconds,
        maxBufferedBytes: rt.maxBufferedBytes,
        hash: murmur2,
        partitionCount: this.partitionCount,
        ...(this.topicLimits.has(route.mqttToKafka.kafkaTopic) ? { topicMaxMessageBytes: this.topicLimits.get(route.mqttToKafka.kafkaTopic)! } : {}),
        origin: this.origin,
        leaveSharedOnStop: rt.leaveSharedOnStop,
        subscription: this.subscriptionOf(route.mqttToKafka),
        metrics: this.metrics.route(name, "mqttToKafka"),
      }, this.log.child({ route: name, direction: "mqttToKafka" }));
    }
    const k = route.kafkaToMqtt!;
    return new KafkaToMqttPipeline(k, map.spec, this.ports.mqtt, this.ports.kafka, {
      instanceIndex: rt.instanceIndex,
      clientIdPrefix: this.clientIdPrefix,
      sessionExpirySeconds: rt.sessionExpirySeconds,
      maxInFlight: rt.kafkaToMqttMaxInFlight,
      connections: rt.kafkaToMqttConnections,
      ...(loopCapableRoutes(maps).has(k.name) ? { markOrigin: this.origin } : {}),
      producer: () => this.producer!,
      partitionCount: this.partitionCount,
      metrics: this.metrics.route(k.name, "kafkaToMqtt"),
    }, this.log.child({ route: k.name, direction: "kafkaToMqtt" }));
  }

  async start(): Promise<void> {
    if (this.state !== "new") throw new ConnectorError("LIFECYCLE", `start() called in state ${this.state}`);
    this.state = "starting";
    await this.fetchPartitions();
    this.topicLimits = await this.fetchTopicLimits(this.topicMaps);
    this.every(this.runtime.partitionRefreshMs, () => {
      this.ports.kafka.partitionCounts(kafkaTopics(this.topicMaps)).then(
        (p) => (this.partitions = p),
        (e: unknown) => this.log.warn({ err: (e as Error).message }, "partition metadata refresh failed; keeping the previous counts"),
      );
    });
    await this.ensureProducer(this.topicMaps);
    const defs = routeDefs(this.topicMaps);
    for (const d of defs) this.routes.set(d.key, { key: d.key, fingerprint: d.fingerprint, pipeline: this.build(d, this.topicMaps) });
    await Promise.all([...this.routes.values()].map((r) => r.pipeline.start()));
    this.state = "running";
    this.log.info(
      {
        routes: defs.map((d) => {
          const m = d.route.mqttToKafka;
          const k = d.route.kafkaToMqtt;
          return m
            ? `${d.key}: mqtt ${m.mqttTopic} -> kafka ${m.kafkaTopic} (qos ${m.qos}, acks ${m.kafkaAcks}; ${describeSubscription(this.subscriptionOf(m), this.config.connector.spec.instances)})`
            : `${d.key}: kafka ${k!.kafkaTopic} -> mqtt ${k!.mqttTopic} (qos ${k!.qos})`;
        }),
      },
      "connector running",
    );
    this.startSummaries();
  }

  private every(ms: number, fn: () => void): void {
    if (ms <= 0) return;
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  /** One info line per interval with each route's rates, so `info` logs show the connector is alive. */
  private startSummaries(): void {
    let last = new Map<string, { inn: number; out: number }>();
    let lastAt = Date.now();
    this.every(this.runtime.summaryIntervalMs, () => {
      const now = Date.now();
      const secs = Math.max(0.001, (now - lastAt) / 1000);
      const next = new Map<string, { inn: number; out: number }>();
      const rates: Record<string, string> = {};
      for (const r of this.routes.values()) {
        const p = r.pipeline;
        const cur = p instanceof MqttToKafkaPipeline ? { inn: p.stats.received, out: p.stats.forwarded } : { inn: p.stats.consumed, out: p.stats.published };
        const prev = last.get(r.key) ?? { inn: 0, out: 0 };
        rates[r.key] = `${((cur.inn - prev.inn) / secs).toFixed(1)} in/s, ${((cur.out - prev.out) / secs).toFixed(1)} out/s, ${p.inFlight} in flight`;
        next.set(r.key, cur);
      }
      last = next;
      lastAt = now;
      this.log.info({ rates }, "throughput");
    });
  }

  /** Updates the gauges that are cheaper to read at scrape time than to track per message. */
  refreshGauges(): void {
    for (const p of this.m2k) {
      this.metrics.inFlight.set({ route: p.route.name, direction: "mqttToKafka" }, p.inFlight);
      this.metrics.bufferedBytes.set({ route: p.route.name }, p.buffered);
    }
    for (const p of this.k2m) this.metrics.inFlight.set({ route: p.route.name, direction: "kafkaToMqtt" }, p.inFlight);
    for (const p of this.m2k) this.metrics.routeReady.set({ route: p.route.name, direction: "mqttToKafka" }, p.connected ? 1 : 0);
    for (const p of this.k2m) this.metrics.routeReady.set({ route: p.route.name, direction: "kafkaToMqtt" }, p.connected ? 1 : 0);
    this.metrics.ready.set(this.ready ? 1 : 0);
  }

  /** True when every route is connected on both sides. */
  get ready(): boolean {
    return this.state === "running" && [...this.routes.values()].every((r) => r.pipeline.connected);
  }

  /** Per-route state for /readyz. */
  routeStates(): Record<string, { direction: string; connected: boolean; inFlight: number }> {
    return Object.fromEntries(
      [...this.routes.values()].map((r) => [
        r.key,
        { direction: r.pipeline instanceof MqttToKafkaPipeline ? "mqttToKafka" : "kafkaToMqtt", connected: r.pipeline.connected, inFlight: r.pipeline.inFlight },
      ]),
    );
  }

  /**
   * Applies new topic maps while running. Unchanged routes keep running untouched; removed ones
   * drain and stop; changed ones drain and stop before their replacement starts (same client IDs,
   * so the MQTT session, and whatever the broker queued in between, carries over). Topics are
   * checked first: a reload naming a missing topic is rejected and nothing changes.
   */
  reload(maps: KafkaConnectorTopicMapResource[]): Promise<{ added: string[]; removed: string[]; changed: string[]; unchanged: string[] }> {
    const run = this.reloading.then(() => this.applyMaps(maps));
    this.reloading = run.then(() => undefined, () => undefined);
    return run;
  }

  private async applyMaps(maps: KafkaConnectorTopicMapResource[]) {
    if (this.state !== "running") throw new ConnectorError("LIFECYCLE", `reload in state ${this.state}`);
    this.checkEventHubsLimits(maps);
    const partitions = await this.partitionsFor(maps);
    const topicLimits = await this.fetchTopicLimits(maps);
    const defs = new Map(routeDefs(maps).map((d) => [d.key, d]));
    const removed = [...this.routes.keys()].filter((k) => !defs.has(k));
    const changed = [...defs.values()].filter((d) => this.routes.has(d.key) && this.routes.get(d.key)!.fingerprint !== d.fingerprint).map((d) => d.key);
    const added = [...defs.keys()].filter((k) => !this.routes.has(k));
    const unchanged = [...defs.keys()].filter((k) => this.routes.has(k) && !changed.includes(k));
    this.partitions = partitions;
    this.topicLimits = topicLimits;
    this.topicMaps = maps;
    await Promise.all(
      [...removed, ...changed].map(async (key) => {
        const entry = this.routes.get(key)!;
        const p = entry.pipeline;
        const gone = removed.includes(key);
        if (p instanceof MqttToKafkaPipeline) {
          // A removed route, or one whose subscription changed, must not leave its old filter in the
          // broker session; an otherwise changed route keeps its session so nothing queued is lost.
          const next = defs.get(key)?.route.mqttToKafka;
          const leave = gone || !next || this.subscriptionOf(next).filter !== this.subscriptionOf(p.route).filter;
          await p.drain({ leave });
          await p.disconnect({ endSession: gone });
        } else {
          await p.drain();
          await p.disconnect();
        }
        this.routes.delete(key);
        if (gone) await this.metrics.removeRoute(p.route.name);
      }),
    );
    await this.ensureProducer(maps);
    const starting = [...added, ...changed].map((key) => {
      const d = defs.get(key)!;
      const entry = { key, fingerprint: d.fingerprint, pipeline: this.build(d, maps) };
      this.routes.set(key, entry);
      return entry.pipeline.start();
    });
    await Promise.all(starting);
    const summary = { added, removed, changed, unchanged };
    this.log.info(summary, "topic maps reloaded");
    return summary;
  }

  /**
   * Idempotent; every caller gets the same promise. Resolves true when the drain completed within
   * the timeout, false when it gave up (unacknowledged MQTT messages are then redelivered by the broker).
   */
  stop(timeoutMs = 30_000): Promise<boolean> {
    this.stopping ??= this.drain(timeoutMs);
    return this.stopping.then(() => this.drainCompleted);
  }

  private async drain(timeoutMs: number): Promise<void> {
    this.state = "stopping";
    this.abortStart.abort();
    for (const t of this.timers) clearInterval(t);
    await this.reloading;
    const pipelines = [...this.routes.values()].map((r) => r.pipeline);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    const drained = Promise.all(pipelines.map((p) => p.drain())).then(() => "done" as const);
    const outcome = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    this.drainCompleted = outcome === "done";
    if (!this.drainCompleted) {
      this.log.error({ timeoutMs }, "drain timed out; unacknowledged messages stay with the brokers and will be redelivered");
      for (const p of this.m2k) p.abort();
    }
    await Promise.all(pipelines.map((p) => p.disconnect()));
    await this.ports.kafka.close();
    this.state = "stopped";
    this.log.info(
      {
        drained: this.drainCompleted,
        mqttToKafka: Object.fromEntries(this.m2k.map((p) => [p.route.name, { ...p.stats, receivedByClient: undefined }])),
        kafkaToMqtt: Object.fromEntries(this.k2m.map((p) => [p.route.name, p.stats])),
      },
      "connector stopped",
    );
  }
}
