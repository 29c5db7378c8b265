/**
 * The patches and hooks in this folder reach into kafkajs internals, which change between
 * releases; they apply only to the version they were checked against (kafkajs is pinned to it).
 */
export const CHECKED_KAFKAJS_VERSION = "2.2.4";

export function isCheckedKafkajs(): boolean {
  try {
    return (require("kafkajs/package.json") as { version?: string }).version === CHECKED_KAFKAJS_VERSION;
  } catch {
    return false;
  }
}

/** kafkajs' ConsumerGroup prototype, for wrapping its methods; undefined on another version. */
export function consumerGroupPrototype<T extends object>(): T | undefined {
  if (!isCheckedKafkajs()) return undefined;
  return (require("kafkajs/src/consumer/consumerGroup") as { prototype: T }).prototype;
}
