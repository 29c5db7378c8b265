// The shape of spool scenarios 7-10: a keyed QoS 1 stream at 2,000 msg/s into one connector on a
// stock-queue Mosquitto, Kafka stopped for a while and started again, optionally kill -9 of the
// connector during the outage and during the replay; then every sequence number is looked for in
// Kafka, and the spool's and the broker's figures are reported.
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { ConnectorProcess } from "../../helpers/connector-process";
import { delay as sleep, pollUntil, waitFor } from "../../helpers/wait";
import { progress, ticker } from "./env";
import { createTopics, makeTopology, note, scenarioFiles, TopicEndWatch, topologyConfig, type FaultScenario } from "./scenario";
import { BrokerDrops, fsyncSummary, keyedKafkaTally, keyedRoute, keyTopic, PARTITIONS, receivedFromStoppedLine, spoolArgs, SpoolWatch, SPOOL_RATE, type SpoolMetrics } from "./spool";
import { kafkaAdmin, MqttLoad, printSummary, type SeqTally } from "./streams";

export interface SpoolOutage {
  n: number;
  dirName: string;
  /** --spool-max-bytes; no spool at all when undefined. */
  spoolMaxBytes?: number;
  outageS: number;
  /** Seconds of stream before Kafka stops, and after it is back. */
  beforeS: number;
  afterS: number;
  /** kill -9 and replace the connector this many times during the outage (spread evenly). */
  killsDuringOutage?: number;
  /** kill -9 and replace it once while it replays the backlog. */
  killDuringReplay?: boolean;
  /** --receive-maximum (the connector's default 1000 when undefined). */
  receiveMaximum?: number;
  /** Wait for the whole stream in Kafka; otherwise for all but what the broker says it dropped. */
  expectAll: boolean;
}

export interface SpoolOutageResult {
  tag: string;
  sent: number;
  tally: SeqTally;
  load: MqttLoad;
  watch: SpoolWatch;
  /** The broker's $SYS drop counter over the scenario (undefined if it never reported). */
  brokerDropped: number | undefined;
  /** messages_received_total of the last process (from its "connector stopped" line). */
  lastReceived: number | undefined;
  processes: number;
  /** Metrics of the last process just before its SIGTERM. */
  final: SpoolMetrics | undefined;
  replay?: { backlog: number; seconds: number; replayed: number; rate: number };
  restarts: string[];
}

