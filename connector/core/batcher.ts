/** Batch cutting by count, bytes and age. Pure: the caller supplies the clock and owns the timer. */
export interface BatchLimits {
  maxMessages: number;
  maxBytes: number;
  /** How long the oldest message may wait; 0 means cut as soon as the sender is free. */
  lingerMs: number;
}

export interface Batch<T> {
  items: T[];
  bytes: number;
  /** When the first item was added. */
  openedAt: number;
}

/** What add() returns when no batch is complete, the usual case: one shared, frozen empty array. */
const NONE: readonly never[] = Object.freeze([]);

export class BatchAccumulator<T> {
  private current: Batch<T> | undefined;
  constructor(readonly limits: BatchLimits) {}

  /**
   * Adds an item of `bytes` size. Returns the batches that are now complete (zero, one or two:
   * the open batch if this item would overflow it, and this item's batch if it alone fills it).
   * An item larger than maxBytes is the caller's to reject before calling this.
   */
  add(item: T, bytes: number, now: number): readonly Batch<T>[] {
    let cut: Batch<T>[] | undefined;
    if (this.current && this.current.bytes + bytes > this.limits.maxBytes) {
      cut = [this.current];
      this.current = undefined;
    }
    if (!this.current) this.current = { items: [], bytes: 0, openedAt: now };
    this.current.items.push(item);
    this.current.bytes += bytes;
    if (this.current.items.length >= this.limits.maxMessages || this.current.bytes >= this.limits.maxBytes) {
      (cut ??= []).push(this.current);
      this.current = undefined;
    }
    return cut ?? NONE;
  }

  /** When the open batch must be cut, or undefined when nothing is open. */
  deadline(): number | undefined {
    return this.current ? this.current.openedAt + this.limits.lingerMs : undefined;
  }

  isDue(now: number): boolean {
    const d = this.deadline();
    return d !== undefined && now >= d;
  }

  /** Cuts and returns the open batch, if any. */
  flush(): Batch<T> | undefined {
    const b = this.current;
    this.current = undefined;
    return b;
  }

  get pendingCount(): number {
    return this.current?.items.length ?? 0;
  }

  get pendingBytes(): number {
    return this.current?.bytes ?? 0;
  }
}
