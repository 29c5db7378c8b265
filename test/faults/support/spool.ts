// What the disk-spool scenarios (7-11) share: a Mosquitto with its stock queue limit, a keyed
// QoS 1 stream (one MQTT topic per Kafka key), the spool's figures from the connector's /metrics,
// the broker's own drop counter from $SYS, and a tally that checks each key's order in Kafka.
import { appendFileSync } from "node:fs";
import mqtt, { type MqttClient } from "mqtt";
import type { Admin } from "kafkajs";
import type { BrokerProfile, SharedBrokers } from "../../helpers/brokers";
import type { ConnectorProcess } from "../../helpers/connector-process";
import { progress } from "./env";
import type { Topology } from "./scenario";
import { awaitTopicSettled, readTopic, SeqTally } from "./streams";

/**
 * Kafka, and a Mosquitto as shipped: no max_queued_messages override, so at most 1000 messages
 * are queued per client session and the rest dropped. Persistence on, like the other profile;
 * $SYS topics every second so the broker's drop counter can be read at the end of a scenario.
 */
export const STOCK_FAULT_BROKERS: BrokerProfile = {
  name: "faults-stock",
  kafka: { heapMb: 512 },
  mqtt: { persistence: true, stockQueue: true, extraConfig: ["autosave_interval 120", "sys_interval 1"] },
  onStarted: (b, ms) => progress(`stock-queue brokers up in ${(ms / 1000).toFixed(1)} s: kafka ${b.kafka.bootstrap}, mosquitto ${b.mqtt.url} (default max_queued_messages 1000, persistence on)`),
};

/** The steady input: QoS 1 at 2,000 msg/s. */
export const SPOOL_RATE = 2_000;
/** MQTT topics `<base>/k0` … `<base>/k7`; with partitionStrategy topic each is one Kafka key. */
export const KEYS = 8;
export const PARTITIONS = 4;
/**
 * The connector's own MQTT window (--receive-maximum) in these scenarios. A stock Mosquitto queues
 * max_queued_messages (1000) for a connected session beyond its window; at 2,000 msg/s the
 * default window of 1000 leaves about 1 s for any stall of the connector (an fsync, GC, a busy
 * machine) before the broker drops. Early runs with 1000 on the shared 2-core machine saw the
 * connector hold up to 1,720 unacknowledged messages and the broker drop thousands.
 */
export const SPOOL_RECEIVE_MAXIMUM = 10_000;

/** Seconds of Kafka outage for scenarios 7 and 8 (FAULTS_SPOOL_OUTAGE_S, default 180). */
export function outageSeconds(): number {
  const v = Number(process.env.FAULTS_SPOOL_OUTAGE_S ?? 180);
  if (!Number.isFinite(v) || v < 10) throw new Error(`FAULTS_SPOOL_OUTAGE_S must be a number of seconds >= 10, not ${process.env.FAULTS_SPOOL_OUTAGE_S}`);
  return v;
}

export const keyTopic = (base: string, seq: number): string => `${base}/k${seq % KEYS}`;

/** Overrides for topologyConfig: the route subscribes to every key topic and keys records by MQTT topic. */
export function keyedRoute(t: Topology) {
  return { m2k: { mqttTopic: `${t.m2k!.mqttTopic}/+` }, map: { partitionStrategy: "topic" as const } };
}

export function spoolArgs(dir: string, maxBytes: number): string[] {
  return ["--spool-dir", dir, "--spool-max-bytes", String(maxBytes), "--spool-mode", "outage"];
}

// ---------------------------------------------------------------- /metrics

export interface SpoolMetrics {
  records: number;
  bytes: number;
  oldestAgeS: number;
  spooling: number;
  replayed: number;
  full: number;
  received: number;
  inFlight: number;
  corrupt: number;
  /** prom-client's event-loop delay maximum (nodejs_eventloop_lag_max_seconds). */
  loopLagMaxS: number;
  fsyncCount: number;
  fsyncSum: number;
  /** Cumulative counts per upper bound, in order. */
  fsyncBuckets: [number, number][];
}

