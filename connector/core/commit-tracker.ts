/**
 * Offsets to commit, per topic-partition: the next offset after the last one delivered. Commits
 * are taken on a timer rather than per batch, so a partition sees at most one commit per interval
 * (Event Hubs allows about four per second per partition).
 */
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to consume, as Kafka commits it. */
  offset: string;
}

export class CommitTracker {
  private pending = new Map<string, TopicPartitionOffset>();

  /** `offset` was delivered; everything before it was too. */
  resolved(topic: string, partition: number, offset: string): void {
    this.pending.set(`${topic}\u0000${partition}`, { topic, partition, offset: (BigInt(offset) + 1n).toString() });
  }

  /** Takes what changed since the last take. Hand it back with `restore` if the commit fails. */
  take(): TopicPartitionOffset[] {
    const out = [...this.pending.values()];
    this.pending.clear();
    return out;
  }

  /** Puts back offsets whose commit failed, unless a newer one arrived meanwhile. */
  restore(offsets: TopicPartitionOffset[]): void {
    for (const o of offsets) {
      const k = `${o.topic}\u0000${o.partition}`;
      if (!this.pending.has(k)) this.pending.set(k, o);
    }
  }

  /** After a rebalance: forget partitions this member no longer owns, so it never commits for them. */
  retain(assigned: { topic: string; partitions: number[] }[]): void {
    const keep = new Set(assigned.flatMap((a) => a.partitions.map((p) => `${a.topic}\u0000${p}`)));
    for (const k of [...this.pending.keys()]) if (!keep.has(k)) this.pending.delete(k);
  }

  get size(): number {
    return this.pending.size;
  }
}
