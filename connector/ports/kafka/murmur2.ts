import type { KeyHash } from "../core/partitioner";
// kafkajs' Java-compatible murmur2 (the same hash its DefaultPartitioner uses); not in its public types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const impl = require("kafkajs/src/producer/partitioners/default/murmur2") as (key: Buffer) => number;

export const murmur2: KeyHash = (key) => impl(key);
