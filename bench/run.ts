/**
 * `npm run bench`: the connector against raw-client ceilings measured in the same run on the same
 * local brokers. See docs/benchmark.md.
 *
 * Per scenario (bench/scenarios.ts):
 *   1. flat out: the load generator sends `count` messages as fast as the source broker takes them;
 *      the sustained rate is the middle 80 % of what arrives at the target broker;
 *   2. latency: paced at half of that rate for a few seconds; p50/p99 from the send time stamped in
 *      each payload to its arrival at a reader of the target broker;
 *   connector CPU from /proc/<pid>/stat over each window, peak RSS from /proc/<pid>/status VmHWM.
 * Ceilings: (1) Mosquitto → raw mqtt.js subscriber, PUBACK at once; (2) raw kafkajs producer with the
 * same batch sizes, compression and acks; (3) raw kafkajs consumer feeding a raw mqtt.js publisher.
 *
 * Options: --quick (the two target scenarios, smaller counts: about a minute), --only ID[,ID...],
 * --latency-seconds N (default 6, quick 3), --out DIR (default bench/results), --memory-limit MIB|none
 * (default: the KafkaConnector component's default limit; see bench/connector-runtime.ts).
 * BENCH_CPU_PROF=DIR writes a V8 CPU profile of each connector run into DIR.
 *
 * --peer (or a Bento binary already cached by scripts/bento/build.sh): the peer bridge Bento runs
 * on the 100 B and 1 KB QoS 1 scenarios of both directions too (bench/peer.ts), with its own
 * targets; --peer builds the binary first if it is not cached. With --peer, the C clients
 * (mosquitto_pub → mosquitto_sub, kcat → kcat) are measured as reference rows, if installed.
 *
 * --scale (or `scale` in --only's list): one mqttToKafka route on 1, 2 and 3 connector instances
 * sharing it, fed by --scale-publishers (default 2) publishers (bench/scale.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { execFileSync } from "node:child_process";
import { Kafka, logLevel } from "kafkajs";
import { startLocalBrokers, KAFKA_VERSION, type LocalBrokers } from "../scripts/local-brokers";
import { fmt, followCount, nowMs, sleep, sustained, type LatencySummary, type Timeline, type Window } from "./common";
import { ConnectorProcess, ProcSampler, cpuSnapshot, metricValue, otherCpuPercent, statusKb, worker, type Worker } from "./procs";
import { batchingOf, ceilingBatch, describe, FANOUT_BASELINE, latencyBudgetMs, RECEIVE_MAXIMUM, scenarios, SPOOL_BASELINE, type Scenario } from "./scenarios";
import { replayPass, type ReplayResult } from "./spool-replay";
import { connectorRuntime, DEFAULT_LIMIT_MIB, type ConnectorRuntime } from "./connector-runtime";
import { judgeRounds } from "./rounds";
import { toMarkdown, toPeerSvg, toSvg, type BenchResults, type CeilingResult, type PeerResult, type ReferenceResult, type ScenarioResult, type TargetResult } from "./report";
import { BENTO_GUARANTEES, BENTO_VERSION, BentoProcess, bentoBatchPolicy, bentoBinary, bentoVersion, k2mConfig, m2kConfig, pahoUrl } from "./peer";
import { cClientReferences } from "./c-clients";
import { scalePass, type ScaleRow } from "./scale";
import { backlogDrain, type BacklogResult } from "./backlog";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean" },
    only: { type: "string" },
    "latency-seconds": { type: "string" },
    out: { type: "string" },
    "mosquitto-inflight": { type: "string" },
    "memory-limit": { type: "string" },
    peer: { type: "boolean" },
    scale: { type: "boolean" },
    "scale-publishers": { type: "string" },
  },
});
const QUICK = values.quick ?? false;
const LATENCY_SECONDS = Number(values["latency-seconds"] ?? (QUICK ? 3 : 6));
/**
 * The first second of a latency pass is not counted: the paced publisher and the reader are fresh
 * processes, and their first second (JIT, connection set-up, the reader's first fetches) shows
 * stalls that are theirs, not the connector's.
 */
const WARMUP = Math.min(0.5, 1 / LATENCY_SECONDS);
/** Share of the max rate the latency passes run at; BENCH_LAT_FRACTION changes it for experiments. */
const LATENCY_FRACTION = Number(process.env["BENCH_LAT_FRACTION"] ?? 0.5);
const OUT = resolve(values.out ?? join(__dirname, "..", "..", "bench", "results"));
const PARTITIONS = 3;
/** Records per request for the bench's own producers: at most 1000, and under Kafka's 1 MB message limit. */
const produceBatch = (size: number) => Math.min(1000, Math.floor(900_000 / (size + 64)));
/**
 * Mosquitto's Receive Maximum for publishers (`max_inflight_messages`, default 20): it bounds the
 * load generator, the connector's kafkaToMqtt publisher and ceiling 3 alike.
 */
const MOSQUITTO_INFLIGHT = values["mosquitto-inflight"];
const MOSQUITTO_EXTRA: string[] = MOSQUITTO_INFLIGHT ? [`max_inflight_messages ${MOSQUITTO_INFLIGHT}`] : [];

