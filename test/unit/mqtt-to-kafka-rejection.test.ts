// When Kafka refuses one record of a request, kafkajs fails the whole request although Kafka has
// appended the batches of the other partitions. The route must isolate the bad record without
// losing a message and without appending the other partitions' records again at every step.
import { strict as assert } from "node:assert";
import pino from "pino";
import { MqttToKafkaPipeline } from "../../connector/routes/mqtt-to-kafka";
import { ConnectorMetrics } from "../../connector/metrics";
import type { MqttToKafkaRoute, TopicMapSpecResolved } from "../../connector/config/schema";
import { kafkaError } from "../../connector/ports/kafka/errors";
import type { InboundMqttMessage, KafkaProducerPort, MqttPort, MqttSubscription, ProduceRequest } from "../../connector/ports/types";

const PARTITIONS = 3;

/** Kafka as far as this matters: each partition's batch is appended or refused on its own. */
class FakeKafka implements KafkaProducerPort {
  readonly log: string[] = [];
  private gate: Promise<void> | undefined;
  private open: () => void = () => undefined;

  holdNextSend(): void {
    this.gate = new Promise((r) => (this.open = r));
  }

  release(): void {
    this.open();
  }

  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}

  async send(req: ProduceRequest): Promise<void> {
    const gate = this.gate;
    this.gate = undefined;
    if (gate) await gate;
    let refused = false;
    for (let p = 0; p < PARTITIONS; p++) {
      const values = req.records.filter((r) => r.partition === p).map((r) => r.value.toString());
      if (values.includes("BAD")) refused = true;
      else this.log.push(...values);
    }
    // As the Kafka port reports it: kafkajs' error, mapped to the connector's own.
    if (refused) throw kafkaError(Object.assign(new Error("The request included a message larger than the max message size the server will accept"), { type: "MESSAGE_TOO_LARGE" }), `produce to ${req.topic}`);
  }
}

describe("mqttToKafka: a record Kafka refuses inside a multi-partition batch", () => {
  it("is dropped alone; every other message reaches Kafka, other partitions' records at most twice", async () => {
    let deliver: (m: InboundMqttMessage) => void = () => undefined;
    const settled: string[] = [];
    const mqtt: MqttPort = {
      subscribe: (_opts, onMessage): MqttSubscription => {
        deliver = onMessage;
        return { clientId: "c", start: async () => undefined, unsubscribe: async () => undefined, close: async () => undefined, connected: true, inFlight: 0 };
      },
      publisher: () => {
        throw new Error("no publisher in this test");
      },
    };
    const kafka = new FakeKafka();
    const map = {
      compression: "none",
      batching: { enabled: false, latencyMs: 5, maxMessages: 100_000, maxBytes: 1_000_000 },
      partitionStrategy: "default",
      copyMqttProperties: false,
      routes: [],
    } as unknown as TopicMapSpecResolved;
    const route = { name: "r", mqttTopic: "t", kafkaTopic: "k", qos: 1, kafkaAcks: "all" } as MqttToKafkaRoute;
    const pipeline = new MqttToKafkaPipeline(route, map, mqtt, kafka, {
      key: "m/r",
      instanceIndex: 0,
      clientIdPrefix: "test",
      receiveMaximum: 1000,
      sessionExpirySeconds: 0,
      subscription: { filter: route.mqttTopic, clients: 1, mode: "plain", stale: [] },
      maxBufferedBytes: 1 << 26,
      hash: () => 0,
      partitionCount: () => PARTITIONS,
      origin: "test",
      leaveSharedOnStop: false,
      metrics: new ConnectorMetrics().route("r", "mqttToKafka"),
    }, pino({ level: "silent" }));
    await pipeline.start();
    const message = (value: string): InboundMqttMessage => ({ topic: "t", payload: Buffer.from(value), qos: 1, properties: {}, receivedAt: Date.now(), settle: () => settled.push(value) });

    // The first message goes out alone and is held, so the next 60 form one batch behind it.
    kafka.holdNextSend();
    deliver(message("first"));
    const values = Array.from({ length: 60 }, (_, i) => (i === 31 ? "BAD" : `m${i}`));
    for (const v of values) deliver(message(v));
    kafka.release();
    await pipeline.drain();

    const good = ["first", ...values.filter((v) => v !== "BAD")];
    const copies = new Map<string, number>();
    for (const v of kafka.log) copies.set(v, (copies.get(v) ?? 0) + 1);
    for (const v of good) assert.ok((copies.get(v) ?? 0) >= 1, `${v} never reached Kafka`);
    assert.equal(copies.get("BAD"), undefined);
    assert.deepEqual([...settled].sort(), [...good, "BAD"].sort(), "every message settled, the refused one once dropped");
    assert.equal(pipeline.stats.dropped, 1);
    // In the refused request Kafka appended the other two partitions' 40 records; they go once more.
    const duplicates = kafka.log.length - new Set(kafka.log).size;
    assert.ok(Math.max(...copies.values()) <= 2, `a record was appended ${Math.max(...copies.values())} times`);
    assert.equal(duplicates, 40, `duplicates: ${duplicates}`);
  });
});
