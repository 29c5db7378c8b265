/**
 * `npm run bench -- --scale`: one mqttToKafka route run by 1, 2 and 3 connector processes on one
 * broker pair, as `instances: N` runs them (each subscribes `$share/<connector>-<route>/<filter>`),
 * fed by the same publishers every time. It reports the aggregate rate into Kafka, the CPU of all
 * instances together per message, and whether every message reached Kafka exactly once.
 *
 * On a machine with 2 cores shared by Mosquitto, Kafka, the publishers and every instance this
 * measures what coordination costs (more clients, more producers, smaller batches), not speed-up:
 * the instances compete for the same cores the brokers need.
 */
import { cpus } from "node:os";
import { fmt, followCount, sleep, sustained } from "./common";
import { ConnectorProcess, ProcSampler, cpuSnapshot, metricValue, statusKb, worker } from "./procs";

export interface ScaleRow {
  instances: number;
  publishers: number;
  sent: number;
  /** Records that reached Kafka above the topic's start (more than `sent`: duplicates). */
  delivered: number;
  /** Aggregate msg/s into Kafka over the middle 80 % of the pass. */
  rate: number;
  /** What the publishers offered, msg/s, over their own middle 80 %. */
  offeredRate: number;
  /** All instances' CPU over the window, % of one core, and per instance. */
  cpuPercent: number;
  perInstanceCpuPercent: number[];
  cpuUsPerMsg: number;
  peakRssMb: number[];
  /** The whole machine's busy CPU over the better round, % of all cores: where the rest went. */
  machineBusyPercent: number;
  /** Records per Kafka request, over all instances and rounds. */
  batchAvg: number;
  /** The better of the rounds was kept; every round's rate. */
  rounds: number[];
}

export interface ScaleContext {
  mqttUrl: string;
  newTopic(prefix: string): Promise<string>;
  endOffsets(topic: string): Promise<number>;
  /** A connector process of a KafkaConnector with `instances` and this `instance` index. */
  startConnector(route: string, instances: number, instance: number): Promise<ConnectorProcess>;
  log(line: string): void;
}

export interface ScaleOptions {
  counts: number[];
  /** Messages per round, split over the publishers. */
  messages: number;
  publishers: number;
  size: number;
  rounds: number;
}


export async function scalePass(ctx: ScaleContext, o: ScaleOptions): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const n of o.counts) rows.push(await scaleRow(ctx, o, n));
  return rows;
}

interface Round {
  rate: number;
  offeredRate: number;
  delivered: number;
  sent: number;
  cpuSeconds: number;
  perInstance: number[];
  seconds: number;
  machineBusyPercent: number;
}

async function scaleRow(ctx: ScaleContext, o: ScaleOptions, n: number): Promise<ScaleRow> {
  const topic = await ctx.newTopic(`scale-${n}`);
  const mqttTopic = `bench/scale/${topic}`;
  const route = `mqttToKafka: {name: r, mqttTopic: "${mqttTopic}", kafkaTopic: ${topic}, qos: 1, kafkaAcks: all}`;
  const conns: ConnectorProcess[] = [];
  const samplers: ProcSampler[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const c = await ctx.startConnector(route, n, i);
      conns.push(c);
      samplers.push(new ProcSampler(c.pid));
    }
    await sleep(300); // each instance's SUBSCRIBE has its round trip before the first publish
    const rounds: Round[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const x = await scaleRound(ctx, o, topic, mqttTopic, samplers, r);
      rounds.push(x);
      ctx.log(
        `scale ${n} instance${n > 1 ? "s" : ""}, round ${r + 1}: ${fmt(x.rate)} msg/s into Kafka (${fmt(x.delivered)}/${fmt(x.sent)}; publishers offered ${fmt(x.offeredRate)} msg/s), CPU ${x.perInstance.map((p) => `${p.toFixed(0)} %`).join(" + ")}, ${((1e6 * x.cpuSeconds) / (0.8 * x.delivered)).toFixed(1)} µs/msg; machine ${x.machineBusyPercent.toFixed(0)} % busy`,
      );
    }
    const best = rounds.reduce((a, b) => (b.rate > a.rate ? b : a));
    for (const s of samplers) s.stop();
    let batches = 0;
    let records = 0;
    for (const c of conns) {
      const m = await c.metrics().catch(() => "");
      batches += metricValue(m, "mqtt_kafka_connector_kafka_batch_messages_count");
      records += metricValue(m, "mqtt_kafka_connector_kafka_batch_messages_sum");
    }
    const peakRssMb = conns.map((c) => statusKb(c.pid, "VmHWM") / 1024);
    return {
      instances: n,
      publishers: o.publishers,
      sent: best.sent,
      delivered: best.delivered,
      rate: best.rate,
      offeredRate: best.offeredRate,
      cpuPercent: (100 * best.cpuSeconds) / best.seconds,
      perInstanceCpuPercent: best.perInstance,
      cpuUsPerMsg: (1e6 * best.cpuSeconds) / (0.8 * best.delivered),
      peakRssMb,
      machineBusyPercent: best.machineBusyPercent,
      batchAvg: batches > 0 ? records / batches : 0,
      rounds: rounds.map((x) => x.rate),
    };
  } finally {
    for (const s of samplers) s.stop();
    await Promise.all(conns.map((c) => c.stop()));
  }
}

async function scaleRound(ctx: ScaleContext, o: ScaleOptions, topic: string, mqttTopic: string, samplers: ProcSampler[], round: number): Promise<Round> {
  const base = await ctx.endOffsets(topic);
  const per = Math.ceil(o.messages / o.publishers);
  const pubs = Array.from({ length: o.publishers }, (_, j) => worker("mqtt-pub", { url: ctx.mqttUrl, topic: mqttTopic, count: per, size: o.size, qos: 1, pass: 1000 * (round + 1) + j }));
  await Promise.all(pubs.map((p) => p.ready));
  const sent = per * o.publishers;
  const before = cpuSnapshot();
  const tl = await followCount(async () => (await ctx.endOffsets(topic)) - base, sent, 50);
  const after = cpuSnapshot();
  // Late duplicates would land after the count reached `sent`: give them a moment to show.
  await sleep(500);
  const delivered = (await ctx.endOffsets(topic)) - base;
  const results = await Promise.all(pubs.map((p) => p.result));
  const w = sustained(tl.slice(1));
  if (!w) throw new Error(`scale ${samplers.length}: too few messages reached Kafka to measure a rate`);
  const perInstanceSeconds = samplers.map((s) => s.window(w.from, w.to).cpuSeconds);
  const seconds = (w.to - w.from) / 1000;
  // The publishers' offered rate: each one's middle 80 %, summed (they run side by side).
  const offeredRate = results.reduce((sum, r) => sum + (sustained(r.timeline)?.rate ?? 0), 0);
  return {
    rate: w.rate,
    offeredRate,
    delivered,
    sent,
    cpuSeconds: perInstanceSeconds.reduce((a, b) => a + b, 0),
    perInstance: perInstanceSeconds.map((c) => (100 * c) / seconds),
    seconds,
    machineBusyPercent: (100 * (after.total - before.total)) / (((after.at - before.at) / 1000) * cpus().length),
  };
}
