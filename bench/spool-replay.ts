/**
 * The spool's replay after a Kafka outage (issue 17): Kafka is stopped, a backlog is spooled, Kafka
 * comes back, and live traffic goes on at `liveRate` while the spool drains. The replay rate is
 * what leaves the spool per second from the first replayed record until the spool is empty; the
 * backlog shrinks only when it beats the live input.
 */
import type { LocalBrokers } from "../scripts/local-brokers";
import { nowMs } from "./common";
import { metricValue, worker, type ConnectorProcess } from "./procs";

export interface ReplayResult {
  backlog: number;
  /** msg/s the connector spooled the backlog at while Kafka was down (the load generator flat out). */
  spoolRate: number;
  liveRate: number;
  liveSent: number;
  replayRate: number;
  drainSeconds: number;
  /** Published (backlog plus live) minus what reached Kafka. */
  lost: number;
  fsyncP99Ms: number | undefined;
}

export interface ReplayContext {
  brokers: LocalBrokers;
  conn: ConnectorProcess;
  topic: string;
  mqttTopic: string;
  size: number;
  backlog: number;
  liveRate: number;
  pass: () => number;
  endOffsets: (topic: string) => Promise<number>;
  log: (line: string) => void;
}

const POLL_MS = 250;

async function pollUntil(what: string, limitMs: number, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`replay pass: ${what} not within ${limitMs / 1000} s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The p99 of a Prometheus histogram from its cumulative buckets, in the unit of `le`. */
export function histogramP99(text: string, name: string): number | undefined {
  const buckets: [number, number][] = [];
  for (const line of text.split("\n")) {
    const m = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\}\\s+(\\S+)`).exec(line);
    if (m) buckets.push([m[1] === "+Inf" ? Infinity : Number(m[1]), Number(m[2])]);
  }
  const total = buckets.find(([le]) => le === Infinity)?.[1] ?? 0;
  if (!total) return undefined;
  return buckets.sort((a, b) => a[0] - b[0]).find(([, n]) => n >= 0.99 * total)?.[0];
}

export async function replayPass(c: ReplayContext): Promise<ReplayResult> {
  const metrics = () => c.conn.metrics();
  const base = await c.endOffsets(c.topic);
  c.log(`replay: stopping Kafka, spooling ${c.backlog} messages`);
  await c.brokers.kafka.stop();
  let spoolRate = 0;
  try {
    const started = nowMs();
    const pub = worker("mqtt-pub", { url: c.brokers.mqtt.url, topic: c.mqttTopic, count: c.backlog, size: c.size, qos: 1, pass: c.pass() });
    await pub.result;
    await pollUntil("the backlog spooled", 120_000, async () => metricValue(await metrics(), "mqtt_kafka_connector_spool_records") >= c.backlog);
    spoolRate = c.backlog / ((nowMs() - started) / 1000);
    c.log(`replay: ${c.backlog} spooled at ${Math.round(spoolRate)} msg/s; starting Kafka`);
  } finally {
    await c.brokers.kafka.start();
  }
  const liveCount = Math.max(1000, Math.round(c.liveRate * 30));
  const live = worker("mqtt-pub", { url: c.brokers.mqtt.url, topic: c.mqttTopic, count: liveCount, size: c.size, qos: 1, pass: c.pass(), rate: c.liveRate });
  let first: { at: number; replayed: number } | undefined;
  let last: { at: number; replayed: number } | undefined;
  await pollUntil("the spool to drain", 300_000, async () => {
    const m = await metrics();
    const replayed = metricValue(m, "mqtt_kafka_connector_spool_replayed_total");
    const held = metricValue(m, "mqtt_kafka_connector_spool_records");
    const at = nowMs();
    if (!first && replayed > 0) first = { at, replayed };
    if (first) last = { at, replayed };
    return first !== undefined && held === 0;
  });
  const drainSeconds = first && last ? (last.at - first.at) / 1000 : 0;
  const replayRate = first && last && drainSeconds > 0 ? (last.replayed - first.replayed) / drainSeconds : 0;
  await live.result;
  const expected = c.backlog + liveCount;
  let arrived = 0;
  await pollUntil("every message in Kafka", 120_000, async () => (arrived = (await c.endOffsets(c.topic).catch(() => 0)) - base) >= expected).catch(() => undefined);
  const fsync = histogramP99(await metrics(), "mqtt_kafka_connector_spool_fsync_seconds");
  return {
    backlog: c.backlog,
    spoolRate,
    liveRate: c.liveRate,
    liveSent: liveCount,
    replayRate,
    drainSeconds,
    lost: Math.max(0, expected - arrived),
    fsyncP99Ms: fsync === undefined ? undefined : fsync * 1000,
  };
}
