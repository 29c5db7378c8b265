// Before lz4-napi loads: its allocator reads the environment once, at load time.
import "./mimalloc-env";
import { compressFrame, decompressFrame } from "lz4-napi";
import { decompressionRatio } from "./kafkajs-fetch-shaping";
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
