import type { KafkaToMqttRoute, TopicMapSpecResolved } from "../config/schema";
import { headersToProperties, type MqttProperties } from "../core/properties";
import { InFlightWindow } from "../core/window";
import type { Logger } from "../logger";
import type { ConsumerBatch, ConsumedRecord, KafkaConsumerPort, KafkaPort, MqttPort, MqttPublisher } from "../ports/types";
import { mqttClientId } from "./mqtt-to-kafka";

export interface KafkaToMqttOptions {
  instanceIndex: number;
  clientIdPrefix: string;
  sessionExpirySeconds: number;
  /** Upper bound on our unacknowledged publishes; the broker's Receive Maximum lowers it further. */
  maxInFlight: number;
}

export interface KafkaToMqttStats {
  consumed: number;
  published: number;
  failed: number;
  batches: number;
}

const HEARTBEAT_MS = 3000;

/**
 * One kafkaToMqtt route: a consumer group member publishing to MQTT. Each fetched batch is published
 * with many messages in flight, and its offsets are resolved only once every PUBACK of the batch is in,
 * so a commit (kafkajs, every commit interval) never passes an unacknowledged message and a rebalance,
 * which waits for the running batch, never hands over a partition with offsets still owed.
 */
export class KafkaToMqttPipeline {
  readonly stats: KafkaToMqttStats = { consumed: 0, published: 0, failed: 0, batches: 0 };
  private publisher: MqttPublisher | undefined;
  private consumer: KafkaConsumerPort | undefined;
  private readonly window: InFlightWindow;
  private running = false;

  constructor(
    readonly route: KafkaToMqttRoute,
    private readonly map: TopicMapSpecResolved,
    private readonly mqtt: MqttPort,
    private readonly kafka: KafkaPort,
    private readonly opts: KafkaToMqttOptions,
    private readonly log: Logger,
  ) {
    this.window = new InFlightWindow(opts.maxInFlight);
  }

  get groupId(): string {
    return this.route.consumerGroupId ?? this.route.name;
  }

  get connected(): boolean {
    return this.running && (this.publisher?.connected ?? false);
  }

  get inFlight(): number {
    return this.window.size;
  }

  async start(): Promise<void> {
    this.publisher = this.mqtt.publisher(mqttClientId(this.opts.clientIdPrefix, this.opts.instanceIndex, this.route.name, "pub"), this.opts.sessionExpirySeconds);
    await this.publisher.start();
    this.consumer = this.kafka.consumer(this.groupId, this.route.kafkaTopic);
    await this.consumer.connect();
    this.running = true;
    await this.consumer.run((b) => this.onBatch(b));
    this.log.info({ groupId: this.groupId, mqttTopic: this.route.mqttTopic }, "route consuming");
  }

  private async onBatch(batch: ConsumerBatch): Promise<void> {
    const publisher = this.publisher;
    if (!publisher) return;
    this.window.setLimit(Math.min(this.opts.maxInFlight, publisher.sendQuota));
    const done: Promise<void>[] = [];
    let last: string | undefined;
    for (const record of batch.records) {
      if (!batch.isActive()) break;
      await this.window.acquire();
      this.stats.consumed++;
      done.push(this.publishOne(publisher, record).finally(() => this.window.release()));
      last = record.offset;
    }
    // Keep the group membership alive while PUBACKs are outstanding (e.g. the MQTT broker is down).
    const beat = setInterval(() => void batch.heartbeat().catch(() => undefined), HEARTBEAT_MS);
    try {
      await Promise.all(done);
    } finally {
      clearInterval(beat);
    }
    if (last !== undefined) batch.resolveOffset(last);
    this.stats.batches++;
  }

  private async publishOne(publisher: MqttPublisher, r: ConsumedRecord): Promise<void> {
    let props: MqttProperties = {};
    if (this.map.copyMqttProperties) {
      const mapped = headersToProperties(r.headers);
      props = mapped.properties;
      for (const s of mapped.skipped) this.log.debug({ header: s.header, offset: r.offset, partition: r.partition }, `header not copied: ${s.reason}`);
    }
    try {
      // QoS 0 resolves once written, so its offset is committed without waiting for the broker.
      await publisher.publish(this.route.mqttTopic, r.value ?? Buffer.alloc(0), this.route.qos, props);
      this.stats.published++;
    } catch (e) {
      // A refusal by the broker (reason code) will not change on retry; log it and move on rather than wedge the partition.
      this.stats.failed++;
      this.log.error({ err: (e as Error).message, partition: r.partition, offset: r.offset, mqttTopic: this.route.mqttTopic }, "MQTT broker refused a message");
    }
  }

  /** Stops fetching, waits for PUBACKs of the running batch, commits, disconnects the consumer. */
  async drain(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer?.disconnect();
    await this.window.idle();
  }

  async disconnect(): Promise<void> {
    await this.publisher?.close();
  }
}
