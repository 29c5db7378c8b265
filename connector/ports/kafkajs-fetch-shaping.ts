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
 */

import { consumerGroupPrototype } from "./kafkajs-internals";

/** Decompressed bytes per compressed byte over the recent record batches of this process. */
export class DecompressionRatio {
  private inBytes = 0;
  private outBytes = 0;

  /** Older batches count half once this much compressed input has been seen, so the ratio follows the data. */
  constructor(private readonly windowBytes = 16 * 1024 * 1024) {}

  record(compressedBytes: number, decompressedBytes: number): void {
    this.inBytes += compressedBytes;
    this.outBytes += decompressedBytes;
    if (this.inBytes > this.windowBytes) {
      this.inBytes /= 2;
      this.outBytes /= 2;
    }
  }

  /** 1 until something was decompressed; never below 1. */
  get value(): number {
    return this.inBytes > 0 ? Math.max(1, this.outBytes / this.inBytes) : 1;
  }
}

/** Shared by the codecs (which record) and every consumer of the process (which read). */
export const decompressionRatio = new DecompressionRatio();

export interface FetchLimits {
  maxBytes: number;
  maxBytesPerPartition: number;
}

/** Below this a fetch is all round trip; Kafka returns an oversized first batch anyway. */
export const MIN_FETCH_BYTES = 64 * 1024;

/** The configured limits, divided by the compression ratio, so that a fetch decompresses to about the configured size. */
export function scaledFetchLimits(configured: FetchLimits, ratio: number): FetchLimits {
  const r = Math.max(1, ratio);
  const maxBytes = Math.max(MIN_FETCH_BYTES, Math.floor(configured.maxBytes / r));
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
  fetch(nodeId: number): Promise<unknown[]>;
  filterPartitionsByNode(nodeId: number, topicPartitions: TopicPartitions[]): TopicPartitions[];
}

const configuredLimits = new WeakMap<object, FetchLimits>();
/** Fetches per consumer and broker: each broker's fetcher calls on its own, so one count per broker keeps every rotation step. */
const fetchCounts = new WeakMap<object, Map<number, number>>();

function install(): boolean {
  try {
    const proto = consumerGroupPrototype<ConsumerGroupLike>();
    const fetch = proto?.fetch;
    const filter = proto?.filterPartitionsByNode;
    if (!proto || typeof fetch !== "function" || typeof filter !== "function") return false;
    proto.fetch = function (this: ConsumerGroupLike, nodeId: number): Promise<unknown[]> {
      let configured = configuredLimits.get(this);
      if (!configured) configuredLimits.set(this, (configured = { maxBytes: this.maxBytes, maxBytesPerPartition: this.maxBytesPerPartition }));
      Object.assign(this, scaledFetchLimits(configured, decompressionRatio.value));
      return fetch.call(this, nodeId);
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

/** Whether the wrappers are in place (false for another kafkajs version: fetches then keep kafkajs' own limits and order). */
export const fetchShapingInstalled = install();
