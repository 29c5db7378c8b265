import type { CompressionTypes, Message, Producer } from "kafkajs";
import type { Compression } from "../../config/schema";
import type { KafkaProducerPort, OutboundRecord, ProduceRequest } from "../types";
import { kafkaError } from "./errors";

/** A kafkajs producer as routes see it: records with explicit partitions, errors as ConnectorErrors. */
export class ProducerAdapter implements KafkaProducerPort {
  constructor(
    private readonly p: Producer,
    private readonly codecs: Record<Compression, CompressionTypes>,
  ) {}

  async connect(): Promise<void> {
    await this.p.connect().catch((e: unknown) => {
      throw kafkaError(e, "Kafka producer");
    });
  }

  async send(req: ProduceRequest): Promise<void> {
    // One topic, as for every route with a fixed kafkaTopic; a templated route's batch may span several.
    const byTopic = new Map<string, Message[]>();
    for (const r of req.records) {
      const topic = r.topic ?? req.topic;
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push(message(r));
    }
    try {
      if (byTopic.size <= 1) {
        const [topic, messages] = byTopic.entries().next().value ?? [req.topic, []];
        await this.p.send({ topic, acks: req.acks, compression: this.codecs[req.compression], messages });
      } else {
        // One request per broker for all topics, as send() does for one.
        await this.p.sendBatch({ acks: req.acks, compression: this.codecs[req.compression], topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      }
    } catch (e) {
      throw kafkaError(e, `produce to ${[...byTopic.keys()].join(", ") || req.topic}`);
    }
  }

  disconnect(): Promise<void> {
    return this.p.disconnect();
  }
}

function message(r: OutboundRecord): Message {
  const m: Message = { key: r.key, value: r.value, partition: r.partition };
  if (r.headers) m.headers = r.headers;
  if (r.timestamp) m.timestamp = r.timestamp;
  return m;
}
