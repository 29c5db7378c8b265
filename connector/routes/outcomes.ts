/**
 * What happens to a message a route cannot deliver, counted the same way in both directions: it
 * goes to the route's dead-letter target, or is dropped, and the stats and metrics say which and why.
 */
import type { RouteMetrics } from "../metrics";
import type { DeadLetter, DeadLetterSink } from "./dead-letter";
import type { DropReason, PipelineStats } from "./pipeline";

export type UndeliverableKind = Exclude<DropReason, "expired" | "qos0_buffer_full" | "spool_corrupt">;

export class Outcomes {
  constructor(
    private readonly stats: PipelineStats,
    private readonly metrics: RouteMetrics,
  ) {}

  /** Counts a message given up on without a dead letter (an expired message, a full QoS 0 buffer). */
  dropped(reason: DropReason): void {
    this.stats.dropped++;
    this.stats.droppedBy[reason] = (this.stats.droppedBy[reason] ?? 0) + 1;
    this.metrics.dropped(reason);
  }

  /**
   * Sends `letter` to the dead-letter sink (`reason` starts with the kind, as the `dlq-reason`
   * header shows it), and counts the outcome. Resolves once it is stored or given up on.
   */
  async undeliverable(sink: DeadLetterSink | undefined, kind: UndeliverableKind, letter: DeadLetter): Promise<void> {
    const outcome = sink ? await sink.send(letter) : "dropped";
    if (outcome === "stored") {
      this.stats.deadLettered++;
      this.metrics.deadLettered.inc();
    } else {
      this.dropped(kind);
    }
  }
}
