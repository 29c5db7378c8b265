/**
 * Performance fixes for kafkajs 2.2.4, installed before kafkajs is first loaded (kafka-port.ts
 * imports this module ahead of kafkajs). Each replacement produces exactly what the original does;
 * they only allocate less. Found by profiling `npm run bench` (docs/benchmark.md).
 *
 * 1. kafkajs groups the messages of every send by partition with
 * `Object.assign(result, { [partition]: [...current, message] })`, copying the partition's array
 * once per message: quadratic in the records per partition, and in a benchmark of 100-byte
 * messages the largest single source of garbage in the connector (more than a third of what a
 * produce request allocates). The replacement returns the same object: the same keys, and each
 * partition's messages in the same order.
 *
 * 2. The record encoder writes every varint through `Buffer.from([...bytes])`, a new array and a
 *    new Buffer per field, several per record, and does 64-bit varints (the timestamp delta) in
 *    BigInt arithmetic. The replacements write the bytes straight into the encoder's buffer, and
 *    take the BigInt path only for values that are not safe integers below 2^51.
 *
 * Only kafkajs 2.2.4 is patched, the version this code was checked against. If kafkajs was already
 * loaded (an embedder imported it first), the grouping stays as it was: the fixes are for speed only.
 */
import Module from "node:module";

interface GroupArgs {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;
}

export function groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }: GroupArgs): Record<number, unknown[]> {
  if (partitionMetadata.length === 0) return {};
  const result: Record<number, unknown[]> = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = result[partition];
    if (list) list.push(message);
    else result[partition] = [message];
  }
  return result;
}

interface EncoderLike {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
}
interface EncoderClass {
  prototype: EncoderLike & { writeUVarInt(v: number): EncoderLike; writeVarLong(v: unknown): EncoderLike };
  sizeOfVarLong(v: unknown): number;
}

const VARLONG_FAST_MAX = 2 ** 51;

/** 64-bit zigzag of a safe integer |n| < 2^51, as a non-negative safe integer. */
const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

export function patchEncoder(Encoder: EncoderClass): void {
  const proto = Encoder.prototype;
  const originalWriteVarLong = proto.writeVarLong;
  const originalSizeOfVarLong = Encoder.sizeOfVarLong;
  proto.writeUVarInt = function (this: EncoderLike, value: number) {
    this.ensureAvailable(5);
    const buf = this.buf;
    let offset = this.offset;
    while ((value & 0xffffff80) !== 0) {
      buf[offset++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[offset++] = value & 0x7f;
    this.offset = offset;
    return this;
  };
  proto.writeVarLong = function (this: EncoderLike, value: unknown) {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || Math.abs(value) >= VARLONG_FAST_MAX) return originalWriteVarLong.call(this, value);
    let z = zigzag(value);
    this.ensureAvailable(8);
    const buf = this.buf;
    let offset = this.offset;
    while (z >= 0x80) {
      buf[offset++] = (z % 0x80) | 0x80;
      z = Math.floor(z / 0x80);
    }
    buf[offset++] = z;
    this.offset = offset;
    return this;
  };
  Encoder.sizeOfVarLong = function (value: unknown): number {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || Math.abs(value) >= VARLONG_FAST_MAX) return originalSizeOfVarLong.call(Encoder, value);
    let z = zigzag(value);
    let bytes = 1;
    while (z >= 0x80) {
      bytes++;
      z = Math.floor(z / 0x80);
    }
    return bytes;
  };
}

function install(): boolean {
  try {
    const version = (require("kafkajs/package.json") as { version?: string }).version;
    if (version !== "2.2.4") return false;
    patchEncoder(require("kafkajs/src/protocol/encoder") as EncoderClass);
    const id = require.resolve("kafkajs/src/producer/groupMessagesPerPartition");
    // sendMessages.js captures the function when it loads; once it has, it is too late.
    if (require.cache[require.resolve("kafkajs/src/producer/sendMessages")]) return false;
    const m = new Module(id, module);
    m.filename = id;
    m.loaded = true;
    m.exports = groupMessagesPerPartition;
    require.cache[id] = m;
    return true;
  } catch {
    return false;
  }
}

/** Whether the linear grouping is in place (false: kafkajs was loaded first, or another version). */
export const kafkajsPatched = install();
