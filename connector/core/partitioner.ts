import type { PartitionStrategy } from "../config/schema";

export type KeyHash = (key: Buffer) => number;

/** The Kafka record key a strategy asks for; null means "no key". */
export function partitionKey(
  strategy: PartitionStrategy,
  mqttTopic: string,
  userProperties: Readonly<Record<string, string | string[]>> | undefined,
  keyProperty: string | undefined,
): Buffer | null {
  if (strategy === "topic") return Buffer.from(mqttTopic, "utf8");
  if (strategy === "property" && keyProperty && userProperties) {
    const v = userProperties[keyProperty];
    const first = Array.isArray(v) ? v[0] : v;
    // A message without the property has no key and falls back to round robin (documented).
    if (first !== undefined) return Buffer.from(first, "utf8");
  }
  return null;
}

/**
 * Chooses partitions. Keyed records hash like the Java client (murmur2, positive, modulo count) so
 * other producers writing the same key land on the same partition; unkeyed records go round robin,
 * except with `static`, which pins each instance to partition `instanceIndex mod count`.
 */
export class PartitionChooser {
  private next = new Map<string, number>();
  constructor(
    private readonly strategy: PartitionStrategy,
    private readonly instanceIndex: number,
    private readonly hash: KeyHash,
  ) {}

  choose(kafkaTopic: string, partitionCount: number, key: Buffer | null): number {
    if (partitionCount <= 0) throw new RangeError(`partition count of ${kafkaTopic} must be positive, got ${partitionCount}`);
    if (this.strategy === "static") return this.instanceIndex % partitionCount;
    if (key !== null) return (this.hash(key) & 0x7fffffff) % partitionCount;
    const n = this.next.get(kafkaTopic) ?? this.instanceIndex; // instances start apart to spread load
    this.next.set(kafkaTopic, (n + 1) % partitionCount);
    return n % partitionCount;
  }
}
