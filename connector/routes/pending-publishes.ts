import type { InFlightWindow } from "../core/window";

/**
 * The publishes of one batch, counted rather than kept as an array of promises (a fetched batch can
 * hold thousands). Each frees its window slot when it settles; the first failure fails the batch.
 */
export class PendingPublishes {
  private pending = 0;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly window: InFlightWindow) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** A publish that holds one slot of the window. */
  add(publish: Promise<void>): void {
    this.pending++;
    publish.then(
      () => this.settle(),
      (error: unknown) => {
        this.failure ??= { error };
        this.settle();
      },
    );
  }

  /** Call once every publish is added: resolves when all are done, rejects at the first failure. */
  async all(): Promise<void> {
    if (this.pending > 0 && !this.failure) await new Promise<void>((r) => (this.wake = r));
    if (this.failure) throw this.failure.error;
  }

  private settle(): void {
    this.window.release();
    this.pending--;
    if (this.wake && (this.pending === 0 || this.failure)) {
      const w = this.wake;
      this.wake = undefined;
      w();
    }
  }
}
