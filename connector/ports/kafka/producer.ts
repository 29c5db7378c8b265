import type { CompressionTypes, Message, Producer } from "kafkajs";
import type { Compression } from "../../config/schema";
import type { KafkaProducerPort, ProduceRequest } from "../types";
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
    try {
      await this.p.send({
        topic: req.topic,
        acks: req.acks,
        compression: this.codecs[req.compression],
        messages: req.records.map((r) => {
          const m: Message = { key: r.key, value: r.value, partition: r.partition };
          if (r.headers) m.headers = r.headers;
          if (r.timestamp) m.timestamp = r.timestamp;
          return m;
        }),
      });
    } catch (e) {
      throw kafkaError(e, `produce to ${req.topic}`);
    }
  }

  disconnect(): Promise<void> {
    return this.p.disconnect();
  }
}
