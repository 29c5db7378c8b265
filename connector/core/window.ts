/** Counts work in flight and lets callers wait for room or for everything to finish. */
export class InFlightWindow {
  private count = 0;
  private waiters: (() => void)[] = [];

  constructor(private limit: number) {}

  setLimit(limit: number): void {
    this.limit = Math.max(1, limit);
    this.wake();
  }

  get size(): number {
    return this.count;
  }

  /** Takes a slot if one is free, without waiting (and without allocating a promise). */
  tryAcquire(): boolean {
    if (this.count >= this.limit) return false;
    this.count++;
    return true;
  }

  /** Resolves when a slot is free and takes it. */
  async acquire(): Promise<void> {
    while (this.count >= this.limit) await new Promise<void>((r) => this.waiters.push(r));
    this.count++;
  }

  release(): void {
    this.count--;
    this.wake();
  }

  /** Resolves once nothing is in flight. */
  async idle(): Promise<void> {
    while (this.count > 0) await new Promise<void>((r) => this.waiters.push(r));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
