import type { Consumer } from "kafkajs";
import type { Logger } from "../logger";
import { CommitTracker } from "../core/commit-tracker";
import { DeliveryChains } from "../core/delivery-chains";
import { beforeRejoin } from "./kafkajs-rejoin-hook";
import type { ConsumerBatch, KafkaConsumerPort } from "./types";

export interface ConsumerSettings {
  /** How often delivered offsets are committed; Event Hubs allows about 4 commits/s per partition. */
  commitIntervalMs: number;
  partitionsConsumedConcurrently: number;
  sessionTimeoutMs: number;
  offsetReset: "earliest" | "latest";
}

const FINAL_COMMIT_ATTEMPTS = 3;
/** After a failed delivery, the partition's next batch waits this long (the MQTT side is in trouble). */
const RETRY_DELAY_MS = 1000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A kafkajs consumer as the route sees it. The route publishes a batch and hands it off with a
 * promise of its delivery, then returns, so kafkajs fetches the next batch while PUBACKs are still
 * coming in: kafkajs fetches again only once every batch of the previous fetch has returned, and
 * waiting for PUBACKs there doubled the latency under load. kafkajs' own resolved offset moves on
 * at hand-off (that is its fetch position; auto-commit is off), while what we commit moves on only
 * as deliveries settle, in order, per partition (DeliveryChains).
 *
 * Offsets are committed before anything is given up: on the drain (SIGTERM, reload) and, through
 * the rejoin hook, before every rebalance.
 */
export class KafkaConsumerAdapter implements KafkaConsumerPort {
  private readonly commits = new CommitTracker();
  private readonly chains: DeliveryChains;
  private timer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  /** Set by the drain: batches fetched from then on are not processed. */
  private stopping = false;
  /** Batches being processed, and who waits for none. */
  private active = 0;
  private idle: (() => void) | undefined;
  private readonly retryAfter = new Map<number, number>();
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
    this.chains = new DeliveryChains({
      delivered: (partition, offset) => this.commits.resolved(this.topic, partition, offset),
      failed: (partition, offset, error) => {
        this.retryAfter.set(partition, Date.now() + RETRY_DELAY_MS);
        this.log.warn({ partition, offset, err: (error as Error).message }, "delivery failed; fetching the partition again from the first undelivered offset");
        try {
          this.c.seek({ topic: this.topic, partition, offset });
        } catch (e) {
          // Not running (stopping): nothing is committed past the failure, so a restart resumes there.
          this.log.warn({ partition, err: (e as Error).message }, "could not rewind the partition");
        }
      },
    });
    c.on(c.events.GROUP_JOIN, (e) => {
      this.memberId = e.payload.memberId;
      // Never commit for partitions another member now owns, nor for deliveries of the old assignment.
      this.commits.retain(Object.entries(e.payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions })));
      this.chains.invalidate();
    });
  }

  async connect(): Promise<void> {
    await this.c.connect();
    await this.c.subscribe({ topics: [this.topic], fromBeginning: this.s.offsetReset === "earliest" });
  }

  /**
   * Commits what was delivered since the last commit. On the timer a failure is retried on the next
   * tick; a `final` commit (drain, rebalance) has no next tick, so it retries here and then says
   * what will be delivered again.
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

  /** Waits (bounded) for outstanding deliveries, then commits them. */
  private async settleAndCommit(timeoutMs: number, why: string): Promise<void> {
    const n = this.chains.outstanding;
    if (n > 0) this.log.debug({ batches: n, why }, "waiting for outstanding deliveries");
    if (!(await this.chains.settled(timeoutMs))) {
      this.log.warn({ outstanding: this.chains.outstanding, timeoutMs, why }, "deliveries still outstanding; they will be delivered again");
    } else if (n > 0) {
      this.log.debug({ batches: n, why }, "outstanding deliveries settled");
    }
    await this.commit(true);
  }

  async run(onBatch: (batch: ConsumerBatch) => Promise<void>): Promise<void> {
    this.timer = setInterval(() => void this.commit(), this.s.commitIntervalMs);
    // Half the session timeout: a member that waits longer is thrown out of the group anyway.
    this.unhook = beforeRejoin(this.groupId, async (member) => {
      if (member === this.memberId) await this.settleAndCommit(this.s.sessionTimeoutMs / 2, "rebalance");
    });
    await this.c.run({
      // kafkajs' auto-commit commits after every batch whatever the interval says; we commit on our own timer.
      autoCommit: false,
      // The route says how far it got; kafkajs never resolves a whole batch on its own.
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.s.partitionsConsumedConcurrently,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        // Fetched before the drain began: not published; the group resumes from the committed offset.
        if (this.stopping) return;
        const { partition } = batch;
        const wait = (this.retryAfter.get(partition) ?? 0) - Date.now();
        if (wait > 0) await sleep(wait);
        const epoch = this.chains.epoch(partition);
        this.active++;
        try {
          await onBatch({
            topic: batch.topic,
            partition,
            records: batch.messages.map((m) => ({
              topic: batch.topic,
              partition,
              offset: m.offset,
              key: m.key,
              value: m.value,
              headers: m.headers ?? {},
              timestamp: m.timestamp,
            })),
            highWatermark: batch.highWatermark,
            handOff: (firstOffset, lastOffset, delivered) => {
              resolveOffset(lastOffset); // the fetch position only: kafkajs commits nothing itself
              this.chains.add(partition, firstOffset, lastOffset, delivered);
            },
            heartbeat,
            isActive: () => !this.stopping && isRunning() && !isStale() && this.chains.epoch(partition) === epoch,
          });
        } finally {
          if (--this.active === 0) this.idle?.();
        }
      },
    });
  }

  /**
   * The drain. kafkajs' `commitOffsets` does nothing once `stop()` has begun, and `stop()` leaves
   * the group as soon as the running batches end, so the last commit must come before it: stop
   * taking batches, let the running ones and every handed-off delivery finish, commit, then stop.
   * The connector's drain timeout bounds the wait.
   */
  async disconnect(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopping = true;
    if (this.active > 0) await new Promise<void>((r) => (this.idle = r));
    this.idle = undefined;
    await this.settleAndCommit(Infinity, "drain");
    this.unhook?.();
    await this.c.stop();
    await this.c.disconnect();
  }
}
