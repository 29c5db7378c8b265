/**
 * What the connector knows of its Kafka topics: partition counts (to choose partitions) and
 * max.message.bytes (to size batches), read at start, on reload and on a timer.
 */
import type { KafkaConnectorTopicMapResource } from "../config/schema";
import { connectorTopics, producedTopics } from "../config/routes";
import { backoffMs, sleep } from "../core/backoff";
import { ConnectorError } from "../core/errors";
import { withTimeout } from "../core/timeout";
import type { Logger } from "../logger";
import type { KafkaPort } from "../ports/types";
import { kafkaFailureSummary } from "../ports/kafka/errors";

const TOPIC_LIMITS_TIMEOUT_MS = 10_000;

export interface TopicSnapshot {
  partitions: Map<string, number>;
  /** Topics' max.message.bytes, best effort: clusters that do not say (or deny DescribeConfigs) leave it out. */
  limits: Map<string, number>;
}

/** How long a templated route treats a topic it found missing as missing before it asks again. */
export const MISSING_TOPIC_RECHECK_MS = 10_000;

/** What is known of a topic a templated route resolved per message: its partitions, missing, or nothing yet. */
export type TopicStatus = number | "missing" | undefined;

export class TopicMetadata {
  private current: TopicSnapshot = { partitions: new Map(), limits: new Map() };
  private timer: NodeJS.Timeout | undefined;
  /**
   * Topics that templated routes without a kafkaTopics list produce to, found per message: their
   * partition counts, and when those found missing were checked. Never created, only looked up.
   */
  private readonly found = new Map<string, number>();
  private readonly missing = new Map<string, number>();
  private readonly lookups = new Map<string, Promise<TopicStatus>>();
  private batch: { topics: Set<string>; done: Promise<Map<string, number> | undefined> } | undefined;
  private readonly stopped = new AbortController();

  constructor(
    private readonly kafka: KafkaPort,
    private readonly log: Logger,
    private readonly endpoint: string,
  ) {}

