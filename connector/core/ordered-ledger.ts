/**
 * Releases items strictly in the order they were added, once each is completed.
 *
 * Used for MQTT→Kafka PUBACKs (ports/mqtt/puback-deferral.ts): a PUBACK may go out only after its
 * Kafka ack and only after every PUBLISH received before it was acked (MQTT v5 §4.6). Kafka→MQTT
 * offsets do not need it: a fetched batch's offset is resolved once all of its PUBACKs are in
 * (routes/kafka-to-mqtt.ts), and ports/kafka/consumer.ts commits resolved offsets on a timer.
 */
export class OrderedLedger<T> {
  private items: (T | undefined)[] = [];
  private done: boolean[] = [];
  private head = 0; // index in the arrays of the oldest unreleased entry
  private base = 0; // sequence number of items[0]
  private completedCount = 0;

  /** Adds an item; returns its sequence number. */
  add(item: T): number {
    this.items.push(item);
    this.done.push(false);
    return this.base + this.items.length - 1;
  }

  /** Marks `seq` complete and returns the items that became releasable, oldest first. */
  complete(seq: number): T[] {
    const released: T[] = [];
    this.completeEach(seq, (item) => released.push(item));
    return released;
  }

  /**
   * complete(), handing each releasable item to `release` (oldest first) instead of collecting them
   * in an array: the per-message path (one PUBACK per settled message) allocates nothing.
   * Returns how many were released.
   */
  completeEach(seq: number, release: (item: T) => void): number {
    const i = seq - this.base;
    if (i < this.head || i >= this.items.length || this.done[i]) return 0;
    this.done[i] = true;
    this.completedCount++;
    let n = 0;
    while (this.head < this.items.length && this.done[this.head]) {
      const item = this.items[this.head] as T;
      this.items[this.head] = undefined;
      this.head++;
      this.completedCount--;
      n++;
      release(item);
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) this.compact();
    return n;
  }

  /** Entries added but not yet released. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Entries completed but held back by an older incomplete one. */
  get blocked(): number {
    return this.completedCount;
  }

  /** Forgets everything (e.g. the connection the PUBACKs belonged to is gone). Returns what was pending. */
  clear(): T[] {
    const pending = this.items.slice(this.head).filter((x): x is T => x !== undefined);
    this.base += this.items.length;
    this.items = [];
    this.done = [];
    this.head = 0;
    this.completedCount = 0;
    return pending;
  }

  private compact(): void {
    this.items = this.items.slice(this.head);
    this.done = this.done.slice(this.head);
    this.base += this.head;
    this.head = 0;
  }
}
