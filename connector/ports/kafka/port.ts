// Must load before kafkajs: it replaces a quadratic helper that kafkajs captures at load time.
import "./kafkajs-patches";
import { noDelaySocketFactory } from "./sockets";
import {
  Kafka,
  CompressionTypes,
  CompressionCodecs,
  Partitioners,
  ConfigResourceTypes,
  logLevel as KafkaLogLevel,
  type KafkaConfig,
  type Producer,
  type SASLOptions,
  type LogEntry,
  type Message,
} from "kafkajs";
import type { ConnectionOptions } from "node:tls";
import type { Logger } from "../logger";
import type { Compression } from "../config/schema";
import { ConnectorError } from "../core/errors";
import { RepeatLimiter } from "../core/repeat-limiter";
import { lz4Codec, measured, snappyCodec, zstdCodec, type Codec } from "./kafka-codecs";
import { KafkaConsumerAdapter } from "./kafka-consumer";
import type { KafkaConsumerPort, KafkaPort, KafkaProducerPort, ProduceRequest } from "./types";

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  ssl?: ConnectionOptions;
  sasl?: SASLOptions;
  /** Event Hubs: metadata max age 180 s (idle connections close at 240 s), generous timeouts. */
  eventHubs: boolean;
  /** Where a new consumer group starts. */
  offsetReset: "earliest" | "latest";
  /** How often resolved offsets are committed; Event Hubs allows about 4 commits/s per partition. */
  commitIntervalMs: number;
  partitionsConsumedConcurrently: number;
  /** Consumer group session timeout (Kafka accepts 6 s to 300 s by default). */
  sessionTimeoutMs: number;
}

CompressionCodecs[CompressionTypes.Snappy] = snappyCodec;
CompressionCodecs[CompressionTypes.LZ4] = lz4Codec;
CompressionCodecs[CompressionTypes.ZSTD] = zstdCodec;
// kafkajs' own gzip, measured like the others (kafkajs-fetch-shaping.ts).
CompressionCodecs[CompressionTypes.GZIP] = measured(CompressionCodecs[CompressionTypes.GZIP] as () => Codec);

const COMPRESSION: Record<Compression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
};

/**
 * kafkajs errors that are part of normal operation (a new broker electing its group coordinator, a
 * leader moving, a rebalance): logged at info, not error. They are retried, and a failure that
 * lasts surfaces through the connector's own retry lines.
 */
const TRANSIENT = /group coordinator is not available|not the correct coordinator|coordinator is loading|no leader for this topic-partition|leadership election|rebalance in progress|The group is rebalancing/i;

/** kafkajs log level that yields what the connector's level shows (kafkajs INFO is our debug). */
export function kafkajsLogLevel(level: string): KafkaLogLevel {
  switch (level) {
    case "trace":
      return KafkaLogLevel.DEBUG;
    case "debug":
      return KafkaLogLevel.INFO;
    case "info":
    case "warn":
      return KafkaLogLevel.WARN;
    default:
      return KafkaLogLevel.ERROR;
  }
}

function kafkaLogCreator(log: Logger, onEvent: (e: "reconnect" | "error") => void) {
  // kafkajs logs one failure on several layers (request, connection, retrier), and again on every
  // retry; the connector's own retry line carries the count, so each distinct message shows once a minute.
  const errors = new RepeatLimiter();
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      if (level === KafkaLogLevel.ERROR && /Connection error|Failed to connect|Connection timeout/.test(message)) onEvent("error");
      const fields = { namespace: rest.namespace, broker: rest["broker"], error: rest["error"], retryCount: rest["retryCount"] };
      const text = `kafka: ${message}`;
      if (level === KafkaLogLevel.ERROR || level === KafkaLogLevel.WARN) {
        if (TRANSIENT.test(`${message} ${String(rest["error"] ?? "")}`)) return log.info(fields, text);
        const { log: show, repeated } = errors.check(`${message}|${String(rest["error"] ?? "")}`);
        if (!show) return log.debug(fields, text);
        const withCount = repeated ? { ...fields, repeatedSinceLastLog: repeated } : fields;
        return level === KafkaLogLevel.ERROR ? log.error(withCount, text) : log.warn(withCount, text);
      }
      // kafkajs logs routine rebalances at INFO; they are debug detail for us.
      if (level === KafkaLogLevel.INFO) log.debug(fields, text);
      else log.trace(fields, text);
    };
}

/** What a failed connection attempt to Kafka says to an operator: the cause when it is known. */
export function kafkaFailureSummary(e: unknown): string {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const { name, message } = cur as { name?: string; message?: string };
    if (name === "KafkaJSSASLAuthenticationError" || /authentication failed|SaslAuthenticate/i.test(message ?? "")) return "Kafka authentication failed; retrying";
    if (/certificate|self[- ]signed|unable to verify|SSL|TLS/i.test(message ?? "")) return "Kafka TLS handshake failed; retrying";
    cur = (cur as { cause?: unknown; originalError?: unknown }).originalError ?? (cur as { cause?: unknown }).cause;
  }
  return "Kafka unreachable; retrying";
}

/** Per fetch: at most this much (compressed) data per partition, and in all. */
export const FETCH_MAX_BYTES_PER_PARTITION = 1024 * 1024;
export const FETCH_MAX_BYTES = 4 * 1024 * 1024;

