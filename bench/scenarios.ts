/**
 * The scenario matrix. Not the full cross product (that would be 2 × 2 × 3 × 2 × 3 × 2 = 144 runs):
 * one baseline per direction (QoS 1, 100 B, default batching, no compression, one subscriber), and
 * from there one dimension changed at a time, so every value of every dimension is measured once.
 */
import { MAX_BATCH_BYTES } from "../connector/routes/limits";

export type Direction = "m2k" | "k2m";
export type Compression = "none" | "gzip" | "lz4";

export interface Batching {
  enabled: boolean;
  latencyMs: number;
  maxMessages: number;
  maxBytes: number;
}

/** The schema defaults (connector/config/schema.ts): no lingering, 100,000 messages, 1,000,000 bytes. */
export const DEFAULT_BATCHING: Batching = { enabled: false, latencyMs: 5, maxMessages: 100_000, maxBytes: 1_000_000 };
/** Tuned for throughput: linger up to 20 ms so a batch fills, at most 10,000 records. */
export const TUNED_BATCHING: Batching = { enabled: true, latencyMs: 20, maxMessages: 10_000, maxBytes: 1_000_000 };

export interface Scenario {
  id: string;
  direction: Direction;
  qos: 0 | 1;
  size: number;
  batching: "default" | "tuned";
  compression: Compression;
  /** mqttToKafka: MQTT clients in the shared subscription (1 = a plain subscription). */
  subscribers: number;
  /** Messages in the flat-out pass. */
  count: number;
  /**
   * mqttToKafka: a templated kafkaTopic (`<prefix>-${inputTopic.3}`, with a kafkaTopics list)
   * spreading the messages over this many Kafka topics, by an MQTT topic level the load generator
   * cycles through. Absent: one fixed topic.
   */
  fanout?: number;
  /**
   * mqttToKafka: run the connector with a disk spool in this mode (`--spool-mode always`): every
   * message goes through the disk. Its scenario also measures the replay after an outage.
   */
  spool?: "always";
}

/** The fixed-topic scenario a fan-out scenario is compared with (issue 18: at least 90 % of its rate). */
export const FANOUT_BASELINE = "m2k-q1-100b";
/** The no-spool scenario a spool scenario is compared with (issue 17: at least 60 % of its rate). */
export const SPOOL_BASELINE = "m2k-q1-100b";

/** The connector's Receive Maximum per MQTT client (its default, `--receive-maximum`). */
export const RECEIVE_MAXIMUM = 1000;

export function batchingOf(s: Scenario): Batching {
  return s.batching === "tuned" ? TUNED_BATCHING : DEFAULT_BATCHING;
}

/** The latency budget of the p99 target: the batch linger plus 25 ms. */
export function latencyBudgetMs(s: Scenario): number {
  return batchingOf(s).latencyMs + 25;
}

/**
 * Records per request for ceiling 2, the raw producer: the same limits that cut the connector's
 * batches. Count and bytes (the connector sizes a record as payload + 64 bytes), and for QoS 1 the
 * most messages the connector can hold unacknowledged, Receive Maximum × subscribers, since a batch
 * cannot be larger than what is in flight.
 */
export function ceilingBatch(s: Scenario): number {
  const b = batchingOf(s);
  const bySize = Math.floor(Math.min(b.maxBytes, MAX_BATCH_BYTES) / (s.size + 64));
  const byInFlight = s.qos === 1 ? RECEIVE_MAXIMUM * s.subscribers : Infinity;
  return Math.max(1, Math.min(b.maxMessages, bySize, byInFlight));
}

export function describe(s: Scenario): string {
  const size = s.size >= 1024 ? `${s.size / 1024} KB` : `${s.size} B`;
  const parts = [s.direction === "m2k" ? "MQTT→Kafka" : "Kafka→MQTT", `QoS ${s.qos}`, size];
  if (s.direction === "m2k") parts.push(`batching ${s.batching}`);
  parts.push(s.compression === "none" ? "no compression" : s.compression);
  if (s.direction === "m2k") parts.push(s.subscribers > 1 ? `${s.subscribers} shared subs` : "1 sub");
  if (s.fanout) parts.push(`templated kafkaTopic over ${s.fanout} topics`);
  if (s.spool) parts.push(`disk spool, mode ${s.spool}`);
  return parts.join(", ");
}

const base = { batching: "default", compression: "none", subscribers: 1 } as const;

/**
 * Messages per flat-out pass, by payload size: a few seconds each on two shared cores. MQTT→Kafka
 * QoS 1 runs two rounds (see bench/run.ts), so its passes are shorter; the QoS 0 flood keeps
 * 150,000, more than its 64 MiB buffer holds at 100 B, so the bench shows what it sheds.
 */
function countFor(size: number, quick: boolean, shorter: boolean): number {
  // counts for 100 B, 1 KB and 16 KB
  const [small, medium, large] = shorter ? [80_000, 50_000, 12_000] : [150_000, 80_000, 25_000];
  const n = size <= 100 ? small : size <= 1024 ? medium : large;
  return quick ? Math.round(n * 0.4) : n;
}

export function scenarios(quick: boolean): Scenario[] {
  const m2k = (id: string, over: Partial<Scenario>): Scenario => ({ id, direction: "m2k", qos: 1, size: 100, ...base, count: countFor(over.size ?? 100, quick, (over.qos ?? 1) === 1), ...over });
  const k2m = (id: string, over: Partial<Scenario>): Scenario => ({ id, direction: "k2m", qos: 1, size: 100, ...base, count: countFor(over.size ?? 100, quick, false), ...over });
  const all: Scenario[] = [
    m2k("m2k-q1-100b", {}),
    m2k("m2k-q1-100b-fanout3", { fanout: 3 }),
    m2k("m2k-q1-100b-spool", { spool: "always" }),
    m2k("m2k-q0-100b", { qos: 0 }),
    m2k("m2k-q1-1kb", { size: 1024 }),
    m2k("m2k-q1-16kb", { size: 16384 }),
    m2k("m2k-q1-100b-tuned", { batching: "tuned" }),
    m2k("m2k-q1-16kb-tuned", { size: 16384, batching: "tuned" }),
    m2k("m2k-q1-1kb-gzip", { size: 1024, compression: "gzip" }),
    m2k("m2k-q1-1kb-lz4", { size: 1024, compression: "lz4" }),
    m2k("m2k-q1-100b-3subs", { subscribers: 3 }),
    k2m("k2m-q1-100b", {}),
    k2m("k2m-q0-100b", { qos: 0 }),
    k2m("k2m-q1-1kb", { size: 1024 }),
    k2m("k2m-q1-16kb", { size: 16384 }),
    k2m("k2m-q1-1kb-lz4", { size: 1024, compression: "lz4" }),
  ];
  return quick ? all.filter((s) => s.id === "m2k-q1-100b" || s.id === "k2m-q1-100b") : all;
}
