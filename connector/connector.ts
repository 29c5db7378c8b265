import type { ConnectorConfig } from "./config/load";
import type { KafkaConnectorTopicMapResource } from "./config/schema";
import { SecretStore } from "./config/secrets";
import { ConnectorError } from "./core/errors";
import { backoffMs, sleep } from "./core/backoff";
import type { Logger } from "./logger";
import { KafkaJsPort } from "./ports/kafka-port";
import { MqttJsPort } from "./ports/mqtt-port";
import { kafkaAuth, mqttSettings, isEventHubs, splitEndpoints } from "./ports/connection-settings";
import { murmur2 } from "./ports/kafka-murmur2";
import type { KafkaPort, KafkaProducerPort, MqttPort } from "./ports/types";
import { MqttToKafkaPipeline } from "./routes/mqtt-to-kafka";
import { KafkaToMqttPipeline } from "./routes/kafka-to-mqtt";
import { connectorOrigin, loopCapableRoutes } from "./routes/loop-guard";

export interface RuntimeOptions {
  instanceIndex: number;
  secretsDir: string;
  receiveMaximum: number;
  sessionExpirySeconds: number;
  maxBufferedBytes: number;
  kafkaToMqttMaxInFlight: number;
  offsetReset: "earliest" | "latest";
  commitIntervalMs: number;
  partitionRefreshMs: number;
  /** Shared-subscription clients leave their group and end their sessions on a graceful stop. */
  leaveSharedOnStop: boolean;
}

export const DEFAULT_RUNTIME: Omit<RuntimeOptions, "instanceIndex" | "secretsDir"> = {
  receiveMaximum: 1000,
  sessionExpirySeconds: 3600,
  maxBufferedBytes: 64 * 1024 * 1024,
  kafkaToMqttMaxInFlight: 1000,
  offsetReset: "earliest",
  commitIntervalMs: 1000,
  partitionRefreshMs: 60_000,
  leaveSharedOnStop: true,
};

export interface ConnectorPorts {
  mqtt: MqttPort;
  kafka: KafkaPort;
}

export type ConnectorState = "new" | "starting" | "running" | "stopping" | "stopped";

/**
 * One KafkaConnector with its topic maps. `start()` connects and starts every route; `stop()` drains:
 * stop intake → flush batches → await Kafka acks and PUBACKs/commits → disconnect.
 */
export class Connector {
  state: ConnectorState = "new";
  readonly m2k: MqttToKafkaPipeline[] = [];
  readonly k2m: KafkaToMqttPipeline[] = [];
  private readonly ports: ConnectorPorts;
  private producer: KafkaProducerPort | undefined;
  private partitions = new Map<string, number>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private readonly abortStart = new AbortController();
  readonly clientIdPrefix: string;

  constructor(
    readonly config: ConnectorConfig,
    readonly runtime: RuntimeOptions,
    private readonly log: Logger,
    ports?: ConnectorPorts,
  ) {
    const spec = config.connector.spec;
    this.clientIdPrefix = spec.clientIdPrefix ?? config.connector.metadata.name;
    this.checkEventHubsLimits(config.topicMaps);
    this.ports = ports ?? this.defaultPorts();
  }

