/**
 * Per-partition bookkeeping for Kafka→MQTT batches that are handed off before they are delivered.
 * A route publishes a batch and returns at once, so the next fetch overlaps the wait for PUBACKs;
 * each batch's delivery promise is chained behind the previous one of its partition, so offsets
 * are reported in order and never past a message still unacknowledged.
 *
 * A failed delivery reports the batch's first offset (fetch again from there) and starts a new
 * epoch for the partition: batches handed off after it in the old epoch are ignored when they
 * settle, because they will be fetched and published again.
 */
export interface DeliveryCallbacks {
  /** Everything of `partition` up to and including `lastOffset` is delivered. Called in offset order. */
  delivered(partition: number, lastOffset: string): void;
  /** A batch failed: fetch `partition` again from `firstOffset`. Called at most once per epoch. */
  failed(partition: number, firstOffset: string, error: unknown): void;
}

interface Chain {
  tail: Promise<void>;
  epoch: number;
}

export class DeliveryChains {
  private readonly chains = new Map<number, Chain>();
  private pending = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly cb: DeliveryCallbacks) {}

  private chain(partition: number): Chain {
    let c = this.chains.get(partition);
    if (!c) this.chains.set(partition, (c = { tail: Promise.resolve(), epoch: 0 }));
    return c;
  }

  /** The partition's current epoch; a batch started in an older one should stop publishing. */
  epoch(partition: number): number {
    return this.chain(partition).epoch;
  }

  /** Records `firstOffset`..`lastOffset` of `partition` are published; `done` settles on their delivery. */
  add(partition: number, firstOffset: string, lastOffset: string, done: Promise<void>): void {
    const c = this.chain(partition);
    const epoch = c.epoch;
    this.pending++;
    done.catch(() => undefined); // settled below, in order; this only marks an early rejection handled
    c.tail = c.tail
      .then(() => done)
      .then(
        () => {
          if (c.epoch === epoch) this.cb.delivered(partition, lastOffset);
        },
        (e: unknown) => {
          if (c.epoch !== epoch) return;
          c.epoch++;
          this.cb.failed(partition, firstOffset, e);
        },
      )
      .finally(() => {
        if (--this.pending === 0) this.wake();
      });
  }

  /** After a group rejoin: whatever is still outstanding belongs to the old assignment. */
  invalidate(): void {
    for (const c of this.chains.values()) c.epoch++;
  }

  /** Batches handed off and not yet settled. */
  get outstanding(): number {
    return this.pending;
  }

  /** Resolves true once nothing is outstanding, or false after `timeoutMs` (Infinity: no limit). */
  async settled(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0) return true;
    const idle = (async () => {
      while (this.pending > 0) await new Promise<void>((r) => this.waiters.push(r));
      return true as const;
    })();
    if (!Number.isFinite(timeoutMs)) return idle;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    try {
      return await Promise.race([idle, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
