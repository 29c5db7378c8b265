import { compressFrame, decompressFrame } from "lz4-napi";
// kafkajs-snappy has no type declarations; its default export is a codec factory.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const createSnappyCodec = require("kafkajs-snappy") as () => Codec;

/** kafkajs codec shape: a factory returning compress/decompress over the encoder's buffer. */
interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** Kafka's LZ4 is the standard LZ4 frame format (since message format v1 / KIP-57). */
export const lz4Codec = (): Codec => ({
  compress: (encoder) => compressFrame(encoder.buffer),
  decompress: (buffer) => decompressFrame(buffer),
});

export const snappyCodec = (): Codec => createSnappyCodec();
