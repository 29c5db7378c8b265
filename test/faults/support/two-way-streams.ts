// Set-up shared by the scenarios that run steady QoS 1 traffic both ways through one connector
// identity: topics and config, a far-end MQTT collector, then the two load generators; and the
// end: every message counted at both far ends.
import type { Admin } from "kafkajs";
import type { SharedBrokers } from "../../helpers/brokers";
import type { ConnectorProcess, ExitInfo } from "../../helpers/connector-process";
import { waitFor } from "../../helpers/wait";
import { progress, ticker } from "./env";
import { createTopics, makeTopology, note, scenarioFiles, TopicEndWatch, topologyConfig, type FaultScenario, type ScenarioFiles, type Topology } from "./scenario";
import { awaitKafkaDelivery, awaitMqttDelivery, kafkaAdmin, KafkaLoad, MqttCollector, MqttLoad, printSummary, SeqTally } from "./streams";

export interface TwoWay {
  /** Scenario number. */
  n: number;
  tag: string;
  messages: number;
  topo: Topology;
  files: ScenarioFiles;
  admin: Admin;
  /** Kafka→MQTT arrivals at the far end, per source partition. */
  k2mTally: SeqTally;
  collector: MqttCollector;
}

export interface Loads {
  mLoad: MqttLoad;
  kLoad: KafkaLoad;
  /** Sum of the MQTT→Kafka topic's end offsets, polled. */
  inKafka: TopicEndWatch;
  stopTicker: () => void;
}

/** Topics, the connector config, an admin client and the far-end collector, all disposed with the scenario. */
export async function prepareTwoWay(s: FaultScenario, n: number, dirName: string, messages: number): Promise<TwoWay> {
  const { brokers: b, scope } = s;
  const topo = makeTopology(n, { m2k: true, k2m: true });
  await createTopics(b, topo);
  const files = scenarioFiles(dirName, topologyConfig(b, topo));
  const admin = kafkaAdmin(b.kafka.bootstrap);
  await admin.connect();
  scope.add(() => admin.disconnect());
  const tag = `s${n}`;
  const k2m = topo.k2m!;
  const k2mTally = new SeqTally(`${tag}k`, messages, (seq) => seq % k2m.partitions); // lane: the source partition
  const collector = new MqttCollector({ url: b.mqtt.url, filter: k2m.mqttTopic, clientId: `${topo.id}-far-end`, onMessage: (_t, p) => k2mTally.offer(p) });
  await collector.start();
  scope.add(() => collector.stop());
  return { n, tag, messages, topo, files, admin, k2mTally, collector };
}

/** Starts both load generators and a progress line every 5 s (`extra` adds scenario state to it). */
export async function startLoads(s: FaultScenario, t: TwoWay, ratePerSec: number, extra: () => string = () => ""): Promise<Loads> {
  const { brokers: b, scope } = s;
  const m2k = t.topo.m2k!;
  const k2m = t.topo.k2m!;
  const mLoad = new MqttLoad({ url: b.mqtt.url, topic: m2k.mqttTopic, tag: `${t.tag}m`, count: t.messages, ratePerSec, clientId: `${t.topo.id}-load` });
  const kLoad = new KafkaLoad({ bootstrap: b.kafka.bootstrap, topic: k2m.kafkaTopic, partitions: k2m.partitions, tag: `${t.tag}k`, count: t.messages, ratePerSec });
  const inKafka = new TopicEndWatch(t.admin, m2k.kafkaTopic);
  scope.add(() => inKafka.stop());
  await Promise.all([mLoad.start(), kLoad.start()]);
  scope.add(() => mLoad.stop());
  scope.add(() => kLoad.stop());
  const stopTicker = ticker(5_000, () => {
    const more = extra();
    return `${t.tag}: mqtt→kafka ${mLoad.describe()}, in Kafka ${inKafka.value} | kafka→mqtt ${kLoad.describe()}, received ${t.k2mTally.total}${more ? ` | ${more}` : ""}`;
  });
  scope.add(stopTicker);
  return { mLoad, kLoad, inKafka, stopTicker };
}

/** Waits until every message has arrived at both far ends (or the timeout); returns the MQTT→Kafka tally. */
export async function awaitBothWays(b: SharedBrokers, t: TwoWay, timeoutMs = 120_000): Promise<SeqTally> {
  const [m2kTally] = await Promise.all([
    awaitKafkaDelivery({ bootstrap: b.kafka.bootstrap, admin: t.admin, topic: t.topo.m2k!.kafkaTopic, tag: `${t.tag}m`, expected: t.messages, timeoutMs }),
    awaitMqttDelivery({ tally: t.k2mTally, collector: t.collector, timeoutMs }),
  ]);
  return m2kTally;
}

/**
 * The end of a two-way scenario: waits for both load generators to finish (within `sendWithinMs`)
 * and for every message at both far ends, stops `proc` with SIGTERM and prints the summary.
 */
export async function finishTwoWay(
  s: FaultScenario,
  t: TwoWay,
  loads: Loads,
  proc: ConnectorProcess,
  sendWithinMs = 120_000,
): Promise<{ m2kTally: SeqTally; exit: ExitInfo }> {
  const { mLoad, kLoad } = loads;
  await waitFor("both load generators to finish", () => mLoad.acked >= t.messages && kLoad.produced >= t.messages, sendWithinMs, 250);
  progress(`${t.tag}: streams sent (${mLoad.describe()}; ${kLoad.describe()}); waiting for delivery`);
  const m2kTally = await awaitBothWays(s.brokers, t);
  loads.stopTicker();
  const exit = await proc.terminate();
  note(proc, `SIGTERM: exit ${exit.code}; ${proc.statsSummary()}`);
  printSummary(t.n, [
    { label: "mqtt->kafka", sent: t.messages, tally: m2kTally },
    { label: "kafka->mqtt", sent: t.messages, tally: t.k2mTally },
  ]);
  return { m2kTally, exit };
}
