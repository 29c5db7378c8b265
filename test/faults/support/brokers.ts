// The fault suite's own brokers: one Kafka and one Mosquitto with persistence,
// shared by the scenario files (isolated by unique topics, groups and client
// IDs). Scenarios stop and restart them; `ensureRunning` puts them back before
// the next scenario even when one failed half-way.
import { startKafka, startMosquitto, type KafkaBroker, type MosquittoBroker } from "../../../scripts/local-brokers";
import { progress } from "./env";

export interface FaultBrokers {
  kafka: KafkaBroker;
  /** persistence true: sessions and their queues survive a restart. */
  mqtt: MosquittoBroker;
}

let shared: Promise<FaultBrokers> | undefined;

export function faultBrokers(): Promise<FaultBrokers> {
  shared ??= (async () => {
    const started = Date.now();
    const [kafka, mqtt] = await Promise.allSettled([
      startKafka({ heapMb: 512 }),
      startMosquitto({
        persistence: true,
        // The harness autosaves every second. Scenario 4 piles up hundreds of
        // MB for a stopped Kafka, and mosquitto 2.0 rewrites its whole
        // database on each save; the restart in scenario 3 is a graceful stop,
        // which saves the database anyway. The later line overrides the harness's.
        extraConfig: ["autosave_interval 120"],
      }),
    ]);
    if (kafka.status === "fulfilled" && mqtt.status === "fulfilled") {
      progress(`brokers up in ${((Date.now() - started) / 1000).toFixed(1)} s: kafka ${kafka.value.bootstrap}, mosquitto ${mqtt.value.url} (persistence on)`);
      return { kafka: kafka.value, mqtt: mqtt.value };
    }
    if (kafka.status === "fulfilled") await kafka.value.dispose();
    if (mqtt.status === "fulfilled") await mqtt.value.dispose();
    throw kafka.status === "rejected" ? kafka.reason : (mqtt as PromiseRejectedResult).reason;
  })();
  return shared;
}

/** Restart whichever broker a previous scenario left stopped. */
export async function ensureRunning(b: FaultBrokers): Promise<void> {
  if (!b.kafka.running) {
    progress("kafka was left stopped; starting it");
    await b.kafka.start();
  }
  if (!b.mqtt.running) {
    progress("mosquitto was left stopped; starting it");
    await b.mqtt.start();
  }
}

export async function stopFaultBrokers(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (!current) return;
  const b = await current.catch(() => undefined);
  if (b) await Promise.all([b.kafka.dispose(), b.mqtt.dispose()]);
}
