/**
 * The backlog drain (`--peer`, MQTT→Kafka): a bridge's persistent session is subscribed, the bridge
 * stops, one publisher queues `count` QoS 1 messages in Mosquitto for that session, and the bridge
 * starts again and drains them into Kafka. No load generator runs during the drain, so the rate is
 * the bridge's (and Mosquitto's delivery to it), not the publisher's: the flat-out passes cannot
 * show that, because one publisher with Mosquitto's Receive Maximum of 20 offers less than either
 * bridge takes. It is also what users meet after a restart or a rollout.
 */
import { fmt, followCount, nowMs, sleep, sustained } from "./common";
import { ProcSampler, statusKb, worker } from "./procs";

/** A started bridge: its pid and how to stop it. */
export interface Bridge {
  pid: number;
  stop(): Promise<number | null>;
}

export interface BacklogContext {
  mqttUrl: string;
  endOffsets(topic: string): Promise<number>;
  log(line: string): void;
}

export interface BacklogOptions {
  /** Starts the bridge on `mqttTopic` → `topic` with a persistent session (the same one each time). */
  start(): Promise<Bridge>;
  topic: string;
  mqttTopic: string;
  count: number;
  size: number;
  pass: number;
  label: string;
}

export interface BacklogResult {
  rate: number;
  count: number;
  delivered: number;
  cpuPercent: number;
  cpuUsPerMsg: number;
  peakRssMb: number;
  /** Seconds from the bridge's start to the last record in Kafka. */
  drainSeconds: number;
}


export async function backlogDrain(ctx: BacklogContext, o: BacklogOptions): Promise<BacklogResult> {
  // 1. subscribe the persistent session, then go away
  const first = await o.start();
  await sleep(500);
  await first.stop();
  // 2. queue the backlog in Mosquitto for the absent session
  const pub = worker("mqtt-pub", { url: ctx.mqttUrl, topic: o.mqttTopic, count: o.count, size: o.size, qos: 1, pass: o.pass });
  await pub.result;
  const base = await ctx.endOffsets(o.topic);
  // 3. the drain
  const t0 = nowMs();
  const bridge = await o.start();
  const sampler = new ProcSampler(bridge.pid);
  try {
    const tl = await followCount(async () => (await ctx.endOffsets(o.topic)) - base, o.count, 20, t0);
    sampler.stop();
    const w = sustained(tl.slice(1));
    const last = tl[tl.length - 1]!;
    if (!w) throw new Error(`${o.label} backlog drain: no rate from ${tl.length - 1} changes of the end offsets (${last[1]} of ${o.count} records in Kafka ${((last[0] - t0) / 1000).toFixed(1)} s after the start)`);
    const delivered = tl[tl.length - 1]![1];
    const cpuSeconds = sampler.window(w.from, w.to).cpuSeconds;
    const peakRssMb = statusKb(bridge.pid, "VmHWM") / 1024;
    const r: BacklogResult = {
      rate: w.rate,
      count: o.count,
      delivered,
      cpuPercent: (100 * cpuSeconds) / ((w.to - w.from) / 1000),
      cpuUsPerMsg: (1e6 * cpuSeconds) / (0.8 * delivered),
      peakRssMb,
      drainSeconds: (tl[tl.length - 1]![0] - t0) / 1000,
    };
    ctx.log(`${o.label}: backlog of ${fmt(o.count)} drained at ${fmt(r.rate)} msg/s (${fmt(delivered)} in Kafka, ${r.drainSeconds.toFixed(1)} s from start), CPU ${r.cpuPercent.toFixed(0)} %, ${r.cpuUsPerMsg.toFixed(1)} µs/msg, peak RSS ${peakRssMb.toFixed(0)} MB`);
    return r;
  } finally {
    sampler.stop();
    await bridge.stop();
  }
}
