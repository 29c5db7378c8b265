/**
 * A drop-in for kafkajs' produce-side record and record-batch encoders (`recordBatch/record/v0`
 * and `recordBatch/v0`, used only by the produce request) that writes a batch into one buffer of
 * the right size. kafkajs encodes each record into a buffer of its own (zero-filled, then grown),
 * appends those to a growing batch body, and copies the body twice more to prefix the header and
 * length: a 1 KB payload was copied five or six times before the request itself, and the large
 * short-lived buffers were a good part of the connector's garbage collection. Here a record is a
 * description with its size worked out, and the batch copies each payload once. The bytes are the
 * same as kafkajs' (test/unit/record-batch.test.ts compares them).
 */
import type { Buffer as NodeBuffer } from "node:buffer";

/** The parts of kafkajs' Encoder used here (the class is passed in: it is kafkajs' own, patched). */
export interface KafkajsEncoder {
  buf: NodeBuffer;
  offset: number;
  readonly buffer: NodeBuffer;
  writeInt8(v: number): KafkajsEncoder;
  writeInt16(v: number): KafkajsEncoder;
  writeInt32(v: number): KafkajsEncoder;
  writeInt64(v: unknown): KafkajsEncoder;
  writeVarLong(v: unknown): KafkajsEncoder;
}
export type EncoderCtor = new (initialSize?: number) => KafkajsEncoder;

interface Codec {
  compress(encoder: KafkajsEncoder): Promise<NodeBuffer>;
}

const VARLONG_FAST_MAX = 2 ** 51;
/**
 * A varlong the number arithmetic below writes: a safe integer with |n| < 2^51, so its zig-zag
 * stays a safe integer. Anything else goes through kafkajs' Long code.
 */
export const isFastVarLong = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && Math.abs(v) < VARLONG_FAST_MAX;
const NONE = 0;
const COMPRESSION_CODEC_MASK = 0x07;
const TRANSACTIONAL_MASK = 16;
export const MAGIC_BYTE = 2;

/** kafkajs' varint: zig-zag, then 7 bits a byte. */
function sizeOfVarInt(value: number): number {
  let v = (value << 1) ^ (value >> 31);
  let bytes = 1;
  while ((v & 0xffffff80) !== 0) {
    bytes++;
    v >>>= 7;
  }
  return bytes;
}