  private defaultPorts(): ConnectorPorts {
    const spec = this.config.connector.spec;
    const secrets = new SecretStore(this.runtime.secretsDir);
    const auth = kafkaAuth(spec, secrets);
    const mqtt = mqttSettings(spec, secrets);
    this.log.info({ kafka: spec.kafkaConnection.endpoint, kafkaAuth: auth.describe, mqtt: mqtt.url, mqttAuth: mqtt.describe }, "connection settings");
    return {
      mqtt: new MqttJsPort(mqtt, this.log.child({ side: "mqtt" })),
      kafka: new KafkaJsPort(
        {
          brokers: splitEndpoints(spec.kafkaConnection.endpoint),
          clientId: `${this.clientIdPrefix}-${this.runtime.instanceIndex}`,
          ...(auth.ssl ? { ssl: auth.ssl } : {}),
          ...(auth.sasl ? { sasl: auth.sasl } : {}),
          eventHubs: isEventHubs(spec.kafkaConnection.endpoint),
          offsetReset: this.runtime.offsetReset,
          commitIntervalMs: this.runtime.commitIntervalMs,
          partitionsConsumedConcurrently: 4,
        },
        this.log.child({ side: "kafka" }),
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

  private routesUsing(topic: string): string[] {
    return this.config.topicMaps.flatMap((m) =>
      m.spec.routes.flatMap((r) => {
        const x = r.mqttToKafka ?? r.kafkaToMqtt;
        return x && (x.kafkaTopic === topic || x.deadLetter?.kafkaTopic === topic) ? [`${m.metadata.name}/${x.name}`] : [];
      }),
    );
  }

  /** Route topics and Kafka dead-letter topics: all must exist before we start. */
  private allTopics(): string[] {
    return [
      ...new Set(
        this.config.topicMaps.flatMap((m) =>
          m.spec.routes.flatMap((r) => {
            const x = (r.mqttToKafka ?? r.kafkaToMqtt)!;
            return x.deadLetter?.kafkaTopic ? [x.kafkaTopic, x.deadLetter.kafkaTopic] : [x.kafkaTopic];
          }),
        ),
      ),
    ];
  }

  /** Retries while Kafka is unreachable; fails at once when a topic is missing. */
  private async fetchPartitions(): Promise<void> {
    const topics = this.allTopics();
    for (let attempt = 0; ; attempt++) {
      try {
        this.partitions = await this.ports.kafka.partitionCounts(topics);
        return;
      } catch (e) {
        if (e instanceof ConnectorError && e.code === "KAFKA_TOPIC_MISSING") {
          const detail = topics.filter((t) => e.message.includes(JSON.stringify(t))).map((t) => `${t} (routes: ${this.routesUsing(t).join(", ")})`);
          throw new ConnectorError("KAFKA_TOPIC_MISSING", `${e.message}\n  missing: ${detail.join("; ")}`);
        }
        const delay = backoffMs(attempt, 1000);
        this.log.error({ err: (e as Error).message, attempt, retryInMs: delay, endpoint: this.config.connector.spec.kafkaConnection.endpoint }, "Kafka unreachable; retrying");
        await sleep(delay, this.abortStart.signal);
        if (this.abortStart.signal.aborted) throw new ConnectorError("STOPPED", "stopped before Kafka became reachable");
      }
    }
  }

  partitionCount = (topic: string): number => {
    const n = this.partitions.get(topic);
    if (n === undefined) throw new ConnectorError("KAFKA_TOPIC_MISSING", `no partition metadata for ${topic}`);
    return n;
  };

  async start(): Promise<void> {
    if (this.state !== "new") throw new ConnectorError("LIFECYCLE", `start() called in state ${this.state}`);
    this.state = "starting";
    await this.fetchPartitions();
    this.refreshTimer = setInterval(() => {
      this.ports.kafka.partitionCounts(this.allTopics()).then(
        (p) => (this.partitions = p),
        (e: unknown) => this.log.warn({ err: (e as Error).message }, "partition metadata refresh failed; keeping the previous counts"),
      );
    }, this.runtime.partitionRefreshMs);
    this.refreshTimer.unref();

    const rt = this.runtime;
    const needsProducer = this.config.topicMaps.some((m) => m.spec.routes.some((r) => r.mqttToKafka || r.kafkaToMqtt?.deadLetter?.kafkaTopic));
    if (needsProducer) {
      this.producer = this.ports.kafka.producer();
      await this.producer.connect();
    }
    const origin = connectorOrigin(this.config.connector.metadata.namespace, this.config.connector.metadata.name);
    const markLoops = loopCapableRoutes(this.config.topicMaps);
    for (const map of this.config.topicMaps) {
      for (const r of map.spec.routes) {
        if (r.mqttToKafka) {
          const log = this.log.child({ route: r.mqttToKafka.name, direction: "mqttToKafka" });
          this.m2k.push(
            new MqttToKafkaPipeline(r.mqttToKafka, map.spec, this.ports.mqtt, this.producer!, {
              instanceIndex: rt.instanceIndex,
              clientIdPrefix: this.clientIdPrefix,
              receiveMaximum: rt.receiveMaximum,
              sessionExpirySeconds: rt.sessionExpirySeconds,
              maxBufferedBytes: rt.maxBufferedBytes,
              hash: murmur2,
              partitionCount: this.partitionCount,
              origin,
              leaveSharedOnStop: rt.leaveSharedOnStop,
            }, log),
          );
        } else if (r.kafkaToMqtt) {
          const log = this.log.child({ route: r.kafkaToMqtt.name, direction: "kafkaToMqtt" });
          this.k2m.push(
            new KafkaToMqttPipeline(r.kafkaToMqtt, map.spec, this.ports.mqtt, this.ports.kafka, {
              instanceIndex: rt.instanceIndex,
              clientIdPrefix: this.clientIdPrefix,
              sessionExpirySeconds: rt.sessionExpirySeconds,
              maxInFlight: rt.kafkaToMqttMaxInFlight,
              ...(markLoops.has(r.kafkaToMqtt.name) ? { markOrigin: origin } : {}),
              producer: () => this.producer!,
              partitionCount: this.partitionCount,
            }, log),
          );
        }
      }
    }
    await Promise.all([...this.m2k.map((p) => p.start()), ...this.k2m.map((p) => p.start())]);
    this.state = "running";
    this.log.info(
      { instance: rt.instanceIndex, mqttToKafka: this.m2k.map((p) => p.route.name), kafkaToMqtt: this.k2m.map((p) => p.route.name) },
      "connector running",
    );
  }

  /** True when every route is connected on both sides. */
  get ready(): boolean {
    return this.state === "running" && this.m2k.every((p) => p.connected) && this.k2m.every((p) => p.connected);
  }

  /**
   * Idempotent; every caller gets the same promise. Resolves true when the drain completed within
   * the timeout, false when it gave up (unacknowledged MQTT messages are then redelivered by the broker).
   */
  stop(timeoutMs = 30_000): Promise<boolean> {
    this.stopping ??= this.drain(timeoutMs).then(() => undefined);
    return this.stopping.then(() => this.drainCompleted);
  }

  private drainCompleted = false;

  private async drain(timeoutMs: number): Promise<void> {
    this.state = "stopping";
    this.abortStart.abort();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    const drained = Promise.all([...this.m2k.map((p) => p.drain()), ...this.k2m.map((p) => p.drain())]).then(() => "done" as const);
    const outcome = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    this.drainCompleted = outcome === "done";
    if (!this.drainCompleted) {
      this.log.error({ timeoutMs }, "drain timed out; unacknowledged messages stay with the brokers and will be redelivered");
      for (const p of this.m2k) p.abort();
    }
    await Promise.all([...this.m2k.map((p) => p.disconnect()), ...this.k2m.map((p) => p.disconnect())]);
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
