import type { MqttToKafkaRoute, TopicMapSpecResolved, KafkaAcks } from "../config/schema";
import { MAX_REQUEST_BYTES } from "../config/schema";
import { BatchAccumulator, type Batch } from "../core/batcher";
import { PartitionChooser, partitionKey, type KeyHash } from "../core/partitioner";
import { headersSize, propertiesToHeaders } from "../core/properties";
import type { RouteSubscription } from "../config/subscription";
import { backoffMs, sleep } from "../core/backoff";
import type { Logger } from "../logger";
import type { InboundMqttMessage, KafkaProducerPort, MqttPort, MqttPublisher, MqttSubscription, OutboundRecord } from "../ports/types";
import { isUtf8 } from "node:buffer";
import { createSink, type DeadLetterSink } from "./dead-letter";
import { ORIGIN_PROPERTY } from "./loop-guard";
import type { RouteMetrics } from "../metrics";
import { CoalescedCounters } from "./coalesced-counters";

export const ACKS: Record<KafkaAcks, 0 | 1 | -1> = { zero: 0, one: 1, all: -1 };

/** Bytes a record adds to a produce request beyond key, value and headers (varints, attributes). */
const RECORD_OVERHEAD = 64;
/**
 * What one held message costs in memory beyond its Kafka record bytes (the MQTT packet, its
 * properties, the record and the settle closure), so the QoS 0 buffer bound counts memory, not
 * payload: 64 MiB of 100-byte records would otherwise be 400,000 messages and several times that in heap.
 */
export const HELD_MESSAGE_OVERHEAD = 512;
/** Room kept for the request, topic and batch headers so a full batch stays under MAX_REQUEST_BYTES. */
const REQUEST_OVERHEAD = 16 * 1024;
export const MAX_BATCH_BYTES = MAX_REQUEST_BYTES - REQUEST_OVERHEAD;
/** A record batch's own header (magic v2); Kafka compares header plus records with max.message.bytes. */
const RECORD_BATCH_HEADER = 61;

export interface MqttToKafkaOptions {
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
  /** This connector's identity; messages it published itself carry it and are never bridged back. */
  origin: string;
  /** Shared-subscription clients unsubscribe and end their sessions on stop, so no share is stranded. */
  leaveSharedOnStop: boolean;
  /** What the route's clients subscribe to (config/subscription.ts). */
  subscription: RouteSubscription;
  metrics: RouteMetrics;
}

export interface RouteStats {
  received: number;
  /** Per MQTT client, to see how a shared subscription spreads. */
  receivedByClient: Record<string, number>;
  /** Largest batch sent, in records. */
  maxBatch: number;
  forwarded: number;
  dropped: number;
  deadLettered: number;
  loopSuppressed: number;
  batches: number;
  sendErrors: number;
}

interface Pending {
  record: OutboundRecord;
  bytes: number;
  message: InboundMqttMessage;
}

export function recordSize(r: OutboundRecord): number {
  const n = r.value.length + (r.key?.length ?? 0) + RECORD_OVERHEAD;
  return r.headers ? n + headersSize(r.headers, 8) : n;
}

export function mqttClientId(prefix: string, instance: number, route: string, suffix: string | number): string {
  return `${prefix}-${instance}-${route}-${suffix}`;
}

/**
 * One mqttToKafka route: N MQTT subscriptions feeding one batcher and one Kafka send at a time.
 * A message is settled (its PUBACK released) only when the batch holding it is acknowledged by Kafka,
 * or, for a message Kafka cannot take, once it is in the dead-letter target (or dropped and counted).
 */
