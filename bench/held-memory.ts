/**
 * `npm run bench:held`: what one MQTT→Kafka QoS 0 message waiting for Kafka really costs in memory,
 * against what the `--max-buffered-bytes` bound counts for it (its record bytes plus a fixed
 * overhead). A real Mosquitto and the real subscription and pipeline; the Kafka producer never
 * acknowledges, so every message stays held. Live memory is read after forced collections.
 * Options: --count N (default 50000), --size BYTES (default 100), --properties (copy MQTT properties).
 */
import { parseArgs } from "node:util";
import pino from "pino";
import { startMosquitto } from "../scripts/local-brokers";
import { MqttToKafkaPipeline } from "../connector/routes/mqtt-to-kafka";
import { HELD_MESSAGE_OVERHEAD } from "../connector/routes/limits";
import { MqttJsPort } from "../connector/ports/mqtt/port";
import { ConnectorMetrics } from "../connector/metrics";
import type { KafkaProducerPort } from "../connector/ports/types";
import type { MqttToKafkaRoute, TopicMapSpecResolved } from "../connector/config/schema";
import { worker } from "./procs";
import { sleep } from "./common";

const { values } = parseArgs({ options: { count: { type: "string" }, size: { type: "string" }, properties: { type: "boolean" } } });
const COUNT = Number(values.count ?? 50_000);
const SIZE = Number(values.size ?? 100);

const gc = (globalThis as { gc?: () => void }).gc;

async function settle(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await sleep(100);
  }
  return process.memoryUsage();
}

async function main(): Promise<void> {
  if (!gc) throw new Error("run with node --expose-gc (npm run bench:held does)");
  const mosquitto = await startMosquitto();
  try {
    const url = `mqtt://127.0.0.1:${mosquitto.port}`;
    const log = pino({ level: "error" });
    const never: KafkaProducerPort = { connect: async () => undefined, send: () => new Promise<void>(() => undefined), disconnect: async () => undefined };
    const map = {
      compression: "none",
      batching: { enabled: false, latencyMs: 5, maxMessages: 100_000, maxBytes: 1_000_000 },
      partitionStrategy: "default",
      copyMqttProperties: values.properties ?? false,
      routes: [],
    } as unknown as TopicMapSpecResolved;
    const route = { name: "held", mqttTopic: "bench/held", kafkaTopic: "held", qos: 0, kafkaAcks: "all" } as MqttToKafkaRoute;
    const pipeline = new MqttToKafkaPipeline(route, map, new MqttJsPort({ url, reconnectPeriodMs: 1000 }, log), never, {
      key: "held/held",
      instanceIndex: 0,
      clientIdPrefix: "bench-held",
      receiveMaximum: 1000,
      sessionExpirySeconds: 0,
      subscription: { filter: route.mqttTopic, clients: 1, mode: "plain", stale: [] },
      maxBufferedBytes: 2 ** 31, // nothing shed: every message is held
      hash: () => 0,
      partitionCount: () => 3,
      origin: "bench-held",
      leaveSharedOnStop: false,
      metrics: new ConnectorMetrics().route("held", "mqttToKafka"),
    }, log);
    await pipeline.start();
    const before = await settle();
    const pub = worker("mqtt-pub", { url, topic: route.mqttTopic, count: COUNT, size: SIZE, qos: 0, pass: 1, rate: 20_000 });
    await pub.result;
    for (const until = Date.now() + 20_000; pipeline.stats.received < COUNT && Date.now() < until; ) await sleep(100);
    const after = await settle();
    const held = pipeline.stats.received - pipeline.stats.dropped;
    if (held === 0) throw new Error("no message arrived");
    const per = (k: keyof NodeJS.MemoryUsage): number => Math.round((after[k] - before[k]) / held);
    const counted = Math.round(pipeline.buffered / held) + HELD_MESSAGE_OVERHEAD;
    const live = per("heapUsed") + per("arrayBuffers");
    process.stdout.write(
      `${held} held messages of ${SIZE} B${values.properties ? " with properties copied" : ""} (of ${COUNT} published)\n` +
        `  counted by the bound: ${counted} B each (record ${counted - HELD_MESSAGE_OVERHEAD} + ${HELD_MESSAGE_OVERHEAD})\n` +
        `  live: ${live} B each (JS heap ${per("heapUsed")}, buffers ${per("arrayBuffers")}), ${(live / counted).toFixed(2)} of what is counted\n` +
        `  RSS grew ${per("rss")} B per message (V8 keeps headroom above the live heap)\n`,
    );
  } finally {
    await mosquitto.dispose();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
