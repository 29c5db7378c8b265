import { isUtf8 } from "node:buffer";
import type { KafkaToMqttRoute, TopicMapSpecResolved } from "../config/schema";
import { headersToProperties, remainingExpirySeconds, type MqttProperties } from "../core/properties";
import { InFlightWindow } from "../core/window";
import { ConnectorError } from "../core/errors";
import type { Logger } from "../logger";
import type { RouteMetrics } from "../metrics";
import type { ConsumerBatch, ConsumedRecord, KafkaConsumerPort, KafkaPort, KafkaProducerPort, MqttPort, MqttPublisher } from "../ports/types";
import { createSink, type DeadLetterSink } from "./dead-letter";
import { ORIGIN_PROPERTY } from "./loop-guard";
import { CoalescedCounters } from "./coalesced-counters";
import { MAX_BATCH_BYTES, mqttClientId, publishPacketSize } from "./limits";
import { Outcomes, type UndeliverableKind } from "./outcomes";
import { emptyStats, type Pipeline, type PipelineStats } from "./pipeline";
import { consumedTopics } from "../config/routes";
import { topicMatches } from "../core/topic-filter";
import { compileTemplate, filledMqttTopicProblem, renderTemplate, show, TemplateMiss, type Template } from "../core/template";

export interface KafkaToMqttOptions {
  /** `<topic map>/<route>`. */
  key: string;
  instanceIndex: number;
  clientIdPrefix: string;
  sessionExpirySeconds: number;
  /** Upper bound on our unacknowledged publishes per connection; the broker's Receive Maximum lowers it further. */
  maxInFlight: number;
  /**
   * MQTT connections to publish on, at most one per partition of the source topic. Each partition
   * always uses the same one, so per-partition order holds, while the broker's Receive Maximum
   * (20 on a stock Mosquitto) applies per connection rather than to the whole route.
   */
  connections: number;
  /** Set when an mqttToKafka filter of this connector matches our MQTT topic: mark messages to break loops. */
  markOrigin?: string;
  /**
   * A templated MQTT topic: mark only messages whose filled topic one of these filters matches (the
   * connector's mqttToKafka filters that a filling could match). Without it every message is marked.
   */
  markOnlyUnder?: readonly string[];
  /** Needed only for a Kafka dead-letter topic. */
  producer?: () => KafkaProducerPort;
  partitionCount: (topic: string) => number;
  metrics: RouteMetrics;
}

const HEARTBEAT_MS = 3000;

/** One publishing connection and its window of unacknowledged publishes. */
interface Lane {
  publisher: MqttPublisher;
  window: InFlightWindow;
}

/**
 * One kafkaToMqtt route: a consumer group member publishing to MQTT. Each fetched batch is published
 * with many messages in flight, and its offsets are resolved only once every PUBACK of the batch is in,
 * so a commit (kafkajs, every commit interval) never passes an unacknowledged message and a rebalance,
 * which waits for the running batch, never hands over a partition with offsets still owed.
 */
export class KafkaToMqttPipeline implements Pipeline {
  readonly direction = "kafkaToMqtt";
  readonly stats: PipelineStats = emptyStats();
  readonly buffered = 0;
  private readonly outcomes: Outcomes;
  private deadLetters: DeadLetterSink | undefined;
  private lanes: Lane[] = [];
  private consumer: KafkaConsumerPort | undefined;
  private running = false;
  private readonly counts: CoalescedCounters<"in" | "bytesIn" | "out" | "bytesOut">;
  /** The Kafka topics consumed. */
  readonly topics: readonly string[];
  /** The MQTT topic when it is fixed (a template without placeholders is its unescaped text). */
  private readonly fixedTopic: string | undefined;
  /** The MQTT topic template, compiled once, when it has placeholders. */
  private readonly template: Template | undefined;
  /** UTF-8 length of the fixed MQTT topic, for the packet size estimate. */
  private readonly topicBytes: number;
  /** Several source topics: each topic-partition gets a connection on first sight, round robin. */
  private readonly laneOf = new Map<string, Lane>();
  /** Filled topics already checked against markOnlyUnder (bounded). */
  private readonly loopChecked = new Map<string, boolean>();

  constructor(
    readonly route: KafkaToMqttRoute,
    private readonly map: TopicMapSpecResolved,
    private readonly mqtt: MqttPort,
    private readonly kafka: KafkaPort,
    private readonly opts: KafkaToMqttOptions,
    private readonly log: Logger,
  ) {
    const m = opts.metrics;
    this.counts = new CoalescedCounters({ in: m.messagesIn, bytesIn: m.bytesIn, out: m.messagesOut, bytesOut: m.bytesOut });
    this.topics = consumedTopics(route);
    const t = compileTemplate(route.mqttTopic, "kafkaToMqtt");
    this.template = t.fixed ? undefined : t;
    this.fixedTopic = t.fixed ? t.parts.join("") : undefined;
    this.topicBytes = Buffer.byteLength(this.fixedTopic ?? "");
    this.outcomes = new Outcomes(this.stats, m);
  }