export async function runSpoolOutage(s: FaultScenario, o: SpoolOutage): Promise<SpoolOutageResult> {
  const { brokers: b, scope } = s;
  const tag = `s${o.n}m`;
  const N = Math.round(SPOOL_RATE * (o.beforeS + o.outageS + o.afterS));
  const topo = makeTopology(o.n, { m2k: true, k2m: false }, PARTITIONS);
  const m2k = topo.m2k!;
  await createTopics(b, topo);
  const files = scenarioFiles(o.dirName, topologyConfig(b, topo, keyedRoute(topo)));
  const spoolDir = join(files.dir, "spool");
  rmSync(spoolDir, { recursive: true, force: true });
  const extraArgs = o.spoolMaxBytes === undefined ? [] : spoolArgs(spoolDir, o.spoolMaxBytes);
  const admin = kafkaAdmin(b.kafka.bootstrap);
  await admin.connect();
  scope.add(() => admin.disconnect());
  const drops = new BrokerDrops(b.mqtt.url);
  await drops.start();
  scope.add(() => drops.stop());
  const dropsBefore = await drops.fresh();

  let processes = 0;
  const spawnConnector = async (): Promise<ConnectorProcess> => {
    processes++;
    return s.startConnector(files, { label: `connector #${processes}`, extraArgs, receiveMaximum: o.receiveMaximum, readyWithinMs: 60_000, hardLimitMs: 1_800_000 });
  };
  let proc = await spawnConnector();
  const restarts: string[] = [];
  const killAndReplace = async (when: string): Promise<void> => {
    note(proc, `kill -9 (${when}; ${watch.describe()})`);
    const before = drops.value;
    const t = Date.now();
    await proc.kill();
    proc = await spawnConnector();
    const ready = (Date.now() - t) / 1000;
    const after = await drops.fresh();
    const dropped = before !== undefined && after !== undefined ? String(after - before) : "n/a";
    restarts.push(`${when}: replacement ready ${ready.toFixed(1)} s after the kill, broker dropped ${dropped} meanwhile`);
  };

  const watch = new SpoolWatch(() => proc, join(files.dir, "metrics-timeline.txt"));
  scope.add(() => watch.stop());
  const load = new MqttLoad({ url: b.mqtt.url, topic: m2k.mqttTopic, topicOf: (seq) => keyTopic(m2k.mqttTopic, seq), tag, count: N, ratePerSec: SPOOL_RATE, clientId: `${topo.id}-load` });
  const inKafka = new TopicEndWatch(admin, m2k.kafkaTopic);
  scope.add(() => inKafka.stop());
  await load.start();
  scope.add(() => load.stop());
  const stopTicker = ticker(5_000, () => `s${o.n}: ${load.describe()}, in Kafka ${inKafka.value} | kafka ${b.kafka.running ? "up" : "DOWN"} | pid ${proc.pid} | ${extraArgs.length ? watch.describe() : "no spool"}`);
  scope.add(stopTicker);

  await waitFor(`${o.beforeS} s of stream acknowledged by the broker`, () => load.acked >= SPOOL_RATE * o.beforeS, 60_000);
  progress(`s${o.n}: stopping Kafka for ${o.outageS} s (in Kafka ${inKafka.value}, ${load.describe()})`);
  const ackedAtStop = load.acked;
  await b.kafka.stop();
  const outageStart = Date.now();
  const kills = o.killsDuringOutage ?? 0;
  for (let k = 1; k <= kills; k++) {
    await sleep(Math.max(0, outageStart + (o.outageS * 1000 * k) / (kills + 1) - Date.now()));
    await killAndReplace(`kill #${k}, ${((Date.now() - outageStart) / 1000).toFixed(0)} s into the outage`);
  }
  await sleep(Math.max(0, outageStart + o.outageS * 1000 - Date.now()));
  await watch.sample();
  const backlog = watch.last?.records ?? 0;
  progress(`s${o.n}: outage over: ${load.acked - ackedAtStop} messages acknowledged by the broker meanwhile; ${extraArgs.length ? watch.describe() : "no spool"}; starting Kafka`);
  await b.kafka.start();
  const back = Date.now();
  const replayedAtBack = watch.replayed;

  if (o.killDuringReplay) {
    const moved = await pollUntil(() => watch.replayed - replayedAtBack >= backlog / 3, 180_000, 200);
    if (!moved) progress(`s${o.n}: warning: the replay did not reach a third of the backlog within 180 s`);
    await killAndReplace(`kill during the replay, ${watch.replayed - replayedAtBack} of ${backlog} backlog records replayed`);
  }

  let replay: SpoolOutageResult["replay"];
  if (extraArgs.length) {
    const emptied = await pollUntil(async () => {
      const m = await watch.sample();
      return m !== undefined && m.records === 0 && m.spooling === 0;
    }, 600_000, 500);
    const seconds = (Date.now() - back) / 1000;
    const replayed = watch.replayed - replayedAtBack;
    replay = { backlog, seconds, replayed, rate: replayed / seconds };
    progress(
      emptied
        ? `s${o.n}: spool empty ${seconds.toFixed(1)} s after Kafka was started: ${replayed} records sent from the spool (backlog at the restart ${backlog}, the rest arrived meanwhile), ${replay.rate.toFixed(0)} records/s; direct sends again`
        : `s${o.n}: warning: the spool was not empty 600 s after Kafka was started (${watch.describe()})`,
    );
  }

  const rest = Math.max(0, (N - load.acked) / SPOOL_RATE) * 1000;
  await waitFor("the load generator to finish", () => load.acked >= N, rest + 120_000, 250);
  progress(`s${o.n}: stream sent (${load.describe()}); waiting for delivery`);
  // The load is done (and the spool empty): what the broker dropped is known now, the rest must arrive.
  const dropsAfter = await drops.fresh();
  const brokerDropped = dropsBefore !== undefined && dropsAfter !== undefined ? dropsAfter - dropsBefore : dropsAfter;
  const tally = await keyedKafkaTally(b, admin, m2k.kafkaTopic, tag, N, {
    minRecords: o.expectAll ? N : N - (brokerDropped ?? N),
    // What is not in Kafka within this is not coming.
    timeoutMs: 90_000,
    settleMs: 5_000,
  });
  stopTicker();
  const final = await watch.sample();
  watch.stop();
  const exit = await proc.terminate();
  note(proc, `SIGTERM: exit ${exit.code}; ${proc.statsSummary()}`);

  printSummary(o.n, [{ label: "mqtt->kafka", sent: N, tally }]);
  const order = tally.inversions === 0 ? "each key in order in Kafka (first copies)" : `${tally.inversions} first copies out of order within their key`;
  progress(`s${o.n}: ${order}; broker acknowledged ${load.acked} publishes, Mosquitto's $SYS dropped counter rose by ${brokerDropped ?? "n/a"}`);
  if (extraArgs.length) {
    progress(`s${o.n}: spool peak ${watch.peakRecords} records, ${(watch.peakBytes / 2 ** 20).toFixed(1)} MiB, oldest record ${watch.peakAgeS.toFixed(0)} s; ${fsyncSummary(final)} (last process)`);
  }
  progress(`s${o.n}: most messages unacknowledged at the connector ${watch.peakInFlight} (--receive-maximum ${o.receiveMaximum ?? 1000}); longest event-loop stall reported ${(watch.peakLoopLagS * 1000).toFixed(0)} ms`);
  if (restarts.length) progress(`s${o.n}: ${restarts.join(" | ")}`);
  return { tag, sent: N, tally, load, watch, brokerDropped, lastReceived: receivedFromStoppedLine(proc), processes, final, replay, restarts };
}
