import type { Consumer, ConsumerCrashEvent } from "kafkajs";
import type { Logger } from "../../logger";
import { CommitTracker } from "../../core/commit-tracker";
import { backoffMs } from "../../core/backoff";
import { beforeRejoin } from "./rejoin-hook";
import type { ConsumerBatch, KafkaConsumerPort } from "../types";

export interface ConsumerSettings {
  /** How often resolved offsets are committed; Event Hubs allows about 4 commits/s per partition. */
  commitIntervalMs: number;
  partitionsConsumedConcurrently: number;
  offsetReset: "earliest" | "latest";
}

const FINAL_COMMIT_ATTEMPTS = 3;
/** First and longest wait before a crashed consumer is started again. */
const RESTART_BASE_MS = 1000;
const RESTART_CAP_MS = 60_000;

/**
 * A kafkajs consumer as a kafkaToMqtt route sees it. The route resolves a batch's offsets once its
 * PUBACKs are in; they are committed on a timer (Event Hubs allows about 4 commits/s per partition),
 * and also whenever partitions may be given up: on the drain and before every rebalance, so that a
 * clean stop or a group change (a rolling update, a scale-out) repeats nothing.
 */
export class KafkaConsumerAdapter implements KafkaConsumerPort {
  private c: Consumer;
  private readonly commits = new CommitTracker();
  private timer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  /** Set by the drain: batches fetched from then on are not processed. */
  private stopping = false;
  /** Batches being processed, and who waits for none. */
  private active = 0;
  private idle: (() => void) | undefined;
  /** Resolved when the drain hands over to kafkajs' stop(); batches fetched during the drain wait for it. */
  private readonly stopped: Promise<void>;
  private releaseSkipped!: () => void;
  private unhook: (() => void) | undefined;
  /** Ours in the group, from the last join: the rejoin hook runs for every member of the group in this process. */
  private memberId = "";
  private onBatch: ((batch: ConsumerBatch) => Promise<void>) | undefined;
  /** False from a crash until the consumer has joined its group again. */
  private up = false;
  /** Crashes since the last batch that went through, for the restart backoff. */
  private crashes = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  /** `create` makes a new kafkajs consumer: one that crashed without restarting is replaced. */
  constructor(
    private readonly create: () => Consumer,
    private readonly groupId: string,
    private readonly topics: readonly string[],
    private readonly s: ConsumerSettings,
    private readonly log: Logger,
    private readonly onCrash: (error: Error) => void = () => undefined,
  ) {
    this.stopped = new Promise<void>((r) => (this.releaseSkipped = r));
    this.c = this.attach(create());
  }

  /** Running and in its group; false after a crash until it runs again. */
  get healthy(): boolean {
    return this.up;
  }

