/**
 * Decides which of a stream of repeated errors to log. A refused login or a bad certificate fails
 * the same way on every retry of every client; the first occurrence of each distinct error is
 * logged, repeats within `windowMs` are only counted, and the next one after the window is logged
 * with how many were held back. Counters and metrics still see every occurrence.
 */
export class RepeatLimiter {
  private readonly seen = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    /** Distinct errors remembered; the oldest is forgotten beyond this. */
    private readonly maxKeys = 256,
  ) {}

  /** `log` false: count it only. `repeated`: occurrences held back since the last logged one. */
  check(key: string): { log: boolean; repeated: number } {
    const t = this.now();
    const entry = this.seen.get(key);
    if (entry && t - entry.loggedAt < this.windowMs) {
      entry.suppressed++;
      return { log: false, repeated: 0 };
    }
    const repeated = entry?.suppressed ?? 0;
    this.seen.delete(key);
    this.seen.set(key, { loggedAt: t, suppressed: 0 });
    if (this.seen.size > this.maxKeys) this.seen.delete(this.seen.keys().next().value!);
    return { log: true, repeated };
  }
}