const t0 = Date.now();
const clock = () => {
  const s = Math.round((Date.now() - t0) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
};
const log = (line: string) => void process.stdout.write(`[${clock()}] ${line}\n`);

/** The scale pass's route: the MQTT→Kafka baseline (QoS 1, 100 B, default batching). */
const SCALE_SCENARIO = scenarios(false).find((s) => s.id === "m2k-q1-100b")!;

/** Scenarios the peer bridge runs on (issue 19: QoS 1, 100 B and 1 KB, both directions). */
const PEER_SCENARIOS = new Set(["m2k-q1-100b", "m2k-q1-1kb", "k2m-q1-100b", "k2m-q1-1kb"]);
/** The Bento binary when the peer runs (bench/peer.ts); undefined: the bench as without --peer. */
let bento: string | undefined;

let brokers: LocalBrokers;
let admin: ReturnType<Kafka["admin"]>;
let topicSeq = 0;
let passSeq = 0;
/** Every ceiling measured, in order; each scenario measures its own right before it runs. */
const ceilings: CeilingResult[] = [];

async function newTopic(prefix: string): Promise<string> {
  const name = `${prefix}-${++topicSeq}`;
  await brokers.kafka.createTopic(name, PARTITIONS);
  return name;
}

async function endOffsets(topic: string | string[]): Promise<number> {
  let n = 0;
  for (const t of typeof topic === "string" ? [topic] : topic) n += (await admin.fetchTopicOffsets(t)).reduce((sum, p) => sum + Number(p.high), 0);
  return n;
}

function mustWindow(t: Timeline, what: string): Window {
  const w = sustained(t);
  if (!w) throw new Error(`${what}: too few messages arrived to measure a rate`);
  return w;
}

/** Ceiling 1: Mosquitto to raw mqtt.js subscriber(s), PUBACK at once, same publisher as the scenario. */
async function ceiling1(s: Scenario, round = 1): Promise<CeilingResult> {
  const key = `c1/${s.size}/q${s.qos}/${s.subscribers}`;
  const topic = `bench/c1/${++topicSeq}`;
  const pass = ++passSeq;
  const sub = worker("mqtt-sub", { url: brokers.mqtt.url, topic, clients: s.subscribers, qos: s.qos, expect: s.count, pass, idleMs: 3000, receiveMaximum: RECEIVE_MAXIMUM });
  await sub.ready;
  const pub = worker("mqtt-pub", { url: brokers.mqtt.url, topic, count: s.count, size: s.size, qos: s.qos, pass });
  const r = await sub.result;
  await pub.result;
  const w = mustWindow(r.timeline, key);
  const c: CeilingResult = {
    key,
    scenario: s.id,
    kind: 1,
    label: `Mosquitto → raw mqtt.js ${s.subscribers > 1 ? `${s.subscribers} shared subscribers` : "subscriber"}, QoS ${s.qos}, ${s.size} B${round > 1 ? `, round ${round}` : ""}`,
    rate: w.rate,
    mbps: (w.rate * s.size) / 1e6,
    delivered: r.unique ?? r.count,
    sent: s.count,
  };
  ceilings.push(c);
  log(`ceiling 1  ${c.label}: ${fmt(c.rate)} msg/s`);
  return c;
}

/** Ceiling 2: raw kafkajs producer, same batch size, compression and acks, one request in flight. */
async function ceiling2(s: Scenario, round = 1): Promise<CeilingResult> {
  const batch = ceilingBatch(s);
  const key = `c2/${s.size}/b${batch}/${s.compression}`;
  const topic = await newTopic("c2");
  const p = worker("kafka-produce", { bootstrap: brokers.kafka.bootstrap, topic, count: s.count, size: s.size, partitions: PARTITIONS, batch, compression: s.compression, acks: -1, pass: ++passSeq });
  const r = await p.result;
  const w = mustWindow(r.timeline, key);
  const c: CeilingResult = {
    key,
    scenario: s.id,
    kind: 2,
    label: `raw kafkajs producer, ${batch} records/request, ${s.compression}, acks=all, ${s.size} B${round > 1 ? `, round ${round}` : ""}`,
    rate: w.rate,
    mbps: (w.rate * s.size) / 1e6,
    delivered: r.count,
    sent: s.count,
  };
  ceilings.push(c);
  log(`ceiling 2  ${c.label}: ${fmt(c.rate)} msg/s`);
  return c;
}

/** Fills a fresh topic with `count` stamped records for a kafkaToMqtt scenario. */
/** A raw kafkajs producer of the scenario's records (size, compression, acks=all): flat out, or paced at `rate`. */
function kafkaProducer(s: Scenario, topic: string, count: number, pass: number, rate?: number): Worker {
  return worker("kafka-produce", { bootstrap: brokers.kafka.bootstrap, topic, count, size: s.size, partitions: PARTITIONS, batch: produceBatch(s.size), compression: s.compression, acks: -1, pass, ...(rate ? { rate } : {}) });
}

/** An mqtt.js subscriber counting one pass on `mqttTopic`; with `warmup`, it also measures latency. */
function mqttReader(s: Scenario, mqttTopic: string, count: number, pass: number, warmup?: number): Worker {
  return worker("mqtt-sub", { url: brokers.mqtt.url, topic: mqttTopic, qos: s.qos, expect: count, pass, ...(warmup !== undefined ? { warmup } : {}), idleMs: 3000, receiveMaximum: RECEIVE_MAXIMUM });
}

async function preload(s: Scenario, pass: number): Promise<string> {
  const topic = await newTopic(`k2m-${s.size}-${s.compression}`);
  const p = kafkaProducer(s, topic, s.count, pass);
  const r = await p.result;
  log(`preloaded ${fmt(r.count)} records of ${s.size} B (${s.compression}) into ${topic}`);
  return topic;
}

/** Ceiling 3: raw kafkajs consumer feeding a raw mqtt.js publisher, read by the same subscriber. */
async function ceiling3(s: Scenario, topic: string, pass: number): Promise<CeilingResult> {
  const key = `c3/${s.size}/q${s.qos}/${s.compression}`;
  const mqttTopic = `bench/c3/${++topicSeq}`;
  const sub = mqttReader(s, mqttTopic, s.count, pass);
  await sub.ready;
  const raw = worker("kafka-to-mqtt", { bootstrap: brokers.kafka.bootstrap, topic, group: `c3-${topicSeq}`, url: brokers.mqtt.url, mqttTopic, qos: s.qos });
  const r = await sub.result;
  await raw.stop();
  const w = mustWindow(r.timeline, key);
  const c: CeilingResult = {
    key,
    scenario: s.id,
    kind: 3,
    label: `raw kafkajs consumer → raw mqtt.js publisher, QoS ${s.qos}, ${s.size} B, ${s.compression}`,
    rate: w.rate,
    mbps: (w.rate * s.size) / 1e6,
    delivered: r.unique ?? r.count,
    sent: s.count,
  };
  ceilings.push(c);
  log(`ceiling 3  ${c.label}: ${fmt(c.rate)} msg/s`);
  return c;
}

/** Messages in a raw-client latency pass: half the connector's pass, so the whole run stays under 10 minutes. */
const rawPassCount = (connectorCount: number): number => Math.max(200, Math.round(connectorCount / 2));

/**
 * The MQTT→Kafka latency pass through raw clients (mqtt.js subscriber → kafkajs producer, PUBACK at
 * once), after the connector has stopped, at the same rate for half as long: what the same hops
 * cost on this machine at that rate. Read back from the scenario's topic under a new pass id.
 */
async function rawMqttToKafkaLatency(s: Scenario, topic: string, rate: number, connectorCount: number): Promise<LatencySummary | undefined> {
  const count = rawPassCount(connectorCount);
  const pass = ++passSeq;
  const mqttTopic = `bench/raw-m2k/${++topicSeq}`;
  const b = batchingOf(s);
  const raw = worker("mqtt-to-kafka", {
    bootstrap: brokers.kafka.bootstrap,
    topic,
    partitions: PARTITIONS,
    url: brokers.mqtt.url,
    mqttTopic,
    qos: s.qos,
    maxBatch: ceilingBatch(s),
    lingerMs: b.enabled ? b.latencyMs : 0,
    compression: s.compression,
  });
  await raw.ready;
  const reader = worker("kafka-consume", { bootstrap: brokers.kafka.bootstrap, topic, group: `raw-lat-${topicSeq}`, pass, expect: count, warmup: WARMUP, idleMs: 3000 });
  await reader.ready;
  const pub = worker("mqtt-pub", { url: brokers.mqtt.url, topic: mqttTopic, count, size: s.size, qos: s.qos, pass, rate });
  const r = await reader.result;
  await pub.result;
  await raw.stop();
  return r.latency;
}

/**
 * The same paced latency pass through ceiling 3's raw clients (kafkajs consumer → mqtt.js publisher),
 * after the connector has stopped, at the same rate for half as long: what raw clients manage at that
 * rate on this machine.
 */
async function rawKafkaToMqttLatency(s: Scenario, topic: string, rate: number, connectorCount: number): Promise<LatencySummary | undefined> {
  const count = rawPassCount(connectorCount);
  const pass = ++passSeq;
  const mqttTopic = `bench/c3/${++topicSeq}`;
  const raw = worker("kafka-to-mqtt", { bootstrap: brokers.kafka.bootstrap, topic, group: `c3-lat-${topicSeq}`, url: brokers.mqtt.url, mqttTopic, qos: s.qos, fromBeginning: false });
  await raw.ready;
  const reader = mqttReader(s, mqttTopic, count, pass, WARMUP);
  await reader.ready;
  const prod = kafkaProducer(s, topic, count, pass, rate);
  const r = await reader.result;
  await prod.result;
  await raw.stop("SIGKILL"); // no need to leave the group gracefully: nothing reads it again
  return r.latency;
}

function topicMapSpec(s: Scenario, route: string): string {
  const b = batchingOf(s);
  return [
    `  compression: ${s.compression}`,
    `  batching: {enabled: ${b.enabled}, latencyMs: ${b.latencyMs}, maxMessages: ${b.maxMessages}, maxBytes: ${b.maxBytes}}`,
    `  routes:`,
    `    - ${route}`,
  ].join("\n");
}

/** A fresh spool directory per connector run (removed at exit) and the flags that use it. */
const spoolDirs: string[] = [];
function spoolArgs(mode: "always" | "outage"): string[] {
  const dir = mkdtempSync(join(os.tmpdir(), "mkc-bench-spool-"));
  spoolDirs.push(dir);
  return ["--spool-dir", dir, "--spool-mode", mode];
}
process.on("exit", () => {
  for (const d of spoolDirs) rmSync(d, { recursive: true, force: true });
});

async function startConnector(s: Scenario, route: string, spool: "always" | "outage" | undefined = s.spool): Promise<ConnectorProcess> {
  const prof = process.env["BENCH_CPU_PROF"];
  return ConnectorProcess.start({
    ...(spool ? { extraArgs: spoolArgs(spool) } : {}),
    kafkaBootstrap: brokers.kafka.bootstrap,
    mqttPort: brokers.mqtt.port,
    topicMapSpec: topicMapSpec(s, route),
    ...(prof ? { cpuProfDir: resolve(prof), profName: s.id } : {}),
    // BENCH_NODE_ARGS: more flags for node (e.g. --trace-gc), after the image's, for experiments.
    nodeArgs: [...runtime.nodeArgs, ...(process.env["BENCH_NODE_ARGS"] ?? "").split(/\s+/).filter(Boolean)],
    ...(runtime.cgroupDir ? { cgroupDir: runtime.cgroupDir } : {}),
  });
}

interface Finish {
  peakRssMb: number;
  batchAvg?: number;
  dropped: number;
  exitCode: number | null;
}

async function finishConnector(conn: ConnectorProcess, sampler: ProcSampler): Promise<Finish> {
  sampler.stop();
  const peakRssMb = statusKb(conn.pid, "VmHWM") / 1024;
  const m = await conn.metrics().catch(() => "");
  const count = metricValue(m, "mqtt_kafka_connector_kafka_batch_messages_count");
  const sum = metricValue(m, "mqtt_kafka_connector_kafka_batch_messages_sum");
  const dropped = metricValue(m, "mqtt_kafka_connector_dropped_total");
  const exitCode = await conn.stop();
  return { peakRssMb, ...(count > 0 ? { batchAvg: sum / count } : {}), dropped, exitCode };
}

/** BENCH_SERIES=1: print when, in a latency pass, messages took longer than the budget (worst per 100 ms). */
function logSlowBuckets(s: Scenario, r: { series?: [number, number][] }, from: number): void {
  if (!r.series) return;
  const slow = r.series.filter(([, v]) => v > latencyBudgetMs(s)).map(([t, v]) => `${((t - from) / 1000).toFixed(1)}s:${Math.round(v)}`);
  log(`${s.id}: slow 100 ms buckets (s since start: worst ms): ${slow.join(" ") || "none"}`);
}

function latencyText(l: LatencySummary | undefined): string {
  return l ? `p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms` : "no latency samples";
}

interface FlatOut {
  w: Window;
  delivered: number;
  sent: number;
  cpuSeconds: number;
  /** Connector CPU over the window, % of one core. */
  cpuPercent: number;
  offered: Window | undefined;
}

/** One MQTT→Kafka flat-out pass, counted by the topics' end offsets above `base`. */
async function m2kFlatOut(s: Scenario, topic: string[], mqttTopic: string, sampler: ProcSampler, base: number): Promise<FlatOut> {
  const pass = ++passSeq;
  const pub = worker("mqtt-pub", { url: brokers.mqtt.url, topic: mqttTopic, count: s.count, size: s.size, qos: s.qos, pass, ...(s.fanout ? { fanout: s.fanout } : {}) });
  await pub.ready;
  const tl = await followCount(async () => (await endOffsets(topic)) - base, s.count, 50);
  const pubResult = await pub.result;
  const w = mustWindow(tl.slice(1), s.id);
  const cpuSeconds = sampler.window(w.from, w.to).cpuSeconds;
  return { w, delivered: tl[tl.length - 1]![1], sent: pubResult.count, cpuSeconds, cpuPercent: (100 * cpuSeconds) / ((w.to - w.from) / 1000), offered: sustained(pubResult.timeline) };
}

/**
 * Flat-out rounds for MQTT→Kafka: two for QoS 1, whose throughput has a target. Ceilings 1 and 2
 * are measured again between them, so ceilings and connector alternate (C X C X) and the ratio
 * takes the better of each; on two shared cores a single pass of either moved the ratio by ±40 points
 * from run to run, and noise only ever slows a pass down.
 */
const m2kRounds = (s: Scenario): number => (s.qos === 1 ? 2 : 1);

/**
 * Bento MQTT→Kafka (mqtt input → kafka_franz output) on a fresh Kafka topic and MQTT topic, as many
 * flat-out rounds as the connector's (two at QoS 1) in one Bento process, counted by end offsets like
 * the connector's, taking the better round; `batched`: with a batch policy set like the connector's
 * batching, else none.
 */
async function bentoM2K(s: Scenario, bin: string, batched: boolean): Promise<PeerResult> {
  const topic = await newTopic(`bento-${s.id}`);
  const mqttTopic = `bench/bento/${s.id}/${topicSeq}`;
  const b = await BentoProcess.start(bin, (httpPort) =>
    m2kConfig(
      {
        mqttUrl: pahoUrl(brokers.mqtt.url),
        mqttTopic,
        qos: s.qos,
        bootstrap: brokers.kafka.bootstrap,
        kafkaTopic: topic,
        compression: s.compression,
        ...(batched ? { batching: batchingOf(s) } : {}),
        clientId: `bento-bench-${topicSeq}`,
      },
      httpPort,
    ),
  );
  await sleep(300); // /ready says connected; give the SUBSCRIBE its round trip
  const sampler = new ProcSampler(b.pid);
  try {
    const rounds: FlatOut[] = [];
    for (let i = 0; i < m2kRounds(s); i++) rounds.push(await m2kFlatOut(s, [topic], mqttTopic, sampler, await endOffsets(topic)));
    const f = rounds.reduce((a, x) => (x.w.rate > a.w.rate ? x : a));
    sampler.stop();
    const peakRssMb = statusKb(b.pid, "VmHWM") / 1024;
    const exitCode = await b.stop();
    const label = batched ? `Bento, batching ${bentoBatchPolicy(batchingOf(s))}` : "Bento, no batch policy";
    log(`${s.id}: ${label}: ${rounds.map((x) => fmt(x.w.rate)).join(" / ")} msg/s flat out (better: ${fmt(f.delivered)}/${fmt(f.sent)} delivered; load generator ${f.offered ? fmt(f.offered.rate) : "?"} msg/s), CPU ${f.cpuPercent.toFixed(0)} %, ${((1e6 * f.cpuSeconds) / (0.8 * f.delivered)).toFixed(1)} µs/msg, peak RSS ${peakRssMb.toFixed(0)} MB`);
    return {
      variant: batched ? "bento-batched" : "bento-unbatched",
      label,
      rate: f.w.rate,
      ...(rounds.length > 1 ? { rounds: rounds.map((x) => x.w.rate) } : {}),
      ...(f.offered ? { offeredRate: f.offered.rate } : {}),
      mbps: (f.w.rate * s.size) / 1e6,
      sent: f.sent,
      delivered: f.delivered,
      cpuPercent: f.cpuPercent,
      cpuUsPerMsg: (1e6 * f.cpuSeconds) / (0.8 * f.delivered),
      peakRssMb,
      exitCode,
    };
  } catch (e) {
    sampler.stop();
    await b.stop();
    throw e;
  }
}

/** Messages queued for a backlog drain: twice the flat-out pass, so the drain lasts a few seconds. */
const backlogCount = (s: Scenario): number => s.count * 2;

/**
 * The backlog drain (bench/backlog.ts) for the connector, then Bento with and without its batch
 * policy, each on fresh topics and a persistent session of its own.
 */
async function backlogPass(s: Scenario, bin: string): Promise<NonNullable<ScenarioResult["backlog"]>> {
  const ctx = { mqttUrl: brokers.mqtt.url, endOffsets: (t: string) => endOffsets(t), log };
  const count = backlogCount(s);
  const topic = await newTopic(`backlog-${s.id}`);
  const route = `bl${topicSeq}`;
  const mqttTopic = `bench/backlog/${s.id}/${topicSeq}`;
  const connector = await backlogDrain(ctx, {
    start: () => startConnector(s, `mqttToKafka: {name: ${route}, mqttTopic: "${mqttTopic}", kafkaTopic: ${topic}, qos: ${s.qos}, kafkaAcks: all}`),
    topic,
    mqttTopic,
    count,
    size: s.size,
    pass: ++passSeq,
    label: `${s.id}: connector`,
  });
  const peers: (BacklogResult & { variant: string; label: string })[] = [];
  for (const batched of [true, false]) {
    const t = await newTopic(`backlog-bento-${s.id}`);
    const mt = `bench/backlog/bento/${s.id}/${topicSeq}`;
    const clientId = `bento-backlog-${topicSeq}`;
    const label = batched ? `Bento, batching ${bentoBatchPolicy(batchingOf(s))}` : "Bento, no batch policy";
    const r = await backlogDrain(ctx, {
      start: () =>
        BentoProcess.start(bin, (httpPort) =>
          m2kConfig({ mqttUrl: pahoUrl(brokers.mqtt.url), mqttTopic: mt, qos: s.qos, bootstrap: brokers.kafka.bootstrap, kafkaTopic: t, compression: s.compression, ...(batched ? { batching: batchingOf(s) } : {}), clientId, persistent: true }, httpPort),
        ),
      topic: t,
      mqttTopic: mt,
      count,
      size: s.size,
      pass: ++passSeq,
      label: `${s.id}: ${label}`,
    });
    peers.push({ ...r, variant: batched ? "bento-batched" : "bento-unbatched", label });
  }
  return { connector, peers };
}

/** Bento Kafka→MQTT (kafka_franz input → mqtt output): drains the preloaded topic like the connector's flat-out pass. */
async function bentoK2M(s: Scenario, bin: string, topic: string, pass: number): Promise<PeerResult> {
  const mqttTopic = `bench/bento/${s.id}/${++topicSeq}`;
  const sub = mqttReader(s, mqttTopic, s.count, pass);
  await sub.ready;
  const b = await BentoProcess.start(bin, (httpPort) =>
    k2mConfig({ bootstrap: brokers.kafka.bootstrap, kafkaTopic: topic, group: `bento-${s.id}-${topicSeq}`, mqttUrl: pahoUrl(brokers.mqtt.url), mqttTopic, qos: s.qos, clientId: `bento-bench-${topicSeq}` }, httpPort),
  );
  const sampler = new ProcSampler(b.pid);
  try {
    const r = await sub.result;
    sampler.stop();
    const w = mustWindow(r.timeline, `${s.id} bento`);
    const cpu = sampler.window(w.from, w.to).cpuSeconds;
    const delivered = r.unique ?? r.count;
    const peakRssMb = statusKb(b.pid, "VmHWM") / 1024;
    const exitCode = await b.stop();
    const cpuPercent = (100 * cpu) / ((w.to - w.from) / 1000);
    log(`${s.id}: Bento: ${fmt(w.rate)} msg/s flat out (${fmt(delivered)}/${fmt(s.count)} delivered), CPU ${cpuPercent.toFixed(0)} %, ${((1e6 * cpu) / (0.8 * delivered)).toFixed(1)} µs/msg, peak RSS ${peakRssMb.toFixed(0)} MB`);
    return { variant: "bento", label: "Bento", rate: w.rate, mbps: (w.rate * s.size) / 1e6, sent: s.count, delivered, cpuPercent, cpuUsPerMsg: (1e6 * cpu) / (0.8 * delivered), peakRssMb, exitCode };
  } catch (e) {
    sampler.stop();
    await b.stop();
    throw e;
  }
}

async function runM2K(s: Scenario): Promise<ScenarioResult> {
  const c1s = [await ceiling1(s)];
  const c2s = [await ceiling2(s)];
  const mqttTopic = `bench/${s.id}`;
  const share = s.subscribers > 1 ? `, sharedSubscription: {groupName: bench, groupMinimumShareNumber: ${s.subscribers}}` : "";
  // Fan-out: `<prefix>-t0` ... from the third level of `bench/<id>/t<n>`, through a templated kafkaTopic.
  const prefix = `m2k-${s.id}-${++topicSeq}`;
  const topics: string[] = [];
  for (let i = 0; i < (s.fanout ?? 1); i++) {
    const name = s.fanout ? `${prefix}-t${i}` : prefix;
    await brokers.kafka.createTopic(name, PARTITIONS);
    topics.push(name);
  }
  const topic = topics[0]!;
  const target = s.fanout ? `mqttTopic: "${mqttTopic}/+", kafkaTopic: "${prefix}-\${inputTopic.3}", kafkaTopics: [${topics.join(", ")}]` : `mqttTopic: "${mqttTopic}", kafkaTopic: ${topic}`;
  const conn = await startConnector(s, `mqttToKafka: {name: r, ${target}, qos: ${s.qos}, kafkaAcks: all${share}}`);
  const sampler = new ProcSampler(conn.pid);
  try {
    // 1. flat out, measured by the topic's end offsets
    const rounds: FlatOut[] = [];
    for (let i = 0; i < m2kRounds(s); i++) {
      if (i > 0) {
        c1s.push(await ceiling1(s, i + 1));
        c2s.push(await ceiling2(s, i + 1));
      }
      const f = await m2kFlatOut(s, topics, mqttTopic, sampler, await endOffsets(topics));
      rounds.push(f);
      log(
        `${s.id}: ${fmt(f.w.rate)} msg/s flat out${m2kRounds(s) > 1 ? ` (round ${i + 1})` : ""} (${fmt(f.delivered)}/${fmt(f.sent)} delivered; load generator ${f.offered ? fmt(f.offered.rate) : "?"} msg/s), CPU ${f.cpuPercent.toFixed(0)} %`,
      );
    }
    const rates = { connector: rounds.map((f) => f.w.rate), ceiling1: c1s.map((c) => c.rate), ceiling2: c2s.map((c) => c.rate) };
    const verdict = judgeRounds(rates);
    const best = rounds[verdict.best]!;
    const ceiling = (verdict.ceiling === 1 ? c1s : c2s)[verdict.ceilingRound]!;
    const { w, delivered } = best;

    // 2. latency at half that rate, read back from Kafka
    const rate = Math.max(50, Math.round(w.rate * LATENCY_FRACTION));
    const latCount = Math.max(200, Math.round(rate * LATENCY_SECONDS));
    const latPass = ++passSeq;
    const reader = worker("kafka-consume", { bootstrap: brokers.kafka.bootstrap, topics, group: `lat-${s.id}`, pass: latPass, expect: latCount, warmup: WARMUP, idleMs: 3000 });
    await reader.ready;
    const latStart = nowMs();
    const pub2 = worker("mqtt-pub", { url: brokers.mqtt.url, topic: mqttTopic, count: latCount, size: s.size, qos: s.qos, pass: latPass, rate, ...(s.fanout ? { fanout: s.fanout } : {}) });
    const lr = await reader.result;
    await pub2.result;
    const half = sampler.window(latStart + 500, lr.endAt);
    log(`${s.id}: at ${fmt(rate)} msg/s: ${latencyText(lr.latency)} (${fmt(lr.unique ?? 0)}/${fmt(latCount)} arrived)`);
    logSlowBuckets(s, lr, latStart);
    const fin = await finishConnector(conn, sampler);
    const rawLatency = await rawMqttToKafkaLatency(s, topic, rate, latCount);
    log(`${s.id}: raw clients (mqtt.js subscriber → kafkajs producer) at the same rate: ${latencyText(rawLatency)}`);
    const peers = bento && PEER_SCENARIOS.has(s.id) ? [await bentoM2K(s, bento, true), await bentoM2K(s, bento, false)] : undefined;
    const replay = s.spool ? await runReplay(s, rate) : undefined;
    const backlog = bento && PEER_SCENARIOS.has(s.id) ? await backlogPass(s, bento) : undefined;
    return {
      scenario: s,
      title: describe(s),
      rate: w.rate,
      ...(rounds.length > 1 ? { rounds: rates } : {}),
      ...(best.offered ? { offeredRate: best.offered.rate } : {}),
      mbps: (w.rate * s.size) / 1e6,
      sent: best.sent,
      delivered,
      cpuPercent: best.cpuPercent,
      cpuUsPerMsg: (1e6 * best.cpuSeconds) / (0.8 * delivered),
      halfRate: rate,
      halfRateCpuPercent: (100 * half.cpuSeconds) / Math.max(0.001, (lr.endAt - latStart - 500) / 1000),
      latency: lr.latency,
      latencyDelivered: lr.unique ?? 0,
      latencySent: latCount,
      latencyBudgetMs: latencyBudgetMs(s),
      peakRssMb: fin.peakRssMb,
      ceilings: [c1s[0]!.key, c2s[0]!.key],
      ceilingKey: ceiling.key,
      ceilingRate: verdict.ceilingRate,
      ratio: verdict.ratio,
      ...(fin.batchAvg !== undefined ? { batchAvg: fin.batchAvg } : {}),
      ...(rawLatency ? { rawLatency } : {}),
      ...(peers ? { peers } : {}),
      ...(replay ? { replay } : {}),
      ...(backlog ? { backlog } : {}),
      dropped: fin.dropped,
      exitCode: fin.exitCode,
    };
  } catch (e) {
    sampler.stop();
    await conn.stop();
    throw e;
  }
}

/** The replay after an outage, on a connector of its own in outage mode, with live traffic at `liveRate`. */
async function runReplay(s: Scenario, liveRate: number): Promise<ReplayResult> {
  const topic = await newTopic(`replay-${s.id}`);
  const mqttTopic = `bench/${s.id}/replay`;
  const conn = await startConnector(s, `mqttToKafka: {name: r, mqttTopic: "${mqttTopic}", kafkaTopic: ${topic}, qos: 1, kafkaAcks: all}`, "outage");
  try {
    const r = await replayPass({
      brokers,
      conn,
      topic,
      mqttTopic,
      size: s.size,
      backlog: s.count,
      liveRate,
      pass: () => ++passSeq,
      endOffsets: (t) => endOffsets(t),
      log: (line) => log(`${s.id}: ${line}`),
    });
    log(`${s.id}: replay ${fmt(r.replayRate)} msg/s with live traffic at ${fmt(r.liveRate)} msg/s (${(r.replayRate / r.liveRate).toFixed(2)}×); backlog of ${fmt(r.backlog)} drained in ${r.drainSeconds.toFixed(1)} s; lost ${r.lost}; fsync p99 ${r.fsyncP99Ms?.toFixed(1) ?? "?"} ms`);
    return r;
  } finally {
    await conn.stop();
  }
}

async function runK2M(s: Scenario): Promise<ScenarioResult> {
  const pass = ++passSeq;
  const topic = await preload(s, pass);
  const c3 = await ceiling3(s, topic, pass);
  const peers = bento && PEER_SCENARIOS.has(s.id) ? [await bentoK2M(s, bento, topic, pass)] : undefined;
  const mqttTopic = `bench/${s.id}`;
  // 1. flat out: drain the preloaded topic, counted by a raw subscriber
  const sub = mqttReader(s, mqttTopic, s.count, pass);
  await sub.ready;
  const conn = await startConnector(s, `kafkaToMqtt: {name: r, kafkaTopic: ${topic}, mqttTopic: "${mqttTopic}", consumerGroupId: conn-${s.id}, qos: ${s.qos}}`);
  const sampler = new ProcSampler(conn.pid);
  try {
    const r = await sub.result;
    const w = mustWindow(r.timeline, s.id);
    const max = sampler.window(w.from, w.to);
    const delivered = r.unique ?? r.count;
    log(`${s.id}: ${fmt(w.rate)} msg/s flat out (${fmt(delivered)}/${fmt(s.count)} delivered), CPU ${((100 * max.cpuSeconds) / ((w.to - w.from) / 1000)).toFixed(0)} %`);

    // 2. the live maximum: the same drain while a producer writes flat out, as in the latency pass,
    // where the load generator and Kafka's produce path take their share of the two cores too.
    const livePass = ++passSeq;
    const liveCount = Math.round(s.count * 0.4);
    const liveSub = mqttReader(s, mqttTopic, liveCount, livePass);
    await liveSub.ready;
    const liveProd = kafkaProducer(s, topic, liveCount, livePass);
    const live = mustWindow((await liveSub.result).timeline, `${s.id} live`);
    await liveProd.result;
    log(`${s.id}: ${fmt(live.rate)} msg/s live (producer writing flat out at the same time)`);

    // 3. latency at half the live rate: a paced raw producer, read back over MQTT
    const rate = Math.max(50, Math.round(live.rate * LATENCY_FRACTION));
    const latCount = Math.max(200, Math.round(rate * LATENCY_SECONDS));
    const latPass = ++passSeq;
    const reader = mqttReader(s, mqttTopic, latCount, latPass, WARMUP);
    await reader.ready;
    const latStart = nowMs();
    const prod = kafkaProducer(s, topic, latCount, latPass, rate);
    const lr = await reader.result;
    await prod.result;
    const half = sampler.window(latStart + 500, lr.endAt);
    log(`${s.id}: at ${fmt(rate)} msg/s: ${latencyText(lr.latency)} (${fmt(lr.unique ?? 0)}/${fmt(latCount)} arrived)`);
    logSlowBuckets(s, lr, latStart);
    const fin = await finishConnector(conn, sampler);
    const rawLatency = await rawKafkaToMqttLatency(s, topic, rate, latCount);
    log(`${s.id}: raw clients (ceiling 3's code) at the same rate: ${latencyText(rawLatency)}`);
    return {
      scenario: s,
      title: describe(s),
      rate: w.rate,
      mbps: (w.rate * s.size) / 1e6,
      sent: s.count,
      delivered,
      cpuPercent: (100 * max.cpuSeconds) / ((w.to - w.from) / 1000),
      cpuUsPerMsg: (1e6 * max.cpuSeconds) / (0.8 * delivered),
      liveRate: live.rate,
      halfRate: rate,
      halfRateCpuPercent: (100 * half.cpuSeconds) / Math.max(0.001, (lr.endAt - latStart - 500) / 1000),
      latency: lr.latency,
      latencyDelivered: lr.unique ?? 0,
      latencySent: latCount,
      latencyBudgetMs: latencyBudgetMs(s),
      peakRssMb: fin.peakRssMb,
      ceilings: [c3.key],
      ceilingKey: c3.key,
      ceilingRate: c3.rate,
      ratio: w.rate / c3.rate,
      dropped: fin.dropped,
      exitCode: fin.exitCode,
      ...(rawLatency ? { rawLatency } : {}),
      ...(peers ? { peers } : {}),
    };
  } catch (e) {
    sampler.stop();
    await conn.stop();
    throw e;
  }
}

function targets(results: ScenarioResult[]): TargetResult[] {
  const out: TargetResult[] = [];
  for (const r of results) {
    const s = r.scenario;
    if (s.qos === 1) {
      const which = s.direction === "m2k" ? "min(ceiling 1, ceiling 2)" : "ceiling 3";
      out.push({
        scenario: s.id,
        target: `${s.direction === "m2k" ? "MQTT→Kafka" : "Kafka→MQTT"} QoS 1 ≥ 70 % of ${which}`,
        value: `${(100 * r.ratio).toFixed(0)} % (${fmt(r.rate)} / ${fmt(r.ceilingRate)} msg/s)`,
        pass: r.ratio >= 0.7,
      });
    }
    const plain = s.spool ? results.find((x) => x.scenario.id === SPOOL_BASELINE) : undefined;
    if (plain) {
      out.push({
        scenario: s.id,
        target: `spool-mode ${s.spool} ≥ 60 % of ${SPOOL_BASELINE} (no spool)`,
        value: `${(100 * (r.rate / plain.rate)).toFixed(0)} % (${fmt(r.rate)} / ${fmt(plain.rate)} msg/s)`,
        pass: r.rate >= 0.6 * plain.rate,
      });
    }
    if (r.replay) {
      const x = r.replay;
      out.push({
        scenario: s.id,
        target: "spool replay after an outage ≥ 1.5 × the live input, and nothing lost",
        value: `${(x.replayRate / x.liveRate).toFixed(2)} × (${fmt(x.replayRate)} / ${fmt(x.liveRate)} msg/s), lost ${x.lost}`,
        pass: x.replayRate >= 1.5 * x.liveRate && x.lost === 0,
      });
    }
    const fixed = s.fanout ? results.find((x) => x.scenario.id === FANOUT_BASELINE) : undefined;
    if (fixed) {
      out.push({
        scenario: s.id,
        target: `templated fan-out to ${s.fanout} topics ≥ 90 % of ${FANOUT_BASELINE} (one fixed topic)`,
        value: `${(100 * (r.rate / fixed.rate)).toFixed(0)} % (${fmt(r.rate)} / ${fmt(fixed.rate)} msg/s)`,
        pass: r.rate >= 0.9 * fixed.rate,
      });
    }
    if (r.peers?.length) {
      const fastest = r.peers.reduce((a, b) => (b.rate > a.rate ? b : a));
      const leanest = r.peers.reduce((a, b) => (b.cpuUsPerMsg < a.cpuUsPerMsg ? b : a));
      out.push({
        scenario: s.id,
        target: `msg/s ≥ 1.5 × Bento's (its faster run: ${fastest.variant})`,
        value: `${(r.rate / fastest.rate).toFixed(2)} × (${fmt(r.rate)} / ${fmt(fastest.rate)} msg/s)`,
        pass: r.rate >= 1.5 * fastest.rate,
      });
      out.push({
        scenario: s.id,
        target: `CPU µs/msg ≤ Bento's (its leaner run: ${leanest.variant})`,
        value: `${r.cpuUsPerMsg.toFixed(1)} vs ${leanest.cpuUsPerMsg.toFixed(1)} µs/msg (${(r.cpuUsPerMsg / leanest.cpuUsPerMsg).toFixed(2)} ×)`,
        pass: r.cpuUsPerMsg <= leanest.cpuUsPerMsg,
      });
    }
    if (r.backlog?.peers.length) {
      const c = r.backlog.connector;
      const fastest = r.backlog.peers.reduce((a, b) => (b.rate > a.rate ? b : a));
      const leanest = r.backlog.peers.reduce((a, b) => (b.cpuUsPerMsg < a.cpuUsPerMsg ? b : a));
      out.push({
        scenario: s.id,
        target: `backlog drain msg/s ≥ 1.5 × Bento's (its faster run: ${fastest.variant})`,
        value: `${(c.rate / fastest.rate).toFixed(2)} × (${fmt(c.rate)} / ${fmt(fastest.rate)} msg/s), ${fmt(c.delivered)}/${fmt(c.count)} in Kafka`,
        pass: c.rate >= 1.5 * fastest.rate && c.delivered >= c.count,
      });
      out.push({
        scenario: s.id,
        target: `backlog drain CPU µs/msg ≤ Bento's (its leaner run: ${leanest.variant})`,
        value: `${c.cpuUsPerMsg.toFixed(1)} vs ${leanest.cpuUsPerMsg.toFixed(1)} µs/msg (${(c.cpuUsPerMsg / leanest.cpuUsPerMsg).toFixed(2)} ×)`,
        pass: c.cpuUsPerMsg <= leanest.cpuUsPerMsg,
      });
    }
    const allArrived = r.latencyDelivered >= r.latencySent * 0.99;
    if (r.rawLatency) {
      out.push({
        scenario: s.id,
        target: `p99 ≤ raw clients' p99 + 5 ms, same rate (half the max${r.liveRate !== undefined ? " live" : ""} rate)`,
        value: r.latency ? `p99 ${r.latency.p99.toFixed(1)} ms vs raw ${r.rawLatency.p99.toFixed(1)} + 5 = ${(r.rawLatency.p99 + 5).toFixed(1)} ms at ${fmt(r.halfRate)} msg/s` : "no samples",
        pass: r.latency !== undefined && r.latency.p99 <= r.rawLatency.p99 + 5 && allArrived,
      });
    }
    out.push({
      scenario: s.id,
      target: `p99 ≤ latencyMs + 25 = ${r.latencyBudgetMs} ms at half the max${r.liveRate !== undefined ? " live" : ""} rate (information, not a target)`,
      value: r.latency ? `p99 ${r.latency.p99.toFixed(1)} ms at ${fmt(r.halfRate)} msg/s` : "no samples",
      pass: r.latency !== undefined && r.latency.p99 <= r.latencyBudgetMs && allArrived,
      info: true,
    });
    out.push({ scenario: s.id, target: "connector RSS ≤ 200 MB", value: `${r.peakRssMb.toFixed(0)} MB`, pass: r.peakRssMb <= 200 });
  }
  return out;
}

function machine(): BenchResults["machine"] {
  let mosquitto = "unknown";
  try {
    mosquitto = execFileSync("mosquitto", ["-h"], { stdio: ["ignore", "pipe", "ignore"] }).toString().split("\n")[0] ?? "";
  } catch (e) {
    // `mosquitto -h` exits non-zero after printing its usage
    const out = (e as { stdout?: Buffer }).stdout?.toString() ?? "";
    mosquitto = out.split("\n")[0] || "unknown";
  }
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    mosquitto,
    kafka: `Apache Kafka ${KAFKA_VERSION} (KRaft, single node, JVM -Xmx512m)`,
    loadAvgStart: os.loadavg().map((x) => Number(x.toFixed(2))),
    loadAvgEnd: [],
  };
}

