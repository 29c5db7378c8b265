/**
 * The patches and hooks in this folder reach into kafkajs internals, which change between
 * releases; they apply only to the version they were checked against (kafkajs is pinned to it).
 */
export const CHECKED_KAFKAJS_VERSION = "2.2.4";

/** The installed kafkajs version, read without loading kafkajs. */
export function kafkajsVersion(): string {
  try {
    return (require("kafkajs/package.json") as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function isCheckedKafkajs(): boolean {
  return kafkajsVersion() === CHECKED_KAFKAJS_VERSION;
}

/** kafkajs' ConsumerGroup prototype, for wrapping its methods; undefined on another version. */
export function consumerGroupPrototype<T extends object>(): T | undefined {
  if (!isCheckedKafkajs()) return undefined;
  return (require("kafkajs/src/consumer/consumerGroup") as { prototype: T }).prototype;
}