export class KafkaJsPort implements KafkaPort {
  private readonly kafka: Kafka;
  private readonly clients: { disconnect(): Promise<void> }[] = [];

  constructor(
    private readonly s: KafkaSettings,
    private readonly log: Logger,
    onEvent: (e: "reconnect" | "error") => void = () => undefined,
  ) {
    const config: KafkaConfig = {
      clientId: s.clientId,
      brokers: s.brokers,
      connectionTimeout: s.eventHubs ? 10_000 : 3_000,
      authenticationTimeout: s.eventHubs ? 10_000 : 3_000,
      requestTimeout: s.eventHubs ? 60_000 : 30_000,
      // Short client-level retries: connector loops (startup, route sends) back off and log on top of these.
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 5 },
      logLevel: kafkajsLogLevel(log.level),
      logCreator: kafkaLogCreator(log, onEvent),
      socketFactory: noDelaySocketFactory,
    };
    if (s.ssl) config.ssl = s.ssl;
    if (s.sasl) config.sasl = s.sasl;
    this.kafka = new Kafka(config);
  }

  private get metadataMaxAge(): number {
    return this.s.eventHubs ? 180_000 : 300_000;
  }

  producer(): KafkaProducerPort {
    const producer = this.kafka.producer({
      allowAutoTopicCreation: false,
      // Every record carries an explicit partition; naming the partitioner also silences kafkajs' v2 notice.
      createPartitioner: Partitioners.DefaultPartitioner,
      metadataMaxAge: this.metadataMaxAge,
      // Routes keep one request in flight each, which keeps per-partition order across retries.
      idempotent: false,
    });
    this.clients.push(producer);
    return new ProducerAdapter(producer);
  }

  consumer(groupId: string, topic: string, onCrash?: (error: Error) => void): KafkaConsumerPort {
    const create = () => {
      const consumer = this.kafka.consumer({
        groupId,
        allowAutoTopicCreation: false,
        metadataMaxAge: this.metadataMaxAge,
        // A crashed member holds its partitions until this expires; kept short so a replacement resumes quickly.
        sessionTimeout: this.s.sessionTimeoutMs,
        heartbeatInterval: Math.max(1000, Math.floor(this.s.sessionTimeoutMs / 3)),
        // A fetch stays in memory until every record of it is PUBACKed, and kafkajs fetches again only
        // then, so smaller fetches mean more idle gaps: 512 KiB per partition cost a quarter of the
        // 16 KB throughput. The total cap bounds memory on topics with many partitions (32 on a
        // large event hub would otherwise be 32 MiB per fetch). Both are divided by the compression
        // ratio seen so far, capped at about 10,000 records of the sizes seen, and the partition
        // order rotates per fetch (kafkajs-fetch-shaping.ts).
        maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
        maxBytes: FETCH_MAX_BYTES,
      });
      this.clients.push(consumer);
      return consumer;
    };
    return new KafkaConsumerAdapter(create, groupId, topic, this.s, this.log.child({ groupId, topic }), onCrash);
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const found = await this.describeTopics(topics);
    const missing = [...new Set(topics)].filter((t) => !found.has(t));
    if (missing.length) {
      throw new ConnectorError(
        "KAFKA_TOPIC_MISSING",
        `Kafka topic${missing.length > 1 ? "s" : ""} ${missing.map((t) => JSON.stringify(t)).join(", ")} do${missing.length > 1 ? "" : "es"} not exist; create ${missing.length > 1 ? "them" : "it"} (on Event Hubs: an event hub with the same name). The connector never creates topics.`,
      );
    }
    return found;
  }

  /** Partition count per topic; topics that do not exist are absent from the map. */
  async describeTopics(topics: string[]): Promise<Map<string, number>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const present = [...new Set(topics)].filter((t) => existing.has(t));
      if (!present.length) return new Map();
      const md = await admin.fetchTopicMetadata({ topics: present });
      return new Map(md.topics.map((t) => [t.name, t.partitions.length]));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async maxMessageBytes(topics: string[]): Promise<Map<string, number>> {
    const names = [...new Set(topics)];
    if (!names.length) return new Map();
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ["max.message.bytes"] })),
      });
      const out = new Map<string, number>();
      for (const r of resources) {
        const v = Number(r.configEntries.find((e) => e.configName === "max.message.bytes")?.configValue);
        if (!r.errorCode && Number.isSafeInteger(v) && v > 0) out.set(r.resourceName, v);
      }
      return out;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.disconnect().catch((e: unknown) => this.log.warn({ err: String(e) }, "Kafka disconnect failed"))));
  }
}

class ProducerAdapter implements KafkaProducerPort {
  constructor(private readonly p: Producer) {}
  connect(): Promise<void> {
    return this.p.connect();
  }
  async send(req: ProduceRequest): Promise<void> {
    await this.p.send({
      topic: req.topic,
      acks: req.acks,
      compression: COMPRESSION[req.compression],
      messages: req.records.map((r) => {
        const m: Message = { key: r.key, value: r.value, partition: r.partition };
        if (r.headers) m.headers = r.headers;
        if (r.timestamp) m.timestamp = r.timestamp;
        return m;
      }),
    });
  }
  disconnect(): Promise<void> {
    return this.p.disconnect();
  }
}
