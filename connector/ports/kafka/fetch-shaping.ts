/**
 * Two changes to how kafkajs 2.2.4 consumers fetch, wrapped on its ConsumerGroup prototype (like
 * kafkajs-rejoin-hook.ts, so they work whenever this module loads):
 *
 * 1. Fetch limits scaled by the compression ratio seen so far. Kafka's fetch limits count bytes as
 *    stored, compressed, and kafkajs decompresses a whole fetch at once. A topic whose batches
 *    compress 50 times (repetitive payloads) put 50 times the limit in memory: the whole preloaded
 *    topic in one benchmark (docs/benchmark.md). The codecs record what they inflate, and each
 *    fetch asks for the configured limits divided by that ratio.
 * 2. Partitions listed in a different order on every fetch. The broker fills a fetch partition by
 *    partition in request order until the total limit is reached, and kafkajs always sends the same
 *    order, so while the first partitions have a backlog the others get nothing. With 32 partitions
 *    of 1 MiB each under a 4 MiB total that is already the case; a scaled-down total would make it
 *    common. The Java client moves partitions that returned data to the end; rotating does the same
 *    for round-robin. Kafka always returns the first batch of the first non-empty partition, even
 *    above the limits, so every partition makes progress when its turn comes first.
 * 3. A record budget per fetch. Each fetched record becomes several JavaScript objects that live
 *    until its PUBACK, and for small records they, not the bytes, fill the heap: a 4 MiB fetch of
 *    100-byte records is about 38,000 records. The byte limits are lowered to what about
 *    MAX_RECORDS_PER_FETCH records of the sizes seen so far take, which changes nothing for records
 *    above about 400 bytes.
 */

import { consumerGroupPrototype } from "./internals";
import { headersSize, type KafkaHeaders } from "../../core/properties";

/** A ratio of two running totals in which older samples count half once the denominator passes a window, so it follows the data. */
class DecayingRatio {
  private num = 0;
  private den = 0;

  constructor(private readonly window: number) {}

  add(numerator: number, denominator: number): void {
    this.num += numerator;
    this.den += denominator;
    if (this.den > this.window) {
      this.num /= 2;
      this.den /= 2;
    }
  }

  /** Undefined until something was added. */
  get value(): number | undefined {
    return this.den > 0 ? this.num / this.den : undefined;
  }
}

/** Decompressed bytes per compressed byte over the recent record batches of this process. */
export class DecompressionRatio {
  private readonly r: DecayingRatio;

  /** Older batches count half once this much compressed input has been seen. */
  constructor(windowBytes = 16 * 1024 * 1024) {
    this.r = new DecayingRatio(windowBytes);
  }

  record(compressedBytes: number, decompressedBytes: number): void {
    this.r.add(decompressedBytes, compressedBytes);
  }

  /** 1 until something was decompressed; never below 1. */
  get value(): number {
    return Math.max(1, this.r.value ?? 1);
  }
}

/**
 * Uncompressed bytes per record, as a record batch stores them, over a consumer's recent fetches.
 * Sampled: the first records of each fetched batch, enough for an average without a pass over all.
 */
export class RecordSize {
  private readonly r = new DecayingRatio(10_000);

  sample(batches: readonly FetchedBatch[]): void {
    for (const b of batches) {
      const n = Math.min(b.messages.length, RECORD_SAMPLE);
      let bytes = 0;
      for (let i = 0; i < n; i++) bytes += storedSize(b.messages[i]!);
      if (n > 0) this.r.add(bytes, n);
    }
  }

  /** Undefined until a record was seen. */
  get value(): number | undefined {
    return this.r.value;
  }
}

/** Records per fetched batch that RecordSize looks at. */
const RECORD_SAMPLE = 32;
/** A record's framing in a v2 batch: length, attributes, timestamp and offset deltas, key and value lengths, header count. */
const RECORD_FRAMING = 12;

export interface FetchedRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: KafkaHeaders;
}

export interface FetchedBatch {
  messages: readonly FetchedRecord[];
}

function storedSize(m: FetchedRecord): number {
  const n = RECORD_FRAMING + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  return m.headers ? n + headersSize(m.headers, 2) : n;
}

/**
 * Shared by the codecs (which record) and every consumer of the process (which read). Process-wide,
 * so an lz4 topic also shrinks the fetches of an uncompressed topic read by the same connector
 * (the safe direction). The codecs cannot tell which fetch they inflate for without
 * AsyncLocalStorage, and on Node 20 using it once makes every await in the process about three
 * times as expensive (75 → 255 ns, measured), a cost paid per message.
 */
