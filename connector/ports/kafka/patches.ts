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
 * 3. The record batch checksum (CRC-32C) is computed one byte at a time in JavaScript, and then
 *    boxed through `Uint32Array.from`: with 16 KB messages it was a quarter of the connector's busy
 *    time. The replacement is the same CRC, eight bytes per step (slicing-by-8).
 * 4. Growing an encoder's buffer zero-fills the new one (`Buffer.alloc`) just before copying over it;
 *    only bytes below the write offset are ever read, so `Buffer.allocUnsafe` gives the same output.
 *
 * Only kafkajs 2.2.4 is patched, the version this code was checked against. If kafkajs was already
 * loaded (an embedder imported it first), the grouping stays as it was: the fixes are for speed only.
 * seam.ts installs them, before it loads kafkajs.
 */
import Module from "node:module";
import { isCheckedKafkajs } from "./internals";
import { isFastVarLong, MAGIC_BYTE, recordBatchEncoders, sizeOfVarInt64, writeVarInt64, type EncoderCtor } from "./record-batch";

interface LongStatics {
  fromInt(n: number): unknown;
  fromValue(n: number): unknown;
}

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
  prototype: EncoderLike & { writeUVarInt(v: number): EncoderLike; writeVarLong(v: unknown): EncoderLike; ensureAvailable(length: number): void };
  sizeOfVarLong(v: unknown): number;
}

export function patchEncoder(Encoder: EncoderClass): void {
  const proto = Encoder.prototype;
  const originalWriteVarLong = proto.writeVarLong;
  const originalSizeOfVarLong = Encoder.sizeOfVarLong;
  proto.ensureAvailable = function (this: EncoderLike, length: number) {
    if (this.offset + length > this.buf.length) {
      const newLength = 1 << (31 - Math.clz32(this.offset + length) + 1); // Encoder.nextPowerOfTwo
      const newBuffer = Buffer.allocUnsafe(newLength);
      this.buf.copy(newBuffer, 0, 0, this.offset);
      this.buf = newBuffer;
    }
  };
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
    if (!isFastVarLong(value)) return originalWriteVarLong.call(this, value);
    this.ensureAvailable(8);
    this.offset = writeVarInt64(this.buf, this.offset, value);
    return this;
  };
  Encoder.sizeOfVarLong = function (value: unknown): number {
    return isFastVarLong(value) ? sizeOfVarInt64(value) : originalSizeOfVarLong.call(Encoder, value);
  };
}

const CRC32C_TABLES: Int32Array[] = (() => {
  const t0 = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t0[i] = c;
  }
  const tables = [t0];
  for (let k = 1; k < 8; k++) {
    const prev = tables[k - 1]!;
    const t = new Int32Array(256);
    for (let i = 0; i < 256; i++) t[i] = (prev[i]! >>> 8) ^ t0[prev[i]! & 0xff]!;
    tables.push(t);
  }
  return tables;
})();

/** CRC-32C (Castagnoli), as an unsigned 32-bit number, like kafkajs' recordBatch/crc32C. */
export function crc32c(buf: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC32C_TABLES as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
  let crc = -1;
  let i = 0;
  const n = buf.length;
  for (const end = n - 8; i <= end; i += 8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc =
      t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]! ^
      t3[buf[i + 4]!]! ^ t2[buf[i + 5]!]! ^ t1[buf[i + 6]!]! ^ t0[buf[i + 7]!]!;
  }
  for (; i < n; i++) crc = t0[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** Puts `exports` in the require cache under a kafkajs module's id, so kafkajs gets it when it loads. */
function preload(request: string, exports: unknown): boolean {
  const id = require.resolve(request);
  if (require.cache[id]) return false;
  const m = new Module(id, module);
  m.filename = id;
  m.loaded = true;
  m.exports = exports;
  require.cache[id] = m;
  return true;
}

function install(): boolean {
  try {
    if (!isCheckedKafkajs()) return false;
    patchEncoder(require("kafkajs/src/protocol/encoder") as EncoderClass);
    // Both are captured by the modules that require them when those load; once kafkajs is loaded, it is too late.
    if (require.cache[require.resolve("kafkajs/src/producer/sendMessages")]) return false;
    if (require.cache[require.resolve("kafkajs/src/protocol/recordBatch/v0")]) return false;
    if (require.cache[require.resolve("kafkajs/src/protocol/recordBatch/record/v0")]) return false;
    const grouped = preload("kafkajs/src/producer/groupMessagesPerPartition", groupMessagesPerPartition);
    const crc = preload("kafkajs/src/protocol/recordBatch/crc32C", crc32c);
    const { record, recordBatch } = recordBatchEncoders({
      Encoder: require("kafkajs/src/protocol/encoder") as EncoderCtor,
      longFromInt: (n) => (require("kafkajs/src/utils/long") as LongStatics).fromInt(n),
      longFromValue: (n) => (require("kafkajs/src/utils/long") as LongStatics).fromValue(n),
      lookupCodec: (c) => (require("kafkajs/src/protocol/message/compression") as { lookupCodec(c: number): ReturnType<Parameters<typeof recordBatchEncoders>[0]["lookupCodec"]> }).lookupCodec(c),
      crc32c,
    });
    const records = preload("kafkajs/src/protocol/recordBatch/record/v0", record);
    const batches = preload("kafkajs/src/protocol/recordBatch/v0", { RecordBatch: recordBatch, MAGIC_BYTE });
    return grouped && crc && records && batches;
  } catch {
    return false;
  }
}

let patched: boolean | undefined;

/** Installs the patches once; false when they are not in place (kafkajs was loaded first, or another version). */
export function installPatches(): boolean {
  return (patched ??= install());
}
