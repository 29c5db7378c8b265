import type { KeyHash } from "../../core/partitioner";
import { isCheckedKafkajs } from "./internals";

/**
 * Keys hashed as the Java client and librdkafka's murmur2_random do, so a key lands on the same
 * partition whoever produces it. kafkajs has the Java-compatible murmur2 (its DefaultPartitioner
 * uses it) outside its public API, so it is taken only from the version it was checked in, and
 * checked against values printed by the Java client before it is used.
 */
// Utils.murmur2(key.getBytes(UTF_8)) from kafka-clients 3.9.1, as in test/unit/partitioner.test.ts.
const JAVA_VECTORS: [string, number][] = [
  ["device-1", 1007784178],
  ["sensors/room1/temp", 1263728998],
  ["", 275646681],
];

function load(): KeyHash | undefined {
  try {
    if (!isCheckedKafkajs()) return undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const impl = require("kafkajs/src/producer/partitioners/default/murmur2") as (key: Buffer) => number;
    if (!JAVA_VECTORS.every(([k, v]) => impl(Buffer.from(k)) === v)) return undefined;
    return (key) => impl(key);
  } catch {
    return undefined;
  }
}

let loaded: KeyHash | undefined | null = null;

/** The hash, or undefined when this kafkajs does not offer a Java-compatible one (seam.ts reports it). */
export function installMurmur2(): KeyHash | undefined {
  if (loaded === null) loaded = load();
  return loaded;
}
