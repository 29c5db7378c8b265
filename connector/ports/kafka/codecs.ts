// Before lz4-napi loads: its allocator reads the environment once, at load time.
import "./mimalloc-env";
import { compressFrame, decompressFrame } from "lz4-napi";
import * as zlib from "node:zlib";
import { decompress as fzstdDecompress } from "fzstd";
import { decompressionRatio } from "./fetch-shaping";
// kafkajs-snappy has no type declarations; its default export is a codec factory.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const createSnappyCodec = require("kafkajs-snappy") as () => Codec;

/** kafkajs codec shape: a factory returning compress/decompress over the encoder's buffer. */
export interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** The same codec, with every decompression counted in the ratio that scales fetch limits. */
export function measured(factory: () => Codec): () => Codec {
  return () => {
    const codec = factory();
    return {
      compress: (encoder) => codec.compress(encoder),
      decompress: async (buffer) => {
        const out = await codec.decompress(buffer);
        decompressionRatio.record(buffer.length, out.length);
        return out;
      },
    };
  };
}

/** Kafka's LZ4 is the standard LZ4 frame format (since message format v1 / KIP-57). */
export const lz4Codec = measured(() => ({
  compress: (encoder) => compressFrame(encoder.buffer),
  decompress: (buffer) => decompressFrame(buffer),
}));

export const snappyCodec = measured(() => createSnappyCodec());

/** kafkajs' own gzip, measured like the others. */
export function gzipCodec(kafkajsGzip: unknown): () => Codec {
  return measured(kafkajsGzip as () => Codec);
}

/** Node's own zstd (22.15 and later); absent on Node 20, where fzstd decodes instead. */
type ZstdSync = (buf: Buffer) => Buffer;
const nativeZstd = (zlib as unknown as { zstdDecompressSync?: ZstdSync }).zstdDecompressSync;

/**
 * Kafka's zstd (KIP-110) is standard zstd frames. The connector never produces zstd (the resource's
 * `compression` has no such value), but other producers do, and a topic set to
 * `compression.type=zstd` rewrites every batch as zstd: the consumer must read it.
 */
export const zstdCodec = measured(() => ({
  compress: () => Promise.reject(new Error("zstd compression is not offered for producing; use gzip, snappy or lz4")),
  decompress: (buffer) => Promise.resolve(nativeZstd ? nativeZstd(buffer) : asBuffer(fzstdDecompress(buffer))),
}));

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