  private attach(c: Consumer): Consumer {
    c.on(c.events.GROUP_JOIN, (e) => {
      this.up = true;
      this.memberId = e.payload.memberId;
      // After a rebalance, never commit for partitions another member now owns.
      this.commits.retain(Object.entries(e.payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions })));
    });
    c.on(c.events.CRASH, (e: ConsumerCrashEvent) => this.crashed(c, e.payload.error, e.payload.restart));
    return c;
  }

  /**
   * kafkajs restarts a consumer only after errors it deems retriable; after any other (a codec it
   * lacks, an unexpected exception) the consumer stays stopped and the route would deliver nothing
   * for good. Every crash here ends in a restart, with a growing delay, and the route reports itself
   * not ready meanwhile.
   */
  private crashed(c: Consumer, error: Error, kafkajsRestarts: boolean): void {
    if (this.stopping || c !== this.c) return;
    this.up = false;
    const delay = backoffMs(this.crashes++, RESTART_BASE_MS, RESTART_CAP_MS);
    this.onCrash(error);
    this.log.error({ err: error.message, errorName: error.name, restartInMs: kafkajsRestarts ? undefined : delay }, "Kafka consumer crashed; restarting it");
    if (kafkajsRestarts) return;
    this.restartTimer = setTimeout(() => void this.restart(), delay);
  }

  private async restart(): Promise<void> {
    this.restartTimer = undefined;
    if (this.stopping || !this.onBatch) return;
    const old = this.c;
    await old.disconnect().catch(() => undefined);
    this.c = this.attach(this.create());
    try {
      await this.connect();
      await this.start(this.onBatch);
      this.log.info("Kafka consumer restarted");
    } catch (e) {
      const delay = backoffMs(this.crashes++, RESTART_BASE_MS, RESTART_CAP_MS);
      this.log.error({ err: (e as Error).message, restartInMs: delay }, "Kafka consumer restart failed; trying again");
      if (!this.stopping) this.restartTimer = setTimeout(() => void this.restart(), delay);
    }
  }

  async connect(): Promise<void> {
    await this.c.connect();
    await this.c.subscribe({ topics: [...this.topics], fromBeginning: this.s.offsetReset === "earliest" });
  }

  /**
   * Commits what was delivered since the last commit. On the timer a failure is retried on the next
   * tick; a `final` commit (drain, rebalance) has no next tick, so it retries here and then says what
   * will be delivered again.
   */
  private commit(final = false): Promise<void> {
    this.committing = this.committing.then(async () => {
      const offsets = this.commits.take();
      if (!offsets.length) return;
      const list = (): string => offsets.map((o) => `${o.partition}:${o.offset}`).join(" ");
      for (let attempt = 1; ; attempt++) {
        try {
          await this.c.commitOffsets(offsets);
          if (final) this.log.info({ offsets: list() }, "offsets committed");
          return;
        } catch (e) {
          if (final && attempt < FINAL_COMMIT_ATTEMPTS) continue;
          this.commits.restore(offsets);
          const err = (e as Error).message;
          if (final) this.log.error({ err, offsets: list() }, "offset commit failed: records after the last committed offsets will be delivered again");
          else this.log.warn({ err, partitions: offsets.length }, "offset commit failed; retrying on the next interval");
          return;
        }
      }
    });
    return this.committing;
  }

  async run(onBatch: (batch: ConsumerBatch) => Promise<void>): Promise<void> {
    this.onBatch = onBatch;
    this.timer = setInterval(() => void this.commit(), this.s.commitIntervalMs);
    // kafkajs has waited for the running batches by then; without this, what they delivered since
    // the last tick would be fetched again from the last commit, by us or by the partition's next owner.
    this.unhook = beforeRejoin(this.groupId, async (member) => {
      if (member === this.memberId) await this.commit(true);
    });
    await this.start(onBatch);
  }

  private async start(onBatch: (batch: ConsumerBatch) => Promise<void>): Promise<void> {
    await this.c.run({
      // kafkajs' auto-commit commits after every batch whatever the interval says; we commit on our own timer.
      autoCommit: false,
      // Offsets are resolved by the route only after the MQTT PUBACK, never by kafkajs.
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.s.partitionsConsumedConcurrently,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        // Fetched during the drain: not published, and left unresolved, so the group resumes from the
        // committed offset. Held until stop(), or kafkajs would fetch the same records again at once.
        if (this.stopping) return this.stopped;
        this.active++;
        try {
          await onBatch({
            topic: batch.topic,
            partition: batch.partition,
            records: batch.messages.map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key,
              value: m.value,
              headers: m.headers ?? {},
              timestamp: m.timestamp,
            })),
            highWatermark: batch.highWatermark,
            resolveOffset: (offset) => {
              resolveOffset(offset);
              this.commits.resolved(batch.topic, batch.partition, offset);
            },
            heartbeat,
            isActive: () => !this.stopping && isRunning() && !isStale(),
          });
          this.crashes = 0;
        } finally {
          if (--this.active === 0) this.idle?.();
        }
      },
    });
  }

  /**
   * The drain. kafkajs' `commitOffsets` does nothing once `stop()` has begun, and `stop()` leaves
   * the group right after the running batches end, so the last commit must come before it: stop
   * taking batches, let the running ones finish (their PUBACKs), commit, and only then stop.
   */
  async disconnect(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.stopping = true;
    if (this.active > 0) await new Promise<void>((r) => (this.idle = r));
    this.idle = undefined;
    await this.commit(true);
    this.unhook?.();
    this.releaseSkipped();
    await this.c.stop();
    await this.c.disconnect();
  }
}
