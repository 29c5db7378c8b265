/**
 * The bytes of one spooled Kafka record. A CRC-32 over everything after it catches a value the
 * disk or a bad copy changed: such a record is reported and skipped, never sent as garbage.
 *
 *   u8 version | u32 crc | f64 spooledAt | i32 partition | u16 topic length | topic
 *   | u16 source length | source (the MQTT topic)
 *   | i32 key length (-1: null) | key | u32 value length | value
 *   | u16 header count | (u16 name length | name | u32 value length | value)*
 *   | u16 timestamp length | timestamp
 */
import { crc32 } from "node:zlib";
import type { KafkaHeaders } from "../core/properties";

const VERSION = 1;
const HEAD = 1 + 4;

export interface SpooledRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer;
  partition: number;
  headers?: KafkaHeaders;
  timestamp?: string;
  /** The MQTT topic it came from: a dead letter names it. */
  sourceTopic: string;
  /** When it was received (ms since the epoch): the age of the backlog and its delivery latency. */
  spooledAt: number;
}

export class SpoolCorruption extends Error {}

function headerPairs(h: KafkaHeaders | undefined): [Buffer, Buffer][] {
  const out: [Buffer, Buffer][] = [];
  for (const [name, v] of Object.entries(h ?? {})) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([Buffer.from(name), Buffer.from(one)]);
  }
  return out;
}

export function encodeRecord(r: SpooledRecord): Buffer {
  const topic = Buffer.from(r.topic);
  const source = Buffer.from(r.sourceTopic);
  const headers = headerPairs(r.headers);
  const ts = Buffer.from(r.timestamp ?? "");
  const size = HEAD + 8 + 4 + 2 + topic.length + 2 + source.length + 4 + (r.key?.length ?? 0) + 4 + r.value.length + 2 + headers.reduce((n, [k, v]) => n + 2 + k.length + 4 + v.length, 0) + 2 + ts.length;
  const b = Buffer.allocUnsafe(size);
  let o = HEAD;
  o = b.writeDoubleBE(r.spooledAt, o);
  o = b.writeInt32BE(r.partition, o);
  o = b.writeUInt16BE(topic.length, o);
  o += topic.copy(b, o);
  o = b.writeUInt16BE(source.length, o);
  o += source.copy(b, o);
  o = b.writeInt32BE(r.key ? r.key.length : -1, o);
  if (r.key) o += r.key.copy(b, o);
  o = b.writeUInt32BE(r.value.length, o);
  o += r.value.copy(b, o);
  o = b.writeUInt16BE(headers.length, o);
  for (const [k, v] of headers) {
    o = b.writeUInt16BE(k.length, o);
    o += k.copy(b, o);
    o = b.writeUInt32BE(v.length, o);
    o += v.copy(b, o);
  }
  o = b.writeUInt16BE(ts.length, o);
  ts.copy(b, o);
  b.writeUInt8(VERSION, 0);
  b.writeUInt32BE(crc32(b.subarray(HEAD)), 1);
  return b;
}

/** Throws SpoolCorruption when the checksum or the structure does not hold. */
export function decodeRecord(b: Buffer): SpooledRecord {
  if (b.length < HEAD || b.readUInt8(0) !== VERSION) throw new SpoolCorruption(`unknown record version ${b.length ? b.readUInt8(0) : "(empty)"}`);
  if (crc32(b.subarray(HEAD)) !== b.readUInt32BE(1)) throw new SpoolCorruption("checksum mismatch");
  let o = HEAD;
  const need = (n: number) => {
    if (o + n > b.length) throw new SpoolCorruption("record ends early");
  };
  const num = (width: 2 | 4 | 8, read: (at: number) => number): number => {
    need(width);
    const v = read(o);
    o += width;
    return v;
  };
  const u16 = () => num(2, (at) => b.readUInt16BE(at));
  const u32 = () => num(4, (at) => b.readUInt32BE(at));
  const i32 = () => num(4, (at) => b.readInt32BE(at));
  const bytes = (n: number): Buffer => {
    need(n);
    const out = Buffer.from(b.subarray(o, o + n));
    o += n;
    return out;
  };
  const spooledAt = num(8, (at) => b.readDoubleBE(at));
  const partition = i32();
  const topic = bytes(u16()).toString();
  const sourceTopic = bytes(u16()).toString();
  const keyLen = i32();
  const key = keyLen < 0 ? null : bytes(keyLen);
  const value = bytes(u32());
  const count = u16();
  const headers: Record<string, Buffer | Buffer[]> = {};
  for (let i = 0; i < count; i++) {
    const name = bytes(u16()).toString();
    const v = bytes(u32());
    const prev = headers[name];
    headers[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const timestamp = bytes(u16()).toString();
  if (o !== b.length) throw new SpoolCorruption("trailing bytes");
  return { topic, sourceTopic, key, value, partition, spooledAt, ...(count ? { headers } : {}), ...(timestamp ? { timestamp } : {}) };
}