export class MqttToKafkaPipeline {
  readonly stats: RouteStats = {
    received: 0,
    receivedByClient: {},
    maxBatch: 0,
    forwarded: 0,
    dropped: 0,
    deadLettered: 0,
    loopSuppressed: 0,
    batches: 0,
    sendErrors: 0,
  };
  private readonly subs: MqttSubscription[] = [];
  private readonly acc: BatchAccumulator<Pending>;
  private readonly ready: Batch<Pending>[] = [];
  private readonly chooser: PartitionChooser;
  private readonly acks: 0 | 1 | -1;
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
    this.acks = ACKS[route.kafkaAcks];
    this.counts = new CoalescedCounters({ messages: opts.metrics.messagesIn, bytes: opts.metrics.bytesIn });
  }

  get inFlight(): number {
    return this.subs.reduce((n, s) => n + s.inFlight, 0);
  }

  get buffered(): number {
    return this.bufferedBytes;
  }

  get connected(): boolean {
    return this.subs.length > 0 && this.subs.every((s) => s.connected);
  }

  async start(): Promise<void> {
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
    const { filter, clients: count, stale } = this.opts.subscription;
    for (let i = 0; i < count; i++) {
      const clientId = mqttClientId(this.opts.clientIdPrefix, this.opts.instanceIndex, this.route.name, i);
      this.subs.push(
        this.mqtt.subscribe(
          { clientId, filter, staleFilters: stale, qos: this.route.qos, receiveMaximum: this.opts.receiveMaximum, sessionExpirySeconds: this.opts.sessionExpirySeconds },
          (m) => {
            this.stats.receivedByClient[clientId] = (this.stats.receivedByClient[clientId] ?? 0) + 1;
            this.onMessage(m);
          },
        ),
      );
    }
    await Promise.all(this.subs.map((s) => s.start()));
    this.log.info({ filter, clients: count, kafkaTopic: this.route.kafkaTopic }, "route subscribed");
  }

  private onMessage(m: InboundMqttMessage): void {
    // After stop() we neither forward nor acknowledge: the broker keeps the message for our session.
    if (!this.accepting) return;
    this.stats.received++;
    this.counts.add("messages", 1);
    this.counts.add("bytes", m.payload.length);
    this.lastMessageAt = Date.now();
    const origin = m.properties.userProperties?.[ORIGIN_PROPERTY];
    if (origin === this.opts.origin || (Array.isArray(origin) && origin.includes(this.opts.origin))) {
      // We published this ourselves from Kafka; bridging it back would start a loop.
      this.stats.loopSuppressed++;
      this.opts.metrics.loopSuppressed.inc();
      m.settle();
      return;
    }
    if (m.properties.payloadFormatIndicator && !isUtf8(m.payload)) {
      this.poison(m, "invalid: payload format indicator says UTF-8 but the payload is not valid UTF-8");
      return;
    }
    const key = partitionKey(this.map.partitionStrategy, m.topic, m.properties.userProperties, this.map.partitionKeyProperty);
    const record: OutboundRecord = {
      key,
      value: m.payload,
      partition: this.chooser.choose(this.route.kafkaTopic, this.opts.partitionCount(this.route.kafkaTopic), key),
    };
    if (this.map.copyMqttProperties) {
      record.headers = propertiesToHeaders(m.topic, m.properties);
      // The expiry header holds what was left on receipt; the way back subtracts from this time.
      if (m.properties.messageExpiryInterval !== undefined) record.timestamp = String(m.receivedAt);
    }
    const bytes = recordSize(record);
    if (bytes > this.acc.limits.maxBytes) {
      const topicLimit = this.opts.topicMaxMessageBytes;
      const why = topicLimit !== undefined && topicLimit - RECORD_BATCH_HEADER <= this.acc.limits.maxBytes ? ` (topic ${this.route.kafkaTopic} has max.message.bytes ${topicLimit})` : "";
      this.poison(m, `oversize: ${bytes} bytes as a Kafka record, limit ${this.acc.limits.maxBytes}${why}`);
      return;
    }
    if (m.qos === 0 && this.bufferedBytes + (this.bufferedCount + 1) * HELD_MESSAGE_OVERHEAD + bytes > this.opts.maxBufferedBytes) {
      this.stats.dropped++; // QoS 0 is best effort: shed load instead of growing without bound
      this.opts.metrics.dropped("qos0_buffer_full");
      return;
    }
    this.bufferedBytes += bytes;
    this.bufferedCount++;
    for (const b of this.acc.add({ record, bytes, message: m }, bytes, Date.now())) this.ready.push(b);
    this.pump();
  }

  /** Sends a message that cannot go to Kafka to the dead-letter target; its PUBACK follows once that is done. */
  private poison(m: InboundMqttMessage, reason: string): void {
    const sink = this.deadLetters;
    const p = (sink ? sink.send({ reason, sourceTopic: m.topic, payload: m.payload, properties: m.properties }) : Promise.resolve("dropped" as const)).then(
      (outcome) => {
        if (outcome === "stored") {
          this.stats.deadLettered++;
          this.opts.metrics.deadLettered.inc();
        } else {
          this.stats.dropped++;
          this.opts.metrics.dropped(reason.split(/[\s:]/)[0]!); // oversize, invalid, rejected, refused
        }
        m.settle();
      },
    );
    this.poisonInFlight.add(p);
    void p.finally(() => this.poisonInFlight.delete(p));
  }

  /** Starts the next send if none is running; arms the linger timer otherwise. */
  private pump(): void {
    if (this.sending) return;
    let batch = this.ready.shift();
    if (!batch && this.acc.pendingCount > 0) {
      const deadline = this.acc.deadline() ?? 0;
      if (Date.now() >= deadline || !this.accepting) batch = this.acc.flush();
      else if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, deadline - Date.now());
      }
    }
    if (!batch) return;
    const b = batch;
    this.sending = this.sendWithRetry(b).finally(() => {
      this.sending = undefined;
      this.pump();
    });
  }

  private async sendWithRetry(batch: Batch<Pending>): Promise<void> {
    await this.deliver(batch.items);
    this.bufferedBytes -= batch.bytes;
    this.bufferedCount -= batch.items.length;
  }

  /**
   * Retries until Kafka acknowledges: during an outage nothing is acked to MQTT and nothing is lost.
   * Only a rejection of the records themselves (too large, corrupt) splits the batch to isolate the
   * bad record, which is dropped and counted so the route behind it keeps flowing.
   */
  private async deliver(items: Pending[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const sentAt = process.hrtime.bigint();
      try {
        await this.producer.send({
          topic: this.route.kafkaTopic,
          acks: this.acks,
          compression: this.map.compression,
          records: items.map((p) => p.record),
        });
        this.stats.batches++;
        this.stats.maxBatch = Math.max(this.stats.maxBatch, items.length);
        this.stats.forwarded += items.length;
        const met = this.opts.metrics;
        met.produceLatency.observe(Number(process.hrtime.bigint() - sentAt) / 1e9);
        met.batchSize.observe(items.length);
        met.messagesOut.inc(items.length);
        const now = Date.now();
        let bytes = 0;
        for (const p of items) {
          bytes += p.message.payload.length;
          met.deliveryLatency.observe((now - p.message.receivedAt) / 1000);
          p.message.settle();
        }
        met.bytesOut.inc(bytes);
        return;
      } catch (e) {
        this.stats.sendErrors++;
        this.opts.metrics.error("kafka_send");
        const rejection = recordRejection(e);
        if (rejection) {
          // Kafka appends or refuses each partition's batch on its own, but kafkajs fails the whole
          // request, so the other partitions' records may be in Kafka already. Splitting by partition
          // first sends them once more at most; halving a mixed batch would append them again at
          // every step of the search for the bad record.
          const byPartition = groupByPartition(items);
          if (byPartition.length > 1) {
            for (const group of byPartition) await this.deliver(group);
            return;
          }
          if (items.length > 1) {
            const mid = items.length >> 1;
            await this.deliver(items.slice(0, mid));
            await this.deliver(items.slice(mid));
            return;
          }
          const bad = items[0];
          if (bad) {
            this.log.error({ kafkaTopic: this.route.kafkaTopic, reason: rejection, bytes: bad.bytes }, "Kafka rejected a record");
            this.poison(bad.message, `rejected by Kafka: ${rejection}`);
          }
          return;
        }
        const delay = backoffMs(attempt);
        this.log.error(
          { err: (e as Error).message, kafkaTopic: this.route.kafkaTopic, records: items.length, attempt, retryInMs: delay },
          "Kafka send failed; retrying the batch",
        );
        await sleep(delay, this.stopSignal.signal);
        if (this.stopSignal.signal.aborted) return; // drain timed out: the broker redelivers these later
      }
    }
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const leftover = this.acc.flush();
    if (leftover) this.ready.push(leftover);
    this.pump();
    while (this.sending) await this.sending;
    await Promise.all([...this.poisonInFlight]);
  }

  private get leavesOnStop(): boolean {
    return this.opts.subscription.mode !== "plain" && this.opts.leaveSharedOnStop;
  }

  /** Gives up on retries (drain timeout); unsettled messages are redelivered by the broker later. */
  abort(): void {
    this.stopSignal.abort();
  }

  async disconnect(opts: { endSession?: boolean } = {}): Promise<void> {
    const endSession = opts.endSession ?? this.leavesOnStop;
    await Promise.all([...this.subs.map((s) => s.close({ endSession })), this.dlqPublisher?.close()]);
  }
}

/** Items grouped by target partition, each group in arrival order. */
function groupByPartition(items: Pending[]): Pending[][] {
  const groups = new Map<number, Pending[]>();
  for (const p of items) {
    const g = groups.get(p.record.partition);
    if (g) g.push(p);
    else groups.set(p.record.partition, [p]);
  }
  return [...groups.values()];
}

const RECORD_REJECTIONS = new Set(["MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE", "INVALID_RECORD", "CORRUPT_MESSAGE", "INVALID_TIMESTAMP"]);

/** The Kafka error type when the broker refused the records themselves, as opposed to the connection or permissions. */
export function recordRejection(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 4; depth++) {
    const type = (cur as { type?: unknown }).type;
    if (typeof type === "string" && RECORD_REJECTIONS.has(type)) return type;
    cur = (cur as { originalError?: unknown; cause?: unknown }).originalError ?? (cur as { cause?: unknown }).cause;
  }
  return undefined;
}
