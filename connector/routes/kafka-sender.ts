/**
 * Sends one route's batches to Kafka, one request at a time. A batch is retried with backoff until
 * Kafka acknowledges it: during an outage nothing is acknowledged to MQTT and nothing is lost. Only
 * when Kafka refuses records themselves (too large, corrupt) is the batch split to isolate them.
 */
import type { Compression } from "../config/schema";
import { backoffMs, sleep } from "../core/backoff";
import { ConnectorError } from "../core/errors";
import type { Logger } from "../logger";
import type { KafkaProducerPort, OutboundRecord } from "../ports/types";

export interface SendItem {
  record: OutboundRecord;
  bytes: number;
}

export interface KafkaSenderTarget<T extends SendItem> {
  /** The route's topic: records with a topic of their own (a templated route) go there instead. */
  topic: string;
  acks: 0 | 1 | -1;
  compression: Compression;
  /** The batch is in Kafka. */
  delivered(items: T[], sentAt: bigint): void;
  /** Kafka refused this record alone; it will never take it. */
  refused(item: T, reason: string): void;
  /** A send failed and will be retried (or was refused): for counting. */
  failed(): void;
  /**
   * After a failed send: true when the route has taken the items back (it spools them to disk), so
   * they are not retried here.
   */
  handBack?(items: T[]): boolean;
  /** Longest wait between retries (default 30 s). */
  retryCapMs?: number;
}

export class KafkaSender<T extends SendItem> {
  constructor(
    private readonly producer: KafkaProducerPort,
    private readonly target: KafkaSenderTarget<T>,
    private readonly stop: AbortSignal,
    private readonly log: Logger,
  ) {}

  /** Resolves once every item is delivered or refused, or when `stop` aborts (the source redelivers the rest). */
  async deliver(items: T[]): Promise<void> {
    const t = this.target;
    for (let attempt = 0; ; attempt++) {
      const sentAt = process.hrtime.bigint();
      try {
        await this.producer.send({ topic: t.topic, acks: t.acks, compression: t.compression, records: items.map((p) => p.record) });
        t.delivered(items, sentAt);
        return;
      } catch (e) {
        t.failed();
        if (e instanceof ConnectorError && e.code === "KAFKA_RECORD_REJECTED") return this.isolate(items, e);
        if (t.handBack?.(items)) {
          this.log.warn({ err: (e as Error).message, kafkaTopic: t.topic, records: items.length }, "Kafka send failed; the batch goes to the spool and is sent from there");
          return;
        }
        const delay = backoffMs(attempt, undefined, t.retryCapMs);
        this.log.error({ err: (e as Error).message, kafkaTopic: t.topic, records: items.length, attempt, retryInMs: delay }, "Kafka send failed; retrying the batch");
        await sleep(delay, this.stop);
        if (this.stop.aborted) return; // drain timed out: the broker redelivers these later
      }
    }
  }

  /**
   * Kafka appends or refuses each partition's batch on its own, but kafkajs fails the whole request,
   * so the other partitions' records may be in Kafka already. Splitting by partition first sends
   * them once more at most; halving a mixed batch would append them again at every step of the
   * search for the bad record.
   */
  private async isolate(items: T[], e: ConnectorError): Promise<void> {
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
    if (!bad) return;
    const reason = e.reason ?? e.message;
    this.log.error({ kafkaTopic: bad.record.topic ?? this.target.topic, reason, bytes: bad.bytes }, "Kafka rejected a record");
    this.target.refused(bad, reason);
  }
}

/** Items grouped by target topic and partition, each group in arrival order. */
function groupByPartition<T extends SendItem>(items: T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const p of items) {
    const id = `${p.record.topic ?? ""}\u0000${p.record.partition}`;
    const g = groups.get(id);
    if (g) g.push(p);
    else groups.set(id, [p]);
  }
  return [...groups.values()];
}
