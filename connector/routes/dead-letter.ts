import type { DeadLetterTarget } from "../config/schema";
import type { KafkaHeaders, MqttProperties } from "../core/properties";
import { backoffMs, sleep } from "../core/backoff";
import type { Logger } from "../logger";
import type { KafkaProducerPort, MqttPublisher } from "../ports/types";

/** Headers (Kafka) or user properties (MQTT) that explain a dead letter. */
export const DLQ = {
  reason: "dlq-reason",
  sourceTopic: "dlq-source-topic",
  route: "dlq-route",
  time: "dlq-time",
  sourcePartition: "dlq-source-partition",
  sourceOffset: "dlq-source-offset",
  payloadOmitted: "dlq-payload-omitted-bytes",
} as const;

export interface DeadLetter {
  reason: string;
  sourceTopic: string;
  payload: Buffer;
  key?: Buffer | null;
  /** Original Kafka headers (kafkaToMqtt) to keep on a Kafka dead-letter record. */
  headers?: KafkaHeaders;
  /** Original MQTT properties (mqttToKafka) to keep on an MQTT dead letter. */
  properties?: MqttProperties;
  source?: { partition: number; offset: string };
}

export interface DeadLetterSink {
  readonly describe: string;
  /** Resolves once the dead letter is stored, or once it is given up on (logged and counted as dropped). */
  send(d: DeadLetter): Promise<"stored" | "dropped">;
}

export function explanation(route: string, d: DeadLetter, now = new Date()): Record<string, string> {
  const out: Record<string, string> = {
    [DLQ.reason]: d.reason,
    [DLQ.sourceTopic]: d.sourceTopic,
    [DLQ.route]: route,
    [DLQ.time]: now.toISOString(),
  };
  if (d.source) {
    out[DLQ.sourcePartition] = String(d.source.partition);
    out[DLQ.sourceOffset] = d.source.offset;
  }
  return out;
}

/** No target configured: log, count, move on. */
export class DropSink implements DeadLetterSink {
  readonly describe = "drop";
  constructor(private readonly log: Logger) {}
  async send(d: DeadLetter): Promise<"dropped"> {
    this.log.error({ reason: d.reason, sourceTopic: d.sourceTopic, bytes: d.payload.length, ...d.source }, "undeliverable message dropped (no deadLetter target)");
    return "dropped";
  }
}

const MAX_ATTEMPTS = 5;

/** Kafka dead-letter topic. A payload too large for a produce request is replaced by its size. */
export class KafkaSink implements DeadLetterSink {
  readonly describe: string;
  constructor(
    private readonly route: string,
    private readonly topic: string,
    private readonly producer: KafkaProducerPort,
    private readonly partitionCount: (topic: string) => number,
    private readonly maxBytes: number,
    private readonly log: Logger,
  ) {
    this.describe = `kafka:${topic}`;
  }
  private next = 0;

  async send(d: DeadLetter): Promise<"stored" | "dropped"> {
    const tooBig = d.payload.length + (d.key?.length ?? 0) > this.maxBytes;
    const headers: KafkaHeaders = { ...(d.headers ?? {}), ...explanation(this.route, d) };
    if (tooBig) headers[DLQ.payloadOmitted] = String(d.payload.length);
    const partition = this.next++ % Math.max(1, this.partitionCount(this.topic));
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        await this.producer.send({
          topic: this.topic,
          acks: -1,
          compression: "none",
          records: [{ key: d.key ?? null, value: tooBig ? Buffer.alloc(0) : d.payload, partition, headers }],
        });
        this.log.warn({ reason: d.reason, sourceTopic: d.sourceTopic, deadLetterTopic: this.topic, ...d.source }, "message sent to the dead-letter topic");
        return "stored";
      } catch (e) {
        this.log.error({ err: (e as Error).message, deadLetterTopic: this.topic, attempt }, "dead-letter send failed");
        await sleep(backoffMs(attempt));
      }
    }
    this.log.error({ reason: d.reason, sourceTopic: d.sourceTopic, deadLetterTopic: this.topic }, "dead letter dropped after repeated failures");
    return "dropped";
  }
}

/** MQTT dead-letter topic, published at QoS 1 with the original user properties plus the explanation. */
export class MqttSink implements DeadLetterSink {
  readonly describe: string;
  constructor(
    private readonly route: string,
    private readonly topic: string,
    private readonly publisher: MqttPublisher,
    private readonly log: Logger,
  ) {
    this.describe = `mqtt:${topic}`;
  }

  async send(d: DeadLetter): Promise<"stored" | "dropped"> {
    const user: Record<string, string | string[]> = { ...(d.properties?.userProperties ?? {}), ...explanation(this.route, d) };
    // Keep what describes the payload; the format indicator is dropped since the payload may be why it failed.
    const props: MqttProperties = { userProperties: user };
    if (d.properties?.contentType !== undefined) props.contentType = d.properties.contentType;
    if (d.properties?.correlationData !== undefined) props.correlationData = d.properties.correlationData;
    try {
      await this.publisher.publish(this.topic, d.payload, 1, props);
      this.log.warn({ reason: d.reason, sourceTopic: d.sourceTopic, deadLetterTopic: this.topic, ...d.source }, "message sent to the dead-letter topic");
      return "stored";
    } catch (e) {
      this.log.error({ err: (e as Error).message, reason: d.reason, deadLetterTopic: this.topic }, "dead letter refused by the MQTT broker; dropped");
      return "dropped";
    }
  }
}

export interface SinkFactoryDeps {
  route: string;
  producer: () => KafkaProducerPort;
  publisher: () => MqttPublisher;
  partitionCount: (topic: string) => number;
  maxBytes: number;
  log: Logger;
}

export function createSink(target: DeadLetterTarget | undefined, deps: SinkFactoryDeps): DeadLetterSink {
  if (target?.kafkaTopic) return new KafkaSink(deps.route, target.kafkaTopic, deps.producer(), deps.partitionCount, deps.maxBytes, deps.log);
  if (target?.mqttTopic) return new MqttSink(deps.route, target.mqttTopic, deps.publisher(), deps.log);
  return new DropSink(deps.log);
}
