/**
 * kafkajs' own record and batch encoders beside the connector's replacement
 * (connector/ports/kafka/record-batch.ts), for the test that compares their bytes and the bench
 * that times them. kafkajs' files are compiled afresh: once the seam has run, `require` returns
 * ours under their module ids.
 */
import { readFileSync } from "node:fs";
import Module from "node:module";
import { dirname } from "node:path";
import { crc32c } from "../connector/ports/kafka/patches";
import { recordBatchEncoders, type EncoderCtor, type RecordArgs, type RecordBatchArgs } from "../connector/ports/kafka/record-batch";

function original<T>(request: string): T {
  const file = require.resolve(request);
  const m = new Module(file, module) as Module & { _compile(code: string, file: string): void; paths: string[] };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(dirname(file));
  m._compile(readFileSync(file, "utf8"), file);
  return m.exports as T;
}

export type Encoded = { buffer: Buffer };
export interface Encoders {
  record(a: RecordArgs): unknown;
  recordBatch(a: RecordBatchArgs): Promise<Encoded>;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const Long = require("kafkajs/src/utils/long") as { fromInt(n: number): unknown; fromValue(n: number): unknown };
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const Compression = require("kafkajs/src/protocol/message/compression") as { lookupCodec(c: number): never; Types: { None: number; GZIP: number } };

/** kafkajs 2.2.4's `recordBatch/record/v0` and `RecordBatch` of `recordBatch/v0`. */
export function kafkajsEncoders(): { record(a: RecordArgs): Encoded; recordBatch: Encoders["recordBatch"] } {
  return {
    record: original<(a: RecordArgs) => Encoded>("kafkajs/src/protocol/recordBatch/record/v0"),
    recordBatch: original<{ RecordBatch: Encoders["recordBatch"] }>("kafkajs/src/protocol/recordBatch/v0").RecordBatch,
  };
}

/** The connector's, bound to kafkajs' Encoder as the seam binds them. */
export function connectorEncoders(): ReturnType<typeof recordBatchEncoders> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Encoder = require("kafkajs/src/protocol/encoder") as EncoderCtor;
  return recordBatchEncoders({ Encoder, longFromInt: (n) => Long.fromInt(n), longFromValue: (n) => Long.fromValue(n), lookupCodec: (c) => Compression.lookupCodec(c), crc32c });
}