  /**
   * Reads the maps' topics, retrying while Kafka cannot be reached; fails at once, naming the
   * routes, when a topic is missing (it is never created). `stop` ends the retries.
   */
  async fetchRetrying(maps: KafkaConnectorTopicMapResource[], stop: AbortSignal): Promise<TopicSnapshot> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.fetch(maps);
      } catch (e) {
        if (e instanceof ConnectorError && e.code === "KAFKA_TOPIC_MISSING") throw e;
        const delay = backoffMs(attempt, 1000);
        this.log.error({ err: (e as Error).message, attempt, retryInMs: delay, endpoint: this.endpoint }, kafkaFailureSummary(e));
        await sleep(delay, stop);
        if (stop.aborted) throw new ConnectorError("STOPPED", "stopped before Kafka became reachable");
      }
    }
  }

  /** One attempt; a missing topic fails naming the routes that use it. */
  async fetch(maps: KafkaConnectorTopicMapResource[]): Promise<TopicSnapshot> {
    const users = connectorTopics(maps);
    let partitions: Map<string, number>;
    try {
      partitions = await this.kafka.partitionCounts([...users.keys()]);
    } catch (e) {
      if (e instanceof ConnectorError && e.code === "KAFKA_TOPIC_MISSING") {
        const detail = [...users].filter(([t]) => e.message.includes(JSON.stringify(t))).map(([t, keys]) => `${t} (routes: ${keys.join(", ")})`);
        throw new ConnectorError("KAFKA_TOPIC_MISSING", `${e.message}\n  missing: ${detail.join("; ")}`);
      }
      throw e;
    }
    return { partitions, limits: await this.fetchLimits(producedTopics(maps)) };
  }

  private async fetchLimits(topics: string[]): Promise<Map<string, number>> {
    try {
      // Bounded: a cluster that stalls on DescribeConfigs must not hold up the start.
      return await withTimeout(this.kafka.maxMessageBytes(topics), TOPIC_LIMITS_TIMEOUT_MS, "DescribeConfigs");
    } catch (e) {
      this.log.info({ err: (e as Error).message }, "topics' max.message.bytes unknown; records Kafka refuses as too large are isolated and dead-lettered when they are refused");
      return new Map();
    }
  }

  use(snapshot: TopicSnapshot): void {
    this.current = snapshot;
  }

  readonly partitionCount = (topic: string): number => {
    const n = this.current.partitions.get(topic) ?? this.found.get(topic);
    if (n === undefined) throw new ConnectorError("KAFKA_TOPIC_MISSING", `no partition metadata for ${topic}`);
    return n;
  };

  /** A topic's partitions if known, "missing" if it was found missing lately, undefined when it must be looked up. */
  readonly status = (topic: string, now = Date.now()): TopicStatus => {
    const n = this.current.partitions.get(topic) ?? this.found.get(topic);
    if (n !== undefined) return n;
    const checked = this.missing.get(topic);
    return checked !== undefined && now - checked < MISSING_TOPIC_RECHECK_MS ? "missing" : undefined;
  };

  /**
   * Looks a topic up (a templated route met it for the first time): its partition count, or
   * "missing" when it does not exist. Lookups in the same tick go in one request; while Kafka
   * cannot be reached they are retried, and resolve undefined (unknown) only once stop() was called.
   */
  readonly lookup = (topic: string): Promise<TopicStatus> => {
    let p = this.lookups.get(topic);
    if (p) return p;
    p = this.lookupBatched(topic).finally(() => this.lookups.delete(topic));
    this.lookups.set(topic, p);
    return p;
  };

  private async lookupBatched(topic: string): Promise<TopicStatus> {
    if (!this.batch) {
      const topics = new Set<string>();
      const done = new Promise<void>((r) => setImmediate(r)).then(() => {
        this.batch = undefined;
        return this.describeRetrying([...topics]);
      });
      this.batch = { topics, done };
    }
    this.batch.topics.add(topic);
    const found = await this.batch.done;
    if (!found) return undefined;
    const n = found.get(topic);
    if (n === undefined) {
      this.missing.set(topic, Date.now());
      return "missing";
    }
    this.found.set(topic, n);
    this.missing.delete(topic);
    return n;
  }

  /** The topics' partition counts (absent: missing), or undefined when stop() ended the retries. */
  private async describeRetrying(topics: string[]): Promise<Map<string, number> | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.kafka.describeTopics(topics);
      } catch (e) {
        const delay = backoffMs(attempt, 1000);
        this.log.error({ err: (e as Error).message, topics, attempt, retryInMs: delay }, `looking up Kafka topics of a templated route failed: ${kafkaFailureSummary(e)}`);
        await sleep(delay, this.stopped.signal);
        if (this.stopped.signal.aborted) return undefined;
      }
    }
  }

  maxMessageBytes(topic: string): number | undefined {
    return this.current.limits.get(topic);
  }

  /** Partition counts again every `ms` (partitions can be added); a failure keeps the previous counts. */
  refreshEvery(ms: number, maps: () => KafkaConnectorTopicMapResource[]): void {
    if (ms <= 0) return;
    this.timer = setInterval(() => {
      this.kafka.partitionCounts([...connectorTopics(maps()).keys()]).then(
        (p) => (this.current = { ...this.current, partitions: p }),
        (e: unknown) => this.log.warn({ err: (e as Error).message }, "partition metadata refresh failed; keeping the previous counts"),
      );
      if (this.found.size) {
        this.kafka.describeTopics([...this.found.keys()]).then(
          (p) => {
            // A topic deleted since is looked up again by the next message that names it.
            for (const t of [...this.found.keys()]) {
              const n = p.get(t);
              if (n === undefined) this.found.delete(t);
              else this.found.set(t, n);
            }
          },
          (e: unknown) => this.log.warn({ err: (e as Error).message }, "partition metadata refresh of templated routes' topics failed; keeping the previous counts"),
        );
      }
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.stopped.abort();
  }
}
