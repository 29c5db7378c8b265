import type { Consumer } from "kafkajs";
import type { Logger } from "../logger";
import { CommitTracker } from "../core/commit-tracker";
import { beforeRejoin } from "./kafkajs-rejoin-hook";
import type { ConsumerBatch, KafkaConsumerPort } from "./types";

export interface ConsumerSettings {
  /** How often resolved offsets are committed; Event Hubs allows about 4 commits/s per partition. */
  commitIntervalMs: number;
  partitionsConsumedConcurrently: number;
  offsetReset: "earliest" | "latest";
}

const FINAL_COMMIT_ATTEMPTS = 3;

/**
 * A kafkajs consumer as a kafkaToMqtt route sees it. The route resolves a batch's offsets once its
 * PUBACKs are in; they are committed on a timer (Event Hubs allows about 4 commits/s per partition),
 * and also whenever partitions may be given up: on the drain and before every rebalance, so that a
 * clean stop or a group change (a rolling update, a scale-out) repeats nothing.
 */
export class KafkaConsumerAdapter implements KafkaConsumerPort {
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

  constructor(
    private readonly c: Consumer,
    private readonly groupId: string,
    private readonly topic: string,
    private readonly s: ConsumerSettings,
    private readonly log: Logger,
  ) {
    this.stopped = new Promise<void>((r) => (this.releaseSkipped = r));
    c.on(c.events.GROUP_JOIN, (e) => {
      this.memberId = e.payload.memberId;
      // After a rebalance, never commit for partitions another member now owns.
      this.commits.retain(Object.entries(e.payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions })));
    });
  }

  async connect(): Promise<void> {
    await this.c.connect();
    await this.c.subscribe({ topics: [this.topic], fromBeginning: this.s.offsetReset === "earliest" });
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
    this.timer = setInterval(() => void this.commit(), this.s.commitIntervalMs);
    // kafkajs has waited for the running batches by then; without this, what they delivered since
    // the last tick would be fetched again from the last commit, by us or by the partition's next owner.
    this.unhook = beforeRejoin(this.groupId, async (member) => {
      if (member === this.memberId) await this.commit(true);
    });
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