/** The spool's figures from one /metrics scrape (summed over routes), or undefined when it does not answer. */
export async function spoolMetrics(p: ConnectorProcess): Promise<SpoolMetrics | undefined> {
  if (!p.running) return undefined;
  const res = await fetch(p.url("/metrics"), { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  const text = await res.text();
  const sum = (name: string, labelMatch?: RegExp): number => {
    let total = 0;
    for (const m of text.matchAll(new RegExp(`^mqtt_kafka_connector_${name}(\\{[^}]*\\})? ([0-9.e+-]+|NaN)$`, "gm"))) {
      if (labelMatch && !labelMatch.test(m[1] ?? "")) continue;
      total += Number(m[2]);
    }
    return total;
  };
  const buckets: [number, number][] = [];
  for (const m of text.matchAll(/^mqtt_kafka_connector_spool_fsync_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} ([0-9.e+-]+)$/gm)) {
    buckets.push([m[1] === "+Inf" ? Infinity : Number(m[1]), Number(m[2])]);
  }
  return {
    records: sum("spool_records"),
    bytes: sum("spool_bytes"),
    oldestAgeS: sum("spool_oldest_age_seconds"),
    spooling: sum("spooling"),
    replayed: sum("spool_replayed_total"),
    full: sum("spool_full"),
    received: sum("messages_received_total", /direction="mqttToKafka"/),
    inFlight: sum("messages_in_flight", /direction="mqttToKafka"/),
    corrupt: sum("dropped_total", /reason="spool_corrupt"/),
    loopLagMaxS: Number(/^\w*nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(text)?.[1] ?? 0),
    fsyncCount: sum("spool_fsync_seconds_count"),
    fsyncSum: sum("spool_fsync_seconds_sum"),
    fsyncBuckets: buckets,
  };
}

/** "p99 ≤ 5 ms, mean 1.2 ms over N fsyncs" from the histogram (bucket bounds, so an upper bound). */
export function fsyncSummary(m: SpoolMetrics | undefined): string {
  if (!m || m.fsyncCount === 0) return "no spool fsyncs recorded";
  const want = 0.99 * m.fsyncCount;
  const bound = m.fsyncBuckets.find(([, c]) => c >= want)?.[0] ?? Infinity;
  const all = m.fsyncBuckets.find(([, c]) => c >= m.fsyncCount)?.[0] ?? Infinity;
  const ms = (s: number) => (s === Infinity ? "∞" : `${(s * 1000).toFixed(s < 0.01 ? 1 : 0)} ms`);
  return `fsync p99 ≤ ${ms(bound)}, max ≤ ${ms(all)}, mean ${ms(m.fsyncSum / m.fsyncCount)} over ${m.fsyncCount} appends`;
}

/**
 * Scrapes /metrics of whichever connector process is current every second: the spool's peaks,
 * whether it was seen full (and the connector not ready then), and records replayed summed over
 * processes (a replacement's counter starts at 0).
 */
export class SpoolWatch {
  last: SpoolMetrics | undefined;
  peakRecords = 0;
  peakBytes = 0;
  peakAgeS = 0;
  sawFull = false;
  notReadyWhileFull = false;
  /** Most messages the connector held unacknowledged, and the longest event-loop stall reported. */
  peakInFlight = 0;
  peakLoopLagS = 0;
  private replayedBefore = 0;
  private lastPid = -1;
  private lastReplayed = 0;
  private busy = false;
  private readonly timer: NodeJS.Timeout;

  /** `timeline`: a file that gets one line per sample (time, in flight, spool records, fsyncs over 0.25 s, loop lag). */
  constructor(
    private readonly current: () => ConnectorProcess,
    private readonly timeline?: string,
  ) {
    this.timer = setInterval(() => void this.sample(), 500);
    this.timer.unref();
  }

  /** Records sent from the spool by every process so far. */
  get replayed(): number {
    return this.replayedBefore + this.lastReplayed;
  }

  async sample(): Promise<SpoolMetrics | undefined> {
    if (this.busy) return this.last;
    this.busy = true;
    try {
      const p = this.current();
      const m = await spoolMetrics(p);
      if (!m) return undefined;
      if (p.pid !== this.lastPid) {
        this.replayedBefore += this.lastReplayed;
        this.lastReplayed = 0;
        this.lastPid = p.pid;
      }
      this.lastReplayed = m.replayed;
      this.last = m;
      if (this.timeline) {
        const slow = m.fsyncCount - (m.fsyncBuckets.find(([le]) => le >= 0.25)?.[1] ?? m.fsyncCount);
        appendFileSync(this.timeline, `${new Date().toISOString()} pid ${p.pid} inFlight ${m.inFlight} records ${m.records} received ${m.received} replayed ${m.replayed} spooling ${m.spooling} fsyncs ${m.fsyncCount} over250ms ${slow} loopLagMaxMs ${(m.loopLagMaxS * 1000).toFixed(0)}\n`);
      }
      this.peakRecords = Math.max(this.peakRecords, m.records);
      this.peakBytes = Math.max(this.peakBytes, m.bytes);
      this.peakAgeS = Math.max(this.peakAgeS, m.oldestAgeS);
      this.peakInFlight = Math.max(this.peakInFlight, m.inFlight);
      this.peakLoopLagS = Math.max(this.peakLoopLagS, m.loopLagMaxS);
      if (m.full) {
        this.sawFull = true;
        if (!(await p.isReady())) this.notReadyWhileFull = true;
      }
      return m;
    } finally {
      this.busy = false;
    }
  }

  describe(): string {
    const m = this.last;
    if (!m) return "spool: no /metrics";
    return `spool ${m.records} records ${(m.bytes / 2 ** 20).toFixed(1)} MiB, oldest ${m.oldestAgeS.toFixed(0)} s, spooling ${m.spooling}, full ${m.full}, replayed ${this.replayed}, in flight ${m.inFlight}`;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

// ---------------------------------------------------------------- the broker's drops

/**
 * Mosquitto's own count of messages it dropped (`$SYS/broker/publish/messages/dropped`, sent every
 * sys_interval): queue limits reached for a session. Cumulative since the broker started.
 */
export class BrokerDrops {
  value: number | undefined;
  private client: MqttClient | undefined;

  constructor(private readonly url: string) {}

  async start(): Promise<void> {
    const client = await mqtt.connectAsync(this.url, { protocolVersion: 5, clean: true, reconnectPeriod: 500, connectTimeout: 5_000 });
    this.client = client;
    client.on("error", () => undefined);
    client.on("message", (_t, payload) => {
      const n = Number(payload.toString());
      if (Number.isFinite(n)) this.value = n;
    });
    await client.subscribeAsync("$SYS/broker/publish/messages/dropped", { qos: 0 });
    // Mosquitto publishes (and retains) the counter only once it changes: silence means 0 so far.
    for (let i = 0; i < 15 && this.value === undefined; i++) await new Promise((r) => setTimeout(r, 100));
    this.value ??= 0;
  }

  /** The next value published after now (at most `waitMs`), so the count covers everything so far. */
  async fresh(waitMs = 3_000): Promise<number | undefined> {
    const before = Date.now();
    const client = this.client;
    if (!client) return undefined;
    return new Promise((resolve) => {
      const t = setTimeout(() => (client.off("message", on), resolve(this.value)), waitMs);
      const on = (): void => {
        if (Date.now() - before < 1_100) return; // a value computed before we asked
        clearTimeout(t);
        client.off("message", on);
        resolve(this.value);
      };
      client.on("message", on);
    });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true).catch(() => undefined);
  }
}

// ---------------------------------------------------------------- Kafka, per key

/**
 * Waits for the topic to hold `minRecords` and settle, then reads it with kcat; order is checked
 * per key (seq mod KEYS, the MQTT topic it was published to): a first copy that comes after a
 * higher number of the same key counts as out of order.
 */
export async function keyedKafkaTally(b: SharedBrokers, admin: Admin, topic: string, tag: string, expected: number, o: { minRecords: number; timeoutMs: number; settleMs?: number }): Promise<SeqTally> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    await awaitTopicSettled(admin, topic, o.minRecords, Math.max(0, deadline - Date.now()), o.settleMs ?? 3_000);
    const tally = new SeqTally(tag, expected, (seq) => seq % KEYS);
    await readTopic(b.kafka.bootstrap, topic, (_partition, head) => tally.offer(head));
    if (tally.distinct >= o.minRecords || Date.now() >= deadline) return tally;
    progress(`${topic}: ${tally.distinct} distinct of at least ${o.minRecords} so far; waiting`);
    await new Promise((r) => setTimeout(r, 3_000));
  }
}

/** The `received` count of every mqttToKafka route in a process's "connector stopped" line. */
export function receivedFromStoppedLine(p: ConnectorProcess): number | undefined {
  const routes = p.stoppedLine?.["mqttToKafka"] as Record<string, { received?: number }> | undefined;
  if (!routes) return undefined;
  return Object.values(routes).reduce((n, r) => n + (r.received ?? 0), 0);
}
