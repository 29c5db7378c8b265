/** The one shape both directions have, so the connector runs a list of pipelines without asking which is which. */
import type { Direction } from "../config/routes";

/**
 * `unroutable`: a template could not be filled, or filled in a topic that cannot be used (an
 * illegal name, one outside the route's kafkaTopics, a Kafka topic that does not exist, an MQTT
 * topic with a wildcard or an empty level).
 */
export type DropReason = "oversize" | "invalid" | "rejected" | "refused" | "unroutable" | "expired" | "qos0_buffer_full" | "spool_corrupt";

/** The same counters, with the same names, in both directions. */
export interface PipelineStats {
  /** Taken from the source broker. */
  received: number;
  /** Acknowledged by the target broker. */
  delivered: number;
  /** Written to the route's dead-letter target. */
  deadLettered: number;
  /** Given up on, in all and by reason. */
  dropped: number;
  droppedBy: Partial<Record<DropReason, number>>;
  /** Produce requests (mqttToKafka) or fetched batches (kafkaToMqtt) completed. */
  batches: number;
}

export interface SpoolState {
  /** Messages go to disk and sends come from there. */
  spooling: boolean;
  records: number;
  bytes: number;
  oldestAgeSeconds: number;
  /** The spool is at its byte budget: spooling routes take no new messages. */
  full: boolean;
}

export function emptyStats(): PipelineStats {
  return { received: 0, delivered: 0, deadLettered: 0, dropped: 0, droppedBy: {}, batches: 0 };
}

export interface Pipeline {
  /** `<topic map>/<route>`. */
  readonly key: string;
  /** The route's name. */
  readonly name: string;
  readonly direction: Direction;
  readonly stats: PipelineStats;
  /** Running with every connection up (the route's part of /readyz). */
  readonly ready: boolean;
  /** Messages taken and not yet acknowledged to their source. */
  readonly inFlight: number;
  /** Bytes held for the target beyond what is in flight (the QoS 0 buffer); 0 where there is none. */
  readonly buffered: number;
  /** mqttToKafka with a disk spool: what it holds (metrics and /readyz). */
  spoolState?(): SpoolState | undefined;
  /** Connects and starts taking messages. */
  start(): Promise<void>;
  /**
   * Stops intake and delivers what was taken. `leave`: first give up the subscription and forward
   * what the broker had queued for it (a removed route, a changed filter, a shared group left).
   */
  drain(opts?: { leave?: boolean }): Promise<void>;
  /** Gives up on retries (the drain timed out): what is unacknowledged is redelivered by the source later. */
  abort(): void;
  /** Closes the connections; `endSession` also ends persistent sessions (a route that is gone). */
  disconnect(opts?: { endSession?: boolean }): Promise<void>;
}
