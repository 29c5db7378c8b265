import { isUtf8 } from "node:buffer";
import type { MqttToKafkaRoute, TopicMapSpecResolved, KafkaAcks } from "../config/schema";
import type { RouteSubscription } from "../config/subscription";
import { BatchAccumulator, type Batch } from "../core/batcher";
import { PartitionChooser, partitionKey, type KeyHash } from "../core/partitioner";
import { propertiesToHeaders } from "../core/properties";
import { sleep } from "../core/backoff";
import type { Logger } from "../logger";
import type { RouteMetrics } from "../metrics";
import type { InboundMqttMessage, KafkaProducerPort, MqttPort, MqttPublisher, MqttSubscription, OutboundRecord } from "../ports/types";
import { createSink, type DeadLetterSink } from "./dead-letter";
import { ORIGIN_PROPERTY } from "./loop-guard";
import { CoalescedCounters } from "./coalesced-counters";
import { HELD_MESSAGE_OVERHEAD, MAX_BATCH_BYTES, RECORD_BATCH_HEADER, mqttClientId, recordSize } from "./limits";
import { KafkaSender } from "./kafka-sender";
import { Outcomes, type UndeliverableKind } from "./outcomes";
import { emptyStats, type Pipeline, type PipelineStats, type SpoolState } from "./pipeline";
import { isTopicTemplate } from "../config/routes";
import { compileTemplate, kafkaTopicNameProblem, renderTemplate, show, TemplateMiss, type Template, type TemplateInput } from "../core/template";
import type { TopicStatus } from "../lifecycle/topic-metadata";
import type { Spool } from "../spool/store";
import { SpoolPath, type HeldMessage, type SpoolMode } from "./spool-path";

export const ACKS: Record<KafkaAcks, 0 | 1 | -1> = { zero: 0, one: 1, all: -1 };

export interface MqttToKafkaOptions {
  /** `<topic map>/<route>`. */
  key: string;
  instanceIndex: number;
  clientIdPrefix: string;
  receiveMaximum: number;
  sessionExpirySeconds: number;
  /** QoS 0 messages are dropped (and counted) once this many bytes wait for Kafka. */
  maxBufferedBytes: number;
  hash: KeyHash;
  partitionCount: (topic: string) => number;
  /**
   * The target topic's max.message.bytes, when the cluster told us. Kafka refuses a partition's
   * record batch above it, and a refused request is split and partly sent again; knowing it, the
   * connector keeps batches under it and dead-letters a larger record before sending anything.
   */
  topicMaxMessageBytes?: number;
  /** A templated kafkaTopic: each topic's max.message.bytes where known (records and per-topic batch shares stay under it). */
  maxMessageBytesOf?: (topic: string) => number | undefined;
  /** A templated kafkaTopic: what is known of a topic (partitions, "missing", or undefined: look it up). */
  topicStatus?: (topic: string) => TopicStatus;
  /** A templated kafkaTopic: looks a topic up; undefined when it could not be (stopping). */
  lookupTopic?: (topic: string) => Promise<TopicStatus>;
  /** This connector's identity; messages it published itself carry it and are never bridged back. */
  origin: string;
  /** Shared-subscription clients unsubscribe and end their sessions on stop, so no share is stranded. */
  leaveSharedOnStop: boolean;
  /** What the route's clients subscribe to (config/subscription.ts). */
  subscription: RouteSubscription;
  metrics: RouteMetrics;
  /** The connector's disk spool, and when the route uses it. */
  spool?: { spool: Spool; mode: Exclude<SpoolMode, "off"> };
}

export interface MqttToKafkaStats extends PipelineStats {
  /** Per MQTT client, to see how a shared subscription spreads. */
  receivedByClient: Record<string, number>;
  /** Largest batch sent, in records. */
  maxBatch: number;
  loopSuppressed: number;
  sendErrors: number;
  /** Messages written to the disk spool, and records sent from it. */
  spooled: number;
  replayed: number;
}

type Pending = HeldMessage;

/** `outage` mode: a send still running after this long means Kafka is down or slower than the input. */
const SLOW_SEND_MS = 1000;
/**
 * `outage` mode: this share of the MQTT window held means Kafka is slower than the input right now.
 * Waiting longer would let the broker's own queue for us (1000 messages in a stock Mosquitto) overflow.
 */