  get key(): string {
    return this.opts.key;
  }

  get name(): string {
    return this.route.name;
  }

  get groupId(): string {
    return this.route.consumerGroupId ?? this.route.name;
  }

  get ready(): boolean {
    return this.running && (this.consumer?.healthy ?? false) && this.lanes.length > 0 && this.lanes.every((l) => l.publisher.connected);
  }

  /** MQTT connections this route publishes on. */
  get connections(): number {
    return this.lanes.length;
  }

  get inFlight(): number {
    let n = 0;
    for (const l of this.lanes) n += l.window.size;
    return n;
  }

  /** How many connections: the option, but never more than the source topics have partitions. */
  private laneCount(): number {
    let partitions = 0;
    for (const topic of this.topics) {
      try {
        partitions += this.opts.partitionCount(topic);
      } catch {
        partitions += 1; // no metadata yet; the count only matters for spreading load
      }
    }
    return Math.max(1, Math.min(this.opts.connections, partitions));
  }

  /** A partition always goes out on the same connection, so its order holds. */
  private laneFor(topic: string, partition: number): Lane | undefined {
    if (this.topics.length === 1) return this.lanes[partition % this.lanes.length];
    const id = `${topic}\u0000${partition}`;
    let lane = this.laneOf.get(id);
    if (!lane) {
      lane = this.lanes[this.laneOf.size % this.lanes.length];
      if (lane) this.laneOf.set(id, lane);
    }
    return lane;
  }

  async start(): Promise<void> {
    const n = this.laneCount();
    // The first keeps the single-connection client id ("pub"), so an upgrade resumes its session.
    this.lanes = Array.from({ length: n }, (_, i) => ({
      publisher: this.mqtt.publisher(mqttClientId(this.opts.clientIdPrefix, this.opts.instanceIndex, this.route.name, i === 0 ? "pub" : `pub${i}`), this.opts.sessionExpirySeconds),
      window: new InFlightWindow(this.opts.maxInFlight),
    }));
    await Promise.all(this.lanes.map((l) => l.publisher.start()));
    const publisher = this.lanes[0]!.publisher;
    this.deadLetters = createSink(this.route.deadLetter, {
      route: this.route.name,
      producer: () => {
        if (!this.opts.producer) throw new Error("a Kafka dead-letter topic needs a producer");
        return this.opts.producer();
      },
      // MQTT dead letters go out on the route's first publisher connection.
      publisher: () => publisher,
      partitionCount: this.opts.partitionCount,
      maxBytes: MAX_BATCH_BYTES,
      log: this.log,
    });
    this.consumer = this.kafka.consumer(this.groupId, this.topics, () => this.opts.metrics.error("consumer_crash"));
    await this.consumer.connect();
    this.running = true;
    await this.consumer.run((b) => this.onBatch(b));
    this.log.info({ groupId: this.groupId, kafkaTopics: this.topics, mqttTopic: this.route.mqttTopic, connections: n }, "route consuming");
  }

  private async onBatch(batch: ConsumerBatch): Promise<void> {
    const lane = this.laneFor(batch.topic, batch.partition);
    if (!lane) return;
    const { publisher, window } = lane;
    window.setLimit(Math.min(this.opts.maxInFlight, publisher.sendQuota));
    // Outstanding publishes of this batch, counted rather than kept as an array of promises (one
    // per record: a fetched batch can hold thousands); the first failure fails the batch.
    let pending = 0;
    let failure: { error: unknown } | undefined;
    let wake: (() => void) | undefined;
    const finished = (): void => {
      window.release();
      pending--;
      if (wake && (pending === 0 || failure)) {
        const w = wake;
        wake = undefined;
        w();
      }
    };
    const failed = (error: unknown): void => {
      failure ??= { error };
      finished();
    };
    let last: string | undefined;
    for (const record of batch.records) {
      if (!batch.isActive()) break;
      if (!window.tryAcquire()) await window.acquire();
      this.stats.received++;
      this.counts.add("in", 1);
      this.counts.add("bytesIn", record.value?.length ?? 0);
      pending++;
      this.publishOne(publisher, record).then(finished, failed);
      last = record.offset;
    }
    // Keep the group membership alive while PUBACKs are outstanding (e.g. the MQTT broker is down).
    const beat = setInterval(() => void batch.heartbeat().catch(() => undefined), HEARTBEAT_MS);
    try {
      if (pending > 0 && !failure) await new Promise<void>((r) => (wake = r));
      if (failure) throw failure.error;
    } finally {
      clearInterval(beat);
    }
    if (last !== undefined) {
      batch.resolveOffset(last);
      this.opts.metrics.lag(batch.topic, batch.partition, Math.max(0, Number(batch.highWatermark) - Number(last) - 1));
    }
    this.stats.batches++;
  }

