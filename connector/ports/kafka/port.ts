import type { Kafka, KafkaConfig, SASLOptions } from "kafkajs";
import type { ConnectionOptions } from "node:tls";
import type { Logger } from "../../logger";
import type { Compression } from "../../config/schema";
import { ConnectorError } from "../../core/errors";
import { noDelaySocketFactory } from "./sockets";
import { installKafkajs, type KafkajsSeam } from "./seam";
import { kafkaError } from "./errors";
import { kafkaLogCreator, kafkajsLogLevel } from "./logs";
import { KafkaConsumerAdapter } from "./consumer";
import { ProducerAdapter } from "./producer";
import type { KafkaConsumerPort, KafkaPort, KafkaProducerPort } from "../types";

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

/** Per fetch: at most this much (compressed) data per partition, and in all. */
export const FETCH_MAX_BYTES_PER_PARTITION = 1024 * 1024;
export const FETCH_MAX_BYTES = 4 * 1024 * 1024;

/** Kafka through kafkajs, after the seam (seam.ts) has prepared kafkajs. */
export class KafkaJsPort implements KafkaPort {
  readonly seam: KafkajsSeam;
  private readonly kafka: Kafka;
  private readonly codecs: Record<Compression, number>;
  private readonly clients: { disconnect(): Promise<void> }[] = [];

  constructor(
    private readonly s: KafkaSettings,
    private readonly log: Logger,
    onEvent: (e: "reconnect" | "error") => void = () => undefined,
  ) {
    this.seam = installKafkajs();
    const { Kafka, CompressionTypes } = this.seam.kafkajs;
    this.codecs = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4 };
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
      createPartitioner: this.seam.kafkajs.Partitioners.DefaultPartitioner,
      metadataMaxAge: this.metadataMaxAge,
      // Routes keep one request in flight each, which keeps per-partition order across retries.
      idempotent: false,
    });
    this.clients.push(producer);
    return new ProducerAdapter(producer, this.codecs);
  }

  consumer(groupId: string, topics: string | readonly string[], onCrash?: (error: ConnectorError) => void): KafkaConsumerPort {
    const list = typeof topics === "string" ? [topics] : [...topics];
    const topic = list.join(",");
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
        // order rotates per fetch (fetch-shaping.ts).
        maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
        maxBytes: FETCH_MAX_BYTES,
      });
      this.clients.push(consumer);
      return consumer;
    };
    return new KafkaConsumerAdapter(create, groupId, list, this.s, this.log.child({ groupId, topic }), (e) => onCrash?.(kafkaError(e, `consumer of ${topic}`)));
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

  async describeTopics(topics: string[]): Promise<Map<string, number>> {
    return this.withAdmin("describe topics", async (admin) => {
      const existing = new Set(await admin.listTopics());
      const present = [...new Set(topics)].filter((t) => existing.has(t));
      if (!present.length) return new Map<string, number>();
      const md = await admin.fetchTopicMetadata({ topics: present });
      return new Map(md.topics.map((t) => [t.name, t.partitions.length]));
    });
  }

  async maxMessageBytes(topics: string[]): Promise<Map<string, number>> {
    const names = [...new Set(topics)];
    if (!names.length) return new Map();
    return this.withAdmin("describe topic configs", async (admin) => {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: names.map((name) => ({ type: this.seam.kafkajs.ConfigResourceTypes.TOPIC, name, configNames: ["max.message.bytes"] })),
      });
      const out = new Map<string, number>();
      for (const r of resources) {
        const v = Number(r.configEntries.find((e) => e.configName === "max.message.bytes")?.configValue);
        if (!r.errorCode && Number.isSafeInteger(v) && v > 0) out.set(r.resourceName, v);
      }
      return out;
    });
  }

  private async withAdmin<T>(what: string, fn: (admin: ReturnType<Kafka["admin"]>) => Promise<T>): Promise<T> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      return await fn(admin);
    } catch (e) {
      throw kafkaError(e, what);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.disconnect().catch((e: unknown) => this.log.warn({ err: String(e) }, "Kafka disconnect failed"))));
  }
}
