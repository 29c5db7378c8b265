/**
 * `npm run bench:codecs`: what decoding a fetched record batch costs per codec, the zstd decoder
 * (fzstd on Node 20, node:zlib's own where Node has it) next to the codecs the connector already
 * used. Input: 1 MiB of generated telemetry text in 1 KB records, as a Kafka batch holds it.
 * zstd input comes from the `zstd` command line tool (Debian package zstd), the same library
 * librdkafka and the Java client use, so the frames are what other producers write.
 * Options: --mib N (input size, default 1), --rounds N (default 30).
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import * as zlib from "node:zlib";
import { compressFrame } from "lz4-napi";
import { decompress as fzstd } from "fzstd";
import { lz4Codec, snappyCodec, zstdCodec, type Codec } from "../connector/ports/kafka/codecs";
import { makeFiller, stamp } from "./common";

const { values } = parseArgs({ options: { mib: { type: "string" }, rounds: { type: "string" } } });
const MIB = Number(values.mib ?? 1);
const ROUNDS = Number(values.rounds ?? 30);
const RECORD = 1024;

function input(): Buffer {
  const filler = makeFiller(RECORD);
  const n = Math.ceil((MIB * 1024 * 1024) / RECORD);
  return Buffer.concat(Array.from({ length: n }, (_, i) => stamp(filler, i, 0)));
}

function zstdCli(data: Buffer): Buffer {
  const r = spawnSync("zstd", ["-3", "-c", "-q"], { input: data, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`zstd -3 failed (exit ${r.status}): ${r.stderr?.toString() ?? r.error?.message}; install the Debian package zstd`);
  return r.stdout;
}

interface Row {
  codec: string;
  ratio: number;
  mbPerS: number;
  usPerRecord: number;
}

async function measure(name: string, compressed: Buffer, raw: Buffer, decode: (b: Buffer) => Promise<Buffer> | Buffer): Promise<Row> {
  const out = await decode(compressed);
  if (!out.equals(raw)) throw new Error(`${name}: decoded bytes differ from the input`);
  for (let i = 0; i < 3; i++) await decode(compressed); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) await decode(compressed);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const records = raw.length / RECORD;
  return { codec: name, ratio: raw.length / compressed.length, mbPerS: (raw.length * ROUNDS) / secs / 1e6, usPerRecord: (secs * 1e6) / (ROUNDS * records) };
}

const viaCodec = (c: () => Codec) => {
  const codec = c();
  return (b: Buffer) => codec.decompress(b);
};

async function main(): Promise<void> {
  const raw = input();
  const snappy = snappyCodec();
  const rows: Row[] = [];
  rows.push(await measure("none (copy)", raw, raw, (b) => Buffer.from(b)));
  rows.push(await measure("gzip (node:zlib)", zlib.gzipSync(raw), raw, (b) => zlib.gunzipSync(b)));
  rows.push(await measure("snappy (kafkajs-snappy)", await snappy.compress({ buffer: raw }), raw, viaCodec(snappyCodec)));
  rows.push(await measure("lz4 (lz4-napi)", await compressFrame(raw), raw, viaCodec(lz4Codec)));
  const zst = zstdCli(raw);
  rows.push(await measure("zstd (fzstd)", zst, raw, (b) => {
    const u = fzstd(b);
    return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  }));
  const native = (zlib as unknown as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync;
  if (native) rows.push(await measure("zstd (node:zlib)", zst, raw, (b) => native(b)));
  rows.push(await measure("zstd (connector codec)", zst, raw, viaCodec(zstdCodec)));

  const gzip = rows.find((r) => r.codec.startsWith("gzip"))!;
  process.stdout.write(`decoding ${(raw.length / 1e6).toFixed(2)} MB of ${RECORD} B records, ${ROUNDS} rounds, node ${process.version}\n\n`);
  process.stdout.write("| codec | compression ratio | decode MB/s | µs per 1 KB record | time vs gzip |\n|---|---|---|---|---|\n");
  for (const r of rows) {
    process.stdout.write(`| ${r.codec} | ${r.ratio.toFixed(2)} | ${r.mbPerS.toFixed(0)} | ${r.usPerRecord.toFixed(2)} | ${(r.usPerRecord / gzip.usPerRecord).toFixed(2)}x |\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