let runtime: ConnectorRuntime;

function memoryLimit(): number | undefined {
  const v = values["memory-limit"];
  if (v === undefined) return DEFAULT_LIMIT_MIB;
  if (v === "none") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 64) throw new Error(`--memory-limit ${v}: expected MiB as a whole number ≥ 64, or "none"`);
  return n;
}

async function main(): Promise<void> {
  runtime = connectorRuntime(resolve(__dirname, "..", ".."), memoryLimit());
  let list = scenarios(QUICK);
  let scale = values.scale ?? false;
  if (values.only) {
    const ids = new Set(values.only.split(","));
    scale ||= ids.delete("scale");
    list = scenarios(false).filter((s) => ids.has(s.id));
    if (QUICK) list = list.map((s) => ({ ...s, count: Math.round(s.count * 0.4) }));
    const unknown = [...ids].filter((id) => !list.some((s) => s.id === id));
    if (unknown.length || (!list.length && !scale)) throw new Error(`--only ${values.only}: no scenario ${unknown.join(", ")}; ids: ${scenarios(false).map((s) => s.id).join(", ")}, scale`);
  }
  const publishers = Number(values["scale-publishers"] ?? 2);
  if (!Number.isInteger(publishers) || publishers < 1 || publishers > 8) throw new Error(`--scale-publishers ${values["scale-publishers"]}: expected a whole number from 1 to 8`);
  bento = bentoBinary(values.peer ?? false, resolve(__dirname, "..", ".."));
  const m = machine();
  log(`mqtt-kafka-connector benchmark${QUICK ? " (quick)" : ""}: ${list.length} scenarios, latency passes of ${LATENCY_SECONDS} s`);
  log(`machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, load average ${m.loadAvgStart.join(" ")}; brokers, load generator and connector share these cores`);
  log(`connector: ${runtime.describe}`);
  if (bento) log(`peer: ${bentoVersion(bento)} (${bento}) on ${[...PEER_SCENARIOS].filter((id) => list.some((s) => s.id === id)).join(", ") || "no scenario of this run"}`);
  log("starting Mosquitto and Kafka...");
  brokers = await startLocalBrokers({ mqtt: { extraConfig: MOSQUITTO_EXTRA } });
  const kafka = new Kafka({ brokers: [brokers.kafka.bootstrap], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  const results: ScenarioResult[] = [];
  let references: ReferenceResult[] | undefined;
  let scaleRows: ScaleRow[] | undefined;
  try {
    if (values.peer) {
      references = await cClientReferences({ mqttPort: brokers.mqtt.port, bootstrap: brokers.kafka.bootstrap, newTopic, sizes: [100, 1024], quick: QUICK, log });
    }
    for (const [i, s] of list.entries()) {
      log(`scenario ${i + 1}/${list.length} ${s.id}: ${describe(s)}, ${fmt(s.count)} messages`);
      const before = cpuSnapshot();
      const r = s.direction === "m2k" ? await runM2K(s) : await runK2M(s);
      r.otherCpuPercent = otherCpuPercent(before, cpuSnapshot());
      if (r.otherCpuPercent >= 5) log(`${s.id}: other processes used ${r.otherCpuPercent.toFixed(0)} % of the machine meanwhile`);
      results.push(r);
    }
    if (scale) {
      log(`scale: one mqttToKafka route (QoS 1, 100 B, default batching) on 1, 2 and 3 instances, ${publishers} publishers`);
      const prof = process.env["BENCH_CPU_PROF"];
      scaleRows = await scalePass(
        {
          mqttUrl: brokers.mqtt.url,
          newTopic,
          endOffsets: (t) => endOffsets(t),
          startConnector: (route, instances, instance) =>
            ConnectorProcess.start({
              kafkaBootstrap: brokers.kafka.bootstrap,
              mqttPort: brokers.mqtt.port,
              topicMapSpec: topicMapSpec(SCALE_SCENARIO, route),
              instances,
              instance,
              ...(prof ? { cpuProfDir: resolve(prof), profName: `scale-${instances}-${instance}` } : {}),
              nodeArgs: runtime.nodeArgs,
              ...(runtime.cgroupDir ? { cgroupDir: runtime.cgroupDir } : {}),
            }),
          log,
        },
        { counts: [1, 2, 3], messages: QUICK ? 60_000 : 150_000, publishers, size: SCALE_SCENARIO.size, rounds: 2 },
      );
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
    await brokers.stop();
    runtime.dispose();
  }
  m.loadAvgEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  const all: BenchResults = {
    startedAt: new Date(t0).toISOString(),
    wallSeconds: Math.round((Date.now() - t0) / 1000),
    quick: QUICK,
    latencySeconds: LATENCY_SECONDS,
    mosquittoConfig: MOSQUITTO_EXTRA,
    machine: m,
    connectorRuntime: runtime.describe,
    ceilings,
    scenarios: results,
    ...(bento
      ? {
          peer: {
            name: "Bento",
            version: BENTO_VERSION,
            binary: bentoVersion(bento),
            guarantees: BENTO_GUARANTEES,
            config:
              "Bento config: MQTT→Kafka `mqtt` input (QoS 1, clean session) → `kafka_franz` output (idempotent_write: true, so acks=all; the scenario's compression), " +
              "once with `batching` {count: maxMessages, byte_size: maxBytes, period: latencyMs} from the connector's batching (the period applies even where the connector's batching is off, since Bento flushes a partial batch only on its period) and once with no batch policy (franz-go still groups records per request); " +
              "Kafka→MQTT `kafka_franz` input (consumer group, from the oldest offset, defaults otherwise) → `mqtt` output (QoS 1, default max_in_flight). " +
              "Each Bento variant runs right after (MQTT→Kafka: as many rounds as the connector, the better counts) or before (Kafka→MQTT: one drain, like the connector's) the connector, on topics of its own. The targets take Bento's faster variant for msg/s and its leaner one for CPU.",
          },
        }
      : {}),
    ...(references ? { references } : {}),
    ...(scaleRows ? { scale: scaleRows } : {}),
    targets: targets(results),
  };
  mkdirSync(OUT, { recursive: true });
  const md = toMarkdown(all);
  writeFileSync(join(OUT, "latest.json"), JSON.stringify(all, null, 2) + "\n");
  writeFileSync(join(OUT, "latest.md"), md);
  writeFileSync(join(OUT, "latest.svg"), toSvg(all));
  const peerSvg = toPeerSvg(all);
  if (peerSvg) writeFileSync(join(OUT, "latest-peer.svg"), peerSvg);
  process.stdout.write(`\n${md}\n`);
  log(`wrote ${join(OUT, "latest.json")}, latest.md and latest.svg in ${all.wallSeconds} s`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