  private async publishOne(publisher: MqttPublisher, r: ConsumedRecord): Promise<void> {
    let props: MqttProperties = {};
    if (this.map.copyMqttProperties) {
      const mapped = headersToProperties(r.headers);
      props = mapped.properties;
      for (const s of mapped.skipped) this.log.debug({ header: s.header, offset: r.offset, partition: r.partition }, `header not copied: ${s.reason}`);
      if (props.messageExpiryInterval !== undefined) {
        const left = remainingExpirySeconds(props.messageExpiryInterval, Number(r.timestamp), Date.now());
        if (left === "expired") return this.outcomes.dropped("expired");
        props.messageExpiryInterval = left;
      }
    }
    const payload = r.value ?? Buffer.alloc(0);
    let topic = this.fixedTopic;
    if (topic === undefined) {
      const filled = this.fill(r);
      if (filled instanceof TemplateMiss) return this.deadLetter(r, payload, "unroutable", `unroutable: ${filled.reason}`);
      topic = filled;
    }
    if (this.opts.markOrigin && this.loops(topic)) props.userProperties = { ...props.userProperties, [ORIGIN_PROPERTY]: this.opts.markOrigin };
    const problem = this.precheck(publisher, payload, props, topic);
    if (problem) return this.deadLetter(r, payload, problem.kind, problem.reason);
    try {
      // QoS 0 resolves once written, so its offset is committed without waiting for the broker.
      await publisher.publish(topic, payload, this.route.qos, props);
      this.stats.delivered++;
      this.counts.add("out", 1);
      this.counts.add("bytesOut", payload.length);
      const ts = Number(r.timestamp);
      if (ts > 0) this.opts.metrics.deliveryLatency.observe(Math.max(0, Date.now() - ts) / 1000);
    } catch (e) {
      // A refusal by the broker (reason code) will not change on retry: dead-letter it rather than wedge the partition.
      // Anything else (connection gone) fails the batch, so its offsets stay unresolved and it is fetched again.
      const rc = e instanceof ConnectorError ? e.reasonCode : undefined;
      this.opts.metrics.error(rc === undefined ? "mqtt_connection" : "mqtt_publish_refused");
      if (rc === undefined) throw e;
      await this.deadLetter(r, payload, "refused", `refused by the MQTT broker with reason code 0x${rc.toString(16)}: ${(e as Error).message}`);
    }
  }

  /** The MQTT topic the template makes of this record, or why it cannot be filled or used. */
  private fill(r: ConsumedRecord): string | TemplateMiss {
    const t = this.template!;
    const filled = renderTemplate(t, { inputTopic: r.topic, key: r.key, headers: r.headers, partition: r.partition });
    if (filled instanceof TemplateMiss) return filled;
    const p = filledMqttTopicProblem(filled, t);
    return p ? new TemplateMiss(`${p}: ${show(filled)} from ${JSON.stringify(t.source)}`) : filled;
  }

  /** Whether a message to `topic` could come back through one of this connector's mqttToKafka filters. */
  private loops(topic: string): boolean {
    const under = this.opts.markOnlyUnder;
    if (!under) return true;
    let hit = this.loopChecked.get(topic);
    if (hit === undefined) {
      hit = under.some((f) => topicMatches(f, topic));
      if (this.loopChecked.size >= 10_000) this.loopChecked.clear();
      this.loopChecked.set(topic, hit);
    }
    return hit;
  }

  /** Problems the broker would answer with a refusal or, worse, by dropping the connection. */
  private precheck(publisher: MqttPublisher, payload: Buffer, props: MqttProperties, topic: string): { kind: UndeliverableKind; reason: string } | undefined {
    if (props.payloadFormatIndicator && !isUtf8(payload)) return { kind: "invalid", reason: "invalid: payload format indicator says UTF-8 but the payload is not valid UTF-8" };
    const size = publishPacketSize(payload, this.fixedTopic !== undefined ? this.topicBytes : Buffer.byteLength(topic), props);
    if (size > publisher.maxPacketSize) return { kind: "oversize", reason: `oversize: about ${size} bytes as an MQTT packet, the broker's maximum is ${publisher.maxPacketSize}` };
    return undefined;
  }

  private deadLetter(r: ConsumedRecord, payload: Buffer, kind: UndeliverableKind, reason: string): Promise<void> {
    return this.outcomes.undeliverable(this.deadLetters, kind, { reason, sourceTopic: r.topic, payload, key: r.key, headers: r.headers, source: { partition: r.partition, offset: r.offset } });
  }

  /** Stops fetching, waits for PUBACKs of the running batch, commits, disconnects the consumer. */
  async drain(_opts: { leave?: boolean } = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer?.disconnect();
    await Promise.all(this.lanes.map((l) => l.window.idle()));
  }

  abort(): void {
    // Nothing to give up on: unresolved offsets are fetched again by the group.
  }

  async disconnect(_opts: { endSession?: boolean } = {}): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.publisher.close()));
  }
}