function writeVarInt(buf: NodeBuffer, offset: number, value: number): number {
  let v = (value << 1) ^ (value >> 31);
  while ((v & 0xffffff80) !== 0) {
    buf[offset++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[offset++] = v & 0x7f;
  return offset;
}

/** Bytes as kafkajs writes them: null stays null (length -1), a Buffer as is, anything else as UTF-8 text. */
function bytesOf(v: unknown): NodeBuffer | null {
  if (v === null || v === undefined) return null;
  return Buffer.isBuffer(v) ? v : Buffer.from(String(v), "utf8");
}

const sizeOfBytes = (b: NodeBuffer | null): number => (b === null ? 1 : sizeOfVarInt(b.length) + b.length);

function writeBytes(buf: NodeBuffer, offset: number, b: NodeBuffer | null): number {
  if (b === null) return writeVarInt(buf, offset, -1);
  offset = writeVarInt(buf, offset, b.length);
  b.copy(buf, offset);
  return offset + b.length;
}

/** One record, sized, waiting to be written into its batch. */
export class PendingRecord {
  /** The record after its length prefix. */
  readonly bodySize: number;
  constructor(
    readonly offsetDelta: number,
    /** The timestamp delta as varlong bytes when it is outside the fast range, else the number. */
    readonly timestampDelta: number | NodeBuffer,
    readonly key: NodeBuffer | null,
    readonly value: NodeBuffer | null,
    readonly headers: [NodeBuffer, NodeBuffer | null][],
  ) {
    let size = 1 + (typeof timestampDelta === "number" ? sizeOfVarInt64(timestampDelta) : timestampDelta.length) + sizeOfVarInt(offsetDelta) + sizeOfBytes(key) + sizeOfBytes(value) + sizeOfVarInt(headers.length);
    for (const [k, v] of headers) size += sizeOfBytes(k) + sizeOfBytes(v);
    this.bodySize = size;
  }
  get size(): number {
    return sizeOfVarInt(this.bodySize) + this.bodySize;
  }
  write(buf: NodeBuffer, offset: number): number {
    offset = writeVarInt(buf, offset, this.bodySize);
    buf[offset++] = 0; // attributes: none are used on records
    const ts = this.timestampDelta;
    if (typeof ts === "number") offset = writeVarInt64(buf, offset, ts);
    else offset += ts.copy(buf, offset);
    offset = writeVarInt(buf, offset, this.offsetDelta);
    offset = writeBytes(buf, offset, this.key);
    offset = writeBytes(buf, offset, this.value);
    offset = writeVarInt(buf, offset, this.headers.length);
    for (const [k, v] of this.headers) {
      offset = writeBytes(buf, offset, k);
      offset = writeBytes(buf, offset, v);
    }
    return offset;
  }
}

const zigzag64 = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

export function sizeOfVarInt64(n: number): number {
  let z = zigzag64(n);
  let bytes = 1;
  while (z >= 0x80) {
    bytes++;
    z = Math.floor(z / 0x80);
  }
  return bytes;
}

export function writeVarInt64(buf: NodeBuffer, offset: number, n: number): number {
  let z = zigzag64(n);
  while (z >= 0x80) {
    buf[offset++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[offset++] = z;
  return offset;
}

export interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: unknown;
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown> | null;
}

export interface RecordBatchArgs {
  compression?: number;
  firstOffset?: unknown;
  firstTimestamp?: unknown;
  maxTimestamp?: unknown;
  partitionLeaderEpoch?: number;
  lastOffsetDelta?: number;
  transactional?: boolean;
  producerId?: unknown;
  producerEpoch?: number;
  firstSequence?: number;
  records?: unknown[];
}

/**
 * kafkajs' encoders bound to its Encoder, Long, codec lookup and CRC-32C. `record` replaces
 * `recordBatch/record/v0`, `recordBatch` the `RecordBatch` of `recordBatch/v0`.
 */
export function recordBatchEncoders(deps: {
  Encoder: EncoderCtor;
  longFromInt(n: number): unknown;
  longFromValue(n: number): unknown;
  lookupCodec(compression: number): Codec;
  crc32c(b: Uint8Array): number;
}): { record(args: RecordArgs): PendingRecord; recordBatch(args: RecordBatchArgs): Promise<KafkajsEncoder> } {
  const { Encoder } = deps;

  /** An Encoder holding `buf` as its written content, for kafkajs code that takes an Encoder. */
  const wrap = (buf: NodeBuffer): KafkajsEncoder => {
    const e = new Encoder(1);
    e.buf = buf;
    e.offset = buf.length;
    return e;
  };

  function record({ offsetDelta = 0, timestampDelta = 0, key, value, headers }: RecordArgs): PendingRecord {
    const pairs: [NodeBuffer, NodeBuffer | null][] = [];
    if (headers) {
      for (const name of Object.keys(headers)) {
        const v = headers[name];
        const k = Buffer.from(name, "utf8");
        if (Array.isArray(v)) for (const one of v) pairs.push([k, bytesOf(one)]);
        else pairs.push([k, bytesOf(v)]);
      }
    }
    const ts = isFastVarLong(timestampDelta) ? timestampDelta : new Encoder(16).writeVarLong(timestampDelta).buffer;
    return new PendingRecord(offsetDelta, ts, bytesOf(key), bytesOf(value), pairs);
  }

  /**
   * The records one after another, each with its length prefix, after `before` bytes left for the
   * caller; a kafkajs Encoder record is copied as is.
   */
  function writeRecords(records: unknown[], before: number): NodeBuffer {
    let size = before;
    for (const r of records) size += r instanceof PendingRecord ? r.size : (r as KafkajsEncoder).offset;
    const buf = Buffer.allocUnsafe(size);
    let offset = before;
    for (const r of records) {
      if (r instanceof PendingRecord) offset = r.write(buf, offset);
      else offset += (r as KafkajsEncoder).buf.copy(buf, offset, 0, (r as KafkajsEncoder).offset);
    }
    return buf;
  }

  async function recordBatch({
    compression = NONE,
    firstOffset = deps.longFromInt(0),
    firstTimestamp = Date.now(),
    maxTimestamp = Date.now(),
    partitionLeaderEpoch = 0,
    lastOffsetDelta = 0,
    transactional = false,
    producerId = deps.longFromValue(-1),
    producerEpoch = 0,
    firstSequence = 0,
    records = [],
  }: RecordBatchArgs): Promise<KafkajsEncoder> {
    const attributes = (compression & COMPRESSION_CODEC_MASK) | (transactional ? TRANSACTIONAL_MASK : 0);
    // The body: fixed fields, the record count, then the records (compressed or not).
    const head = new Encoder(64).writeInt16(attributes).writeInt32(lastOffsetDelta).writeInt64(firstTimestamp).writeInt64(maxTimestamp).writeInt64(producerId).writeInt16(producerEpoch).writeInt32(firstSequence).writeInt32(records.length);
    const prefix = 8 + 4 + 4 + 1 + 4; // firstOffset, batch length, leader epoch, magic, CRC
    let out: NodeBuffer;
    if (compression === NONE) {
      // Records straight into the final buffer: one copy of each payload.
      out = writeRecords(records, prefix + head.offset);
    } else {
      const compressed = await deps.lookupCodec(compression).compress(wrap(writeRecords(records, 0)));
      out = Buffer.allocUnsafe(prefix + head.offset + compressed.length);
      compressed.copy(out, prefix + head.offset);
    }
    head.buf.copy(out, prefix, 0, head.offset);
    const bodyLength = out.length - prefix;
    const front = new Encoder(32).writeInt64(firstOffset).writeInt32(bodyLength + 9).writeInt32(partitionLeaderEpoch).writeInt8(MAGIC_BYTE);
    front.buf.copy(out, 0, 0, front.offset);
    out.writeUInt32BE(deps.crc32c(out.subarray(prefix)), front.offset);
    return wrap(out);
  }

  return { record, recordBatch };
}
