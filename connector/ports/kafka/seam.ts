/**
 * The one place the connector changes kafkajs. `installKafkajs()` applies, once, before kafkajs
 * first loads: the allocation patches (patches.ts), the codecs kafkajs lacks (codecs.ts), the fetch
 * shaping (fetch-shaping.ts), the commit before a rebalance (rejoin-hook.ts) and the Java-compatible
 * key hash (murmur2.ts). Its result is logged at start-up, shown by `check` and exported as a
 * metric: on a kafkajs version these were not checked against, each part says it is off instead of
 * the connector silently losing what it gave (fewer duplicates on rebalance, bounded fetch memory).
 */
import type * as KafkaJs from "kafkajs";
import type { KeyHash } from "../../core/partitioner";
import { ConnectorError } from "../../core/errors";
import { CHECKED_KAFKAJS_VERSION, kafkajsVersion } from "./internals";
import { installPatches } from "./patches";
import { installFetchShaping } from "./fetch-shaping";
import { installRejoinHook } from "./rejoin-hook";
import { installMurmur2 } from "./murmur2";
import { gzipCodec, lz4Codec, snappyCodec, zstdCodec } from "./codecs";

export interface KafkajsSeam {
  kafkajsVersion: string;
  checkedVersion: string;
  /** Each part: true when in place. */
  parts: { patches: boolean; fetchShaping: boolean; rejoinHook: boolean; murmur2: boolean; codecs: boolean };
  /** What is off and what that costs, one sentence each; empty when everything is in place. */
  problems: string[];
  /** Java-compatible murmur2; throws when `parts.murmur2` is false. */
  hash: KeyHash;
  kafkajs: typeof KafkaJs;
}

const COSTS: Record<keyof KafkajsSeam["parts"], string> = {
  patches: "allocation patches off (kafkajs was loaded before the connector, or another version): more CPU per message",
  fetchShaping: "fetch shaping off: compressed or small records may hold more memory per fetch",
  rejoinHook: "commit before rebalance off: a rebalance may deliver again up to a commit interval of messages",
  murmur2: "no Java-compatible murmur2: partitionStrategy topic and property cannot be used",
  codecs: "codecs not registered: compressed batches cannot be read or written",
};

let seam: KafkajsSeam | undefined;

export function installKafkajs(): KafkajsSeam {
  if (seam) return seam;
  const patches = installPatches(); // before kafkajs loads: it captures what they replace
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kafkajs = require("kafkajs") as typeof KafkaJs;
  let codecs = true;
  try {
    const { CompressionCodecs, CompressionTypes } = kafkajs;
    CompressionCodecs[CompressionTypes.GZIP] = gzipCodec(CompressionCodecs[CompressionTypes.GZIP]);
    CompressionCodecs[CompressionTypes.Snappy] = snappyCodec;
    CompressionCodecs[CompressionTypes.LZ4] = lz4Codec;
    CompressionCodecs[CompressionTypes.ZSTD] = zstdCodec;
  } catch {
    codecs = false;
  }
  const murmur2 = installMurmur2();
  const parts = { patches, fetchShaping: installFetchShaping(), rejoinHook: installRejoinHook(), murmur2: murmur2 !== undefined, codecs };
  const version = kafkajsVersion();
  const problems = (Object.keys(parts) as (keyof typeof parts)[]).filter((k) => !parts[k]).map((k) => COSTS[k]);
  if (problems.length && version !== CHECKED_KAFKAJS_VERSION) problems.unshift(`kafkajs ${version} is not the version the connector was checked against (${CHECKED_KAFKAJS_VERSION})`);
  const hash: KeyHash =
    murmur2 ??
    (() => {
      throw new ConnectorError("KAFKA_UNSUPPORTED", `kafkajs ${version} offers no Java-compatible murmur2; partitionStrategy topic and property need it`);
    });
  seam = { kafkajsVersion: version, checkedVersion: CHECKED_KAFKAJS_VERSION, parts, problems, hash, kafkajs };
  return seam;
}

/** One line for logs and `check`. */
export function describeSeam(s: KafkajsSeam): string {
  const on = (Object.keys(s.parts) as (keyof KafkajsSeam["parts"])[]).map((k) => `${k} ${s.parts[k] ? "on" : "OFF"}`).join(", ");
  return `kafkajs ${s.kafkajsVersion}: ${on}`;
}