export const decompressionRatio = new DecompressionRatio();

export interface FetchLimits {
  maxBytes: number;
  maxBytesPerPartition: number;
}

/** Below this a fetch is all round trip; Kafka returns an oversized first batch anyway. */
export const MIN_FETCH_BYTES = 64 * 1024;

/**
 * Records a fetch should hold at most. 1 MiB of 100-byte records, about this many, took the
 * benchmark's Kafka→MQTT peak RSS from 216–221 MB to 170–177 MB at about the same CPU per message
 * (docs/benchmark.md, fifth round); a fetch cycle of this many records still lasts a third of a
 * second at 30,000 msg/s, so the round trip between fetches stays negligible.
 */
export const MAX_RECORDS_PER_FETCH = 10_000;

/**
 * The configured limits, divided by the compression ratio so that a fetch decompresses to about the
 * configured size, and lowered further to about MAX_RECORDS_PER_FETCH records of `recordBytes`
 * (uncompressed bytes per record) when that is known.
 */
export function scaledFetchLimits(configured: FetchLimits, ratio: number, recordBytes?: number): FetchLimits {
  const r = Math.max(1, ratio);
  const budget = recordBytes !== undefined && recordBytes > 0 ? Math.min(configured.maxBytes, MAX_RECORDS_PER_FETCH * recordBytes) : configured.maxBytes;
  const maxBytes = Math.max(MIN_FETCH_BYTES, Math.floor(budget / r));
  const maxBytesPerPartition = Math.min(maxBytes, Math.max(MIN_FETCH_BYTES, Math.floor(configured.maxBytesPerPartition / r)));
  return { maxBytes, maxBytesPerPartition };
}

/** `list` rotated left by `by` places. */
export function rotate<T>(list: readonly T[], by: number): T[] {
  if (list.length < 2) return [...list];
  const k = ((by % list.length) + list.length) % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

interface TopicPartitions {
  topic: string;
  partitions: number[];
}

interface ConsumerGroupLike extends FetchLimits {
  fetch(nodeId: number): Promise<FetchedBatch[]>;
  filterPartitionsByNode(nodeId: number, topicPartitions: TopicPartitions[]): TopicPartitions[];
}

/** Per consumer: the limits it was created with, and the size of the records it fetched. */
const shaping = new WeakMap<object, { configured: FetchLimits; recordSize: RecordSize }>();
/** Fetches per consumer and broker: each broker's fetcher calls on its own, so one count per broker keeps every rotation step. */
const fetchCounts = new WeakMap<object, Map<number, number>>();

function install(): boolean {
  try {
    const proto = consumerGroupPrototype<ConsumerGroupLike>();
    const fetch = proto?.fetch;
    const filter = proto?.filterPartitionsByNode;
    if (!proto || typeof fetch !== "function" || typeof filter !== "function") return false;
    proto.fetch = async function (this: ConsumerGroupLike, nodeId: number): Promise<FetchedBatch[]> {
      let s = shaping.get(this);
      if (!s) shaping.set(this, (s = { configured: { maxBytes: this.maxBytes, maxBytesPerPartition: this.maxBytesPerPartition }, recordSize: new RecordSize() }));
      Object.assign(this, scaledFetchLimits(s.configured, decompressionRatio.value, s.recordSize.value));
      const batches = await fetch.call(this, nodeId);
      s.recordSize.sample(batches);
      return batches;
    };
    proto.filterPartitionsByNode = function (this: ConsumerGroupLike, nodeId: number, topicPartitions: TopicPartitions[]): TopicPartitions[] {
      let counts = fetchCounts.get(this);
      if (!counts) fetchCounts.set(this, (counts = new Map()));
      const n = counts.get(nodeId) ?? 0;
      counts.set(nodeId, n + 1);
      const own = filter.call(this, nodeId, topicPartitions);
      return rotate(own, n).map(({ topic, partitions }) => ({ topic, partitions: rotate(partitions, n) }));
    };
    return true;
  } catch {
    return false;
  }
}

let installed: boolean | undefined;

/** Wraps the fetch once (seam.ts); false for another kafkajs version: fetches then keep kafkajs' own limits and order. */
export function installFetchShaping(): boolean {
  return (installed ??= install());
}