const WINDOW_SHARE = 0.9;
/** With a spool: the longest wait between retries of a failed send. */
const SPOOL_RETRY_CAP_MS = 5_000;

/** Where a templated route sends one MQTT topic's messages, or why it cannot. Cached per MQTT topic. */
type Resolution = { topic: string; key: Buffer | null } | TemplateMiss;

/** MQTT topics whose resolution is cached per route; the cache starts over when full. */
const RESOLUTION_CACHE = 10_000;

/**
 * One mqttToKafka route: N MQTT subscriptions feeding one batcher and one Kafka send at a time.
 * A message is settled (its PUBACK released) only when the batch holding it is acknowledged by Kafka,
 * or, for a message Kafka cannot take, once it is in the dead-letter target (or dropped and counted).
 */
export class MqttToKafkaPipeline implements Pipeline {
  readonly direction = "mqttToKafka";
  readonly stats: MqttToKafkaStats = { ...emptyStats(), receivedByClient: {}, maxBatch: 0, loopSuppressed: 0, sendErrors: 0, spooled: 0, replayed: 0 };
  private readonly subs: MqttSubscription[] = [];
  private readonly acc: BatchAccumulator<Pending>;
  private readonly queued: Batch<Pending>[] = [];
  private readonly chooser: PartitionChooser;
  private readonly sender: KafkaSender<Pending>;
  private readonly outcomes: Outcomes;
  private sending: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private accepting = true;
  private bufferedBytes = 0;
  private bufferedCount = 0;
  private readonly stopSignal = new AbortController();
  private deadLetters: DeadLetterSink | undefined;
  private dlqPublisher: MqttPublisher | undefined;
  /** Dead letters being written; their PUBACKs wait for them. */
  private readonly poisonInFlight = new Set<Promise<void>>();
  private lastMessageAt = 0;
  private readonly counts: CoalescedCounters<"messages" | "bytes">;
  /** kafkaTopic and kafkaKey compiled once, when they are templates. */
  private readonly topicTemplate: Template | undefined;
  private readonly keyTemplate: Template | undefined;
  private readonly allowed: ReadonlySet<string> | undefined;
  private readonly resolved = new Map<string, Resolution>();
  /** Messages waiting for a topic's lookup, per Kafka topic, in arrival order. */
  private readonly waiting = new Map<string, Pending[]>();
  private readonly lookups = new Set<Promise<void>>();
  /** Bytes per topic in the open batch, for topics whose max.message.bytes is known (templated routes). */
  private openTopicBytes = new Map<string, number>();
  private readonly spoolPath: SpoolPath | undefined;
  /** Messages go to the disk spool, and sends come from it. */
  private spooling = false;
  /** The direct batch being sent, and since when. */
  private inFlightBatch: Pending[] | undefined;
  private sendStartedAt = 0;
  private slowTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly route: MqttToKafkaRoute,
    private readonly map: TopicMapSpecResolved,
    private readonly mqtt: MqttPort,
    private readonly producer: KafkaProducerPort,
    private readonly opts: MqttToKafkaOptions,
    private readonly log: Logger,
  ) {
    const b = map.batching;
    this.acc = new BatchAccumulator<Pending>({
      maxMessages: b.maxMessages,
      maxBytes: Math.min(b.maxBytes, MAX_BATCH_BYTES, (opts.topicMaxMessageBytes ?? Infinity) - RECORD_BATCH_HEADER),
      // Disabled batching still coalesces whatever arrives while a send is in flight (like linger.ms=0).
      lingerMs: b.enabled ? b.latencyMs : 0,
    });
    this.chooser = new PartitionChooser(map.partitionStrategy, opts.instanceIndex, opts.hash);
    this.topicTemplate = isTopicTemplate(route.kafkaTopic) ? compileTemplate(route.kafkaTopic, "mqttToKafka") : undefined;
    this.keyTemplate = route.kafkaKey !== undefined ? compileTemplate(route.kafkaKey, "mqttToKafka") : undefined;
    this.allowed = this.topicTemplate && route.kafkaTopics ? new Set(route.kafkaTopics) : undefined;
    this.counts = new CoalescedCounters({ messages: opts.metrics.messagesIn, bytes: opts.metrics.bytesIn });
    this.outcomes = new Outcomes(this.stats, opts.metrics);
    this.sender = new KafkaSender<Pending>(
      producer,
      {
        topic: route.kafkaTopic,
        acks: ACKS[route.kafkaAcks],
        compression: map.compression,
        delivered: (items, sentAt) => this.delivered(items, sentAt),
        refused: (item, reason) => this.refused(item, reason),
        failed: () => {
          this.stats.sendErrors++;
          opts.metrics.error("kafka_send");
        },
        handBack: (items) => this.handBack(items),
        // Spooled records are safe on disk: after a long outage, retry often enough to resume within seconds.
        ...(opts.spool ? { retryCapMs: SPOOL_RETRY_CAP_MS } : {}),
      },
      this.stopSignal.signal,
      log,
    );
    if (opts.spool) {
      const { spool, mode } = opts.spool;
      this.spoolPath = new SpoolPath(spool, spool.route(opts.key), mode, route.kafkaTopic, {
        stored: (p) => this.unbuffer(p),
        appended: () => this.pump(),
        corrupt: (seq, reason) => {
          this.log.error({ seq, reason }, "a spooled record did not survive on disk; it is skipped, not sent");
          this.outcomes.dropped("spool_corrupt");
        },
      }, log);
    }
  }

  get key(): string {
    return this.opts.key;
  }

  get name(): string {
    return this.route.name;
  }

  get inFlight(): number {
    return this.subs.reduce((n, s) => n + s.inFlight, 0);
  }

  get buffered(): number {
    return this.bufferedBytes;
  }

  /** Connected, and able to take messages (a full spool takes none). */
  get ready(): boolean {
    return this.subs.length > 0 && this.subs.every((s) => s.connected) && !(this.spooling && this.spoolPath!.spool.full);
  }

  /** The spool as this route sees it, for metrics and /readyz; undefined without a spool. */
  spoolState(): SpoolState | undefined {
    const sp = this.spoolPath;
    if (!sp) return undefined;
    return { spooling: this.spooling, records: sp.route.records, bytes: sp.route.bytes, oldestAgeSeconds: sp.oldestAgeSeconds(), full: sp.spool.full };
  }

  async start(): Promise<void> {
    const sp = this.spoolPath;
    if (sp && (sp.mode === "always" || !sp.route.empty)) {
      // What an earlier run spooled goes first; new messages queue behind it on disk.
      this.spooling = true;
      if (!sp.route.empty) this.log.warn({ records: sp.route.records }, "sending what the spool holds before new messages");
      this.pump();
    }
    const dl = this.route.deadLetter;
    if (dl?.mqttTopic) {
      this.dlqPublisher = this.mqtt.publisher(mqttClientId(this.opts.clientIdPrefix, this.opts.instanceIndex, this.route.name, "dlq"), this.opts.sessionExpirySeconds);
      await this.dlqPublisher.start();
    }
    this.deadLetters = createSink(dl, {
      route: this.route.name,
      producer: () => this.producer,
      publisher: () => this.dlqPublisher!,
      partitionCount: this.opts.partitionCount,
      maxBytes: MAX_BATCH_BYTES,
      log: this.log,
    });
    const { filter, clients, stale } = this.opts.subscription;
    for (let i = 0; i < clients; i++) {
      const clientId = mqttClientId(this.opts.clientIdPrefix, this.opts.instanceIndex, this.route.name, i);
      const options = { clientId, filter, staleFilters: stale, qos: this.route.qos, receiveMaximum: this.opts.receiveMaximum, sessionExpirySeconds: this.opts.sessionExpirySeconds };
      this.subs.push(
        this.mqtt.subscribe(options, (m) => {
          this.stats.receivedByClient[clientId] = (this.stats.receivedByClient[clientId] ?? 0) + 1;
          this.onMessage(m);
        }),
      );
    }
    await Promise.all(this.subs.map((s) => s.start()));
    this.log.info({ filter, clients, kafkaTopic: this.route.kafkaTopic, ...(this.route.kafkaTopics ? { kafkaTopics: this.route.kafkaTopics } : {}), ...(this.route.kafkaKey !== undefined ? { kafkaKey: this.route.kafkaKey } : {}) }, "route subscribed");
  }

  private onMessage(m: InboundMqttMessage): void {
    // After stop() we neither forward nor acknowledge: the broker keeps the message for our session.
    if (!this.accepting) return;
    this.stats.received++;
    this.counts.add("messages", 1);
    this.counts.add("bytes", m.payload.length);
    this.lastMessageAt = Date.now();
    if (this.isOwnEcho(m)) return;
    if (m.properties.payloadFormatIndicator && !isUtf8(m.payload)) {
      return this.poison(m, "invalid", "invalid: payload format indicator says UTF-8 but the payload is not valid UTF-8");
    }
    let topic = this.route.kafkaTopic;
    let key: Buffer | null | undefined;
    if (this.topicTemplate || this.keyTemplate) {
      const r = this.resolve(m.topic);
      if (r instanceof TemplateMiss) return this.poison(m, "unroutable", `unroutable: ${r.reason}`);
      topic = r.topic;
      key = r.key;
    }
    const record = this.toRecord(m, key);
    const bytes = recordSize(record);
    const limit = this.recordLimit(topic);
    if (bytes > limit) {
      const topicLimit = this.topicTemplate ? this.opts.maxMessageBytesOf?.(topic) : this.opts.topicMaxMessageBytes;
      const why = topicLimit !== undefined && topicLimit - RECORD_BATCH_HEADER <= limit ? ` (topic ${topic} has max.message.bytes ${topicLimit})` : "";
      return this.poison(m, "oversize", `oversize: ${bytes} bytes as a Kafka record, limit ${limit}${why}`);
    }
    if (m.qos === 0 && this.bufferedBytes + (this.bufferedCount + 1) * HELD_MESSAGE_OVERHEAD + bytes > this.opts.maxBufferedBytes) {
      return this.outcomes.dropped("qos0_buffer_full"); // QoS 0 is best effort: shed load instead of growing without bound
    }
    this.bufferedBytes += bytes;
    this.bufferedCount++;
    const p: Pending = { record, bytes, message: m };
    if (!this.topicTemplate) {
      record.partition = this.chooser.choose(topic, this.opts.partitionCount(topic), record.key);
      return this.accumulate(p);
    }
    record.topic = topic;
    // Behind messages already waiting for this topic's lookup, so a topic's records keep their order.
    const queue = this.waiting.get(topic);
    if (queue) return void queue.push(p);
    const status = this.opts.topicStatus!(topic);
    if (status === undefined) return this.awaitTopic(topic, p);
    this.place(p, status);
  }

  /** The largest record the route can send to `topic`: the batch limit, or the topic's own when lower. */
  private recordLimit(topic: string): number {
    const own = this.topicTemplate ? this.opts.maxMessageBytesOf?.(topic) : undefined;
    return own === undefined ? this.acc.limits.maxBytes : Math.min(this.acc.limits.maxBytes, own - RECORD_BATCH_HEADER);
  }

  /**
   * Fills the templates for an MQTT topic and checks the Kafka topic they name: a legal name, and
   * one of kafkaTopics when the route lists them. Cached per MQTT topic: a topic costs one parse-free
   * fill, then a map lookup per message.
   */
  private resolve(mqttTopic: string): Resolution {
    let r = this.resolved.get(mqttTopic);
    if (r) return r;
    const input: TemplateInput = { inputTopic: mqttTopic };
    r = this.fill(input);
    if (this.resolved.size >= RESOLUTION_CACHE) this.resolved.clear();
    this.resolved.set(mqttTopic, r);
    return r;
  }

  private fill(input: TemplateInput): Resolution {
    let topic = this.route.kafkaTopic;
    if (this.topicTemplate) {
      const t = renderTemplate(this.topicTemplate, input);
      if (t instanceof TemplateMiss) return new TemplateMiss(`kafkaTopic ${JSON.stringify(this.topicTemplate.source)}: ${t.reason}`);
      const problem = kafkaTopicNameProblem(t);
      if (problem) return new TemplateMiss(`kafkaTopic ${JSON.stringify(this.topicTemplate.source)} gives ${show(t)}: ${problem}`);
      if (this.allowed && !this.allowed.has(t)) return new TemplateMiss(`kafkaTopic ${JSON.stringify(this.topicTemplate.source)} gives ${show(t)}, which is not one of the route's kafkaTopics`);
      topic = t;
    }
    let key: Buffer | null = null;
    if (this.keyTemplate) {
      const k = renderTemplate(this.keyTemplate, input);
      if (k instanceof TemplateMiss) return new TemplateMiss(`kafkaKey ${JSON.stringify(this.keyTemplate.source)}: ${k.reason}`);
      key = Buffer.from(k, "utf8");
    }
    return { topic, key };
  }

  /** First message for a topic nobody has looked up yet: hold it (and those behind it) until Kafka says. */
  private awaitTopic(topic: string, first: Pending): void {
    this.waiting.set(topic, [first]);
    const done = this.opts.lookupTopic!(topic).then((status) => {
      const queue = this.waiting.get(topic) ?? [];
      this.waiting.delete(topic);
      for (const p of queue) {
        if (status === undefined) this.release(p); // stopping without an answer: the broker redelivers it
        else this.place(p, status);
      }
    });
    this.lookups.add(done);
    void done.finally(() => this.lookups.delete(done));
  }

  /** A message whose topic is known: into the batch, or dead-lettered when the topic does not exist. */
  private place(p: Pending, status: number | "missing"): void {
    const topic = p.record.topic!;
    if (status === "missing") {
      this.release(p);
      return this.poison(p.message, "unroutable", `unroutable: Kafka topic ${JSON.stringify(topic)} does not exist (from kafkaTopic ${JSON.stringify(this.route.kafkaTopic)}); the connector never creates topics`);
    }
    p.record.partition = this.chooser.choose(topic, status, p.record.key);
    const own = this.opts.maxMessageBytesOf?.(topic);
    if (own !== undefined) {
      // Kafka compares each partition's batch with the topic's max.message.bytes: cut before a topic's share passes it.
      const share = (this.openTopicBytes.get(topic) ?? 0) + p.bytes;
      if (share > own - RECORD_BATCH_HEADER) {
        const open = this.flushOpen();
        if (open) this.queued.push(open);
      }
    }
    this.accumulate(p);
    if (own !== undefined && this.acc.pendingCount > 0) this.openTopicBytes.set(topic, (this.openTopicBytes.get(topic) ?? 0) + p.bytes);
  }

  /** Gives up a held message without settling it. */
  private release(p: Pending): void {
    this.unbuffer(p);
  }

  /** The message no longer counts as held in memory (delivered, refused, given up or spooled). */
  private unbuffer(p: Pending): void {
    if (p.unbuffered) return;
    p.unbuffered = true;
    this.bufferedBytes -= p.bytes;
    this.bufferedCount--;
  }

  /** QoS 1 messages the broker may have outstanding with this route's clients. */
  private get window(): number {
    return this.opts.receiveMaximum * Math.max(1, this.subs.length);
  }

  private settleOnce(p: Pending): void {
    if (p.settled) return;
    p.settled = true;
    p.message.settle();
  }

  /**
   * `outage` mode: from now on messages go to disk and are PUBACKed from there, so the broker's
   * queue for us does not fill while Kafka is away. Everything held in memory goes first, in
   * arrival order; a send still running stays in flight, and what it delivers is dropped from the
   * spool again.
   */
  private enterSpooling(why: string): void {
    const sp = this.spoolPath;
    if (!sp || this.spooling || !this.accepting) return;
    this.spooling = true;
    if (this.slowTimer) clearTimeout(this.slowTimer);
    this.slowTimer = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const held = [...(this.inFlightBatch ?? []).filter((p) => !p.delivered), ...this.queued.flatMap((b) => b.items)];
    this.queued.length = 0;
    const open = this.flushOpen();
    if (open) held.push(...open.items);
    this.log.warn({ why, held: held.length }, "spooling to disk until Kafka keeps up again");
    this.stats.spooled += held.length;
    for (const p of held) sp.admit(p);
  }

  /** A failed send of the direct path: spool its batch instead of retrying it while the window stays full. */
  private handBack(items: Pending[]): boolean {
    if (this.spoolPath?.mode !== "outage" || items.some((p) => p.replay)) return false;
    this.enterSpooling("a Kafka send failed");
    return items.every((p) => p.admitted);
  }

  private refused(item: Pending, reason: string): void {
    // A direct record spooled meanwhile is dead-lettered now; its spooled copy must not be sent again.
    if (item.slot && !item.replay) this.spoolPath!.route.discard([item.slot]);
    item.delivered = true;
    this.poison(item.message, "rejected", `rejected by Kafka: ${reason}`, () => this.settleOnce(item));
  }

  private accumulate(p: Pending): void {
    if (this.spooling) {
      this.stats.spooled++;
      return this.spoolPath!.admit(p);
    }
    if (this.spoolPath?.mode === "outage" && this.sendStartedAt && this.bufferedCount >= WINDOW_SHARE * this.window) {
      this.acc.add(p, p.bytes, Date.now()).forEach((b) => this.queued.push(b));
      return this.enterSpooling("the MQTT receive window is full behind a Kafka send");
    }
    const cut = this.acc.add(p, p.bytes, Date.now());
    for (const b of cut) this.queued.push(b);
    // The open batch was cut: the per-topic shares start over (place() adds this message's if it opened the next).
    if (cut.length && this.openTopicBytes.size) this.openTopicBytes = new Map();
    this.pump();
  }

  /** Cuts the open batch, if any. */
  private flushOpen(): Batch<Pending> | undefined {
    if (this.openTopicBytes.size) this.openTopicBytes = new Map();
    return this.acc.flush();
  }

  /** A message this connector published itself from Kafka: bridging it back would start a loop. */
  private isOwnEcho(m: InboundMqttMessage): boolean {
    const origin = m.properties.userProperties?.[ORIGIN_PROPERTY];
    if (origin !== this.opts.origin && !(Array.isArray(origin) && origin.includes(this.opts.origin))) return false;
    this.stats.loopSuppressed++;
    this.opts.metrics.loopSuppressed.inc();
    m.settle();
    return true;
  }

  /** The record without its partition (chosen once its topic is known); `key` from kafkaKey, else the strategy's. */
  private toRecord(m: InboundMqttMessage, templatedKey: Buffer | null | undefined): OutboundRecord {
    const key = this.keyTemplate ? (templatedKey ?? null) : partitionKey(this.map.partitionStrategy, m.topic, m.properties.userProperties, this.map.partitionKeyProperty);
    const record: OutboundRecord = { key, value: m.payload, partition: -1 };
    if (this.map.copyMqttProperties) {
      record.headers = propertiesToHeaders(m.topic, m.properties);
      // The expiry header holds what was left on receipt; the way back subtracts from this time.
      if (m.properties.messageExpiryInterval !== undefined) record.timestamp = String(m.receivedAt);
    }
    return record;
  }

  /** Sends a message that cannot go to Kafka to the dead-letter target; its PUBACK follows once that is done. */
  private poison(m: InboundMqttMessage, kind: UndeliverableKind, reason: string, settle: () => void = () => m.settle()): void {
    const p = this.outcomes.undeliverable(this.deadLetters, kind, { reason, sourceTopic: m.topic, payload: m.payload, properties: m.properties }).then(() => {
      settle();
      if (this.spooling) this.pump(); // a released spool record may have been the last one
    });
    this.poisonInFlight.add(p);
    void p.finally(() => this.poisonInFlight.delete(p));
  }

  private delivered(items: Pending[], sentAt: bigint): void {
    this.stats.batches++;
    this.stats.maxBatch = Math.max(this.stats.maxBatch, items.length);
    this.stats.delivered += items.length;
    const met = this.opts.metrics;
    met.produceLatency.observe(Number(process.hrtime.bigint() - sentAt) / 1e9);
    met.batchSize.observe(items.length);
    met.messagesOut.inc(items.length);
    const now = Date.now();
    let bytes = 0;
    let replayed = 0;
    const late = [];
    for (const p of items) {
      bytes += p.message.payload.length;
      met.deliveryLatency.observe((now - p.message.receivedAt) / 1000);
      p.delivered = true;
      if (p.replay) replayed++;
      else if (p.slot) late.push(p.slot); // spooled while this send ran: its PUBACK is out, its copy goes
      this.settleOnce(p);
    }
    if (late.length) this.spoolPath!.route.discard(late);
    if (replayed) {
      this.stats.replayed += replayed;
      met.spoolReplayed.inc(replayed);
    }
    met.bytesOut.inc(bytes);
  }

  /** Starts the next send if none is running; arms the linger timer otherwise. */
  private pump(): void {
    if (this.sending) return;
    if (this.spooling) return this.replay();
    let batch = this.queued.shift();
    if (!batch && this.acc.pendingCount > 0) {
      const deadline = this.acc.deadline() ?? 0;
      if (Date.now() >= deadline || !this.accepting) batch = this.flushOpen();
      else if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, deadline - Date.now());
      }
    }
    if (!batch) return;
    const b = batch;
    this.inFlightBatch = b.items;
    this.sendStartedAt = Date.now();
    if (this.spoolPath?.mode === "outage") this.slowTimer = setTimeout(() => this.enterSpooling(`a Kafka send has run for over ${SLOW_SEND_MS} ms`), SLOW_SEND_MS);
    this.sending = this.sender
      .deliver(b.items)
      .then(() => {
        for (const p of b.items) if (!p.admitted) this.unbuffer(p);
      })
      .finally(() => {
        if (this.slowTimer) clearTimeout(this.slowTimer);
        this.slowTimer = undefined;
        this.inFlightBatch = undefined;
        this.sendStartedAt = 0;
        this.sending = undefined;
        this.pump();
      });
  }

  /** Sends the oldest spooled records; back to direct sends (outage mode) once the spool is empty. */
  private replay(): void {
    const sp = this.spoolPath!;
    if (!this.accepting) return; // stopping: what is left stays on disk
    const items = sp.nextBatch(this.acc.limits.maxMessages, this.acc.limits.maxBytes);
    if (!items.length) {
      if (sp.mode === "outage" && sp.idle && this.accepting) {
        this.spooling = false;
        this.log.info({ replayed: this.stats.replayed }, "spool empty: Kafka keeps up again, sending directly");
      }
      return;
    }
    this.sending = this.sender.deliver(items).finally(() => {
      this.sending = undefined;
      this.pump();
    });
  }

  /**
   * Stops intake and sends everything already accepted. Shared-subscription clients first leave
   * their group and keep forwarding what the broker had already queued for them until it goes
   * quiet, so a scaled-down instance leaves nothing behind in an orphaned session. `leave` does the
   * same for any route (used when a reload removes the route or changes its filter).
   */
  async drain(opts: { leave?: boolean } = {}): Promise<void> {
    if (opts.leave ?? this.leavesOnStop) {
      await Promise.all(this.subs.map((s) => s.unsubscribe().catch((e: unknown) => this.log.warn({ err: String(e) }, "unsubscribe failed"))));
      const quietMs = 500;
      const until = Date.now() + 10_000;
      while (Date.now() < until && (Date.now() - this.lastMessageAt < quietMs || this.inFlight > 0)) await sleep(50);
    }
    this.accepting = false;
    // Messages waiting for a topic lookup go into the last batches (or their dead letters) first.
    while (this.lookups.size) await Promise.all([...this.lookups]);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.spooling) return this.drainSpooling();
    const leftover = this.flushOpen();
    if (leftover) this.queued.push(leftover);
    this.pump();
    while (this.sending) await this.sending;
    await Promise.all([...this.poisonInFlight]);
  }

  /**
   * Spooling: what was taken goes to disk and is PUBACKed; what Kafka has not acknowledged stays
   * there for the next start (or the route that replaces this one on a reload).
   */
  private async drainSpooling(): Promise<void> {
    const sp = this.spoolPath!;
    await sp.settle(true);
    // A send still running is not waited for: its records are on disk, and at worst sent twice.
    this.stopSignal.abort();
    await Promise.all([...this.poisonInFlight]);
    sp.route.rewind();
    if (!sp.route.empty) this.log.info({ records: sp.route.records }, "spooled records kept on disk for the next start");
  }

  private get leavesOnStop(): boolean {
    return this.opts.subscription.mode !== "plain" && this.opts.leaveSharedOnStop;
  }

  abort(): void {
    this.stopSignal.abort();
  }

  async disconnect(opts: { endSession?: boolean } = {}): Promise<void> {
    const endSession = opts.endSession ?? this.leavesOnStop;
    await Promise.all([...this.subs.map((s) => s.close({ endSession })), this.dlqPublisher?.close()]);
  }
}
