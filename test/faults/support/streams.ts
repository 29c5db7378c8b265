// Numbered message streams: load generators on both sides (mqtt.js publisher
// with QoS 1, kafkajs producer), far-end readers (persistent mqtt.js
// subscriber, kcat) and a tally of which sequence numbers arrived how often.
import { spawn } from "node:child_process";
import mqtt, { type IClientPublishOptions, type IPublishPacket, type MqttClient } from "mqtt";
import { Kafka, logLevel, type Admin, type Producer } from "kafkajs";
import { delay as sleep } from "../../helpers/wait";
import { progress } from "./env";

// ---------------------------------------------------------------- payloads

/** `<tag>|<seq>|` then '.' up to `bytes`: the payload carries the sequence number. */
export function makePayload(tag: string, seq: number, bytes = 64): Buffer {
  const head = `${tag}|${seq}|`;
  const buf = Buffer.alloc(Math.max(bytes, head.length), ".");
  buf.write(head, 0, "latin1");
  return buf;
}

/** Tag and sequence number from the start of a payload, or undefined for anything else. */
export function parsePayload(payload: Buffer): { tag: string; seq: number } | undefined {
  const head = payload.subarray(0, 64).toString("latin1");
  const a = head.indexOf("|");
  const b = a < 0 ? -1 : head.indexOf("|", a + 1);
  if (a <= 0 || b < 0) return undefined;
  const seq = Number(head.slice(a + 1, b));
  return Number.isInteger(seq) && seq >= 0 ? { tag: head.slice(0, a), seq } : undefined;
}

// ---------------------------------------------------------------- tally

/** How often each of 0..expected-1 arrived. */
export class SeqTally {
  private readonly counts: Uint16Array;
  /** Messages counted, duplicates included. */
  total = 0;
  distinct = 0;
  /** Messages with another tag or an unparseable payload. */
  foreign = 0;
  /**
   * First copies that arrived after a higher number of the same lane (Kafka
   * partition): per-partition order broken. Redelivered copies are ignored.
   */
  inversions = 0;
  private readonly lastFirst = new Map<number, number>();

  /** `laneOf`: the lane (partition) of a number when the caller does not give one. */
  constructor(
    readonly tag: string,
    readonly expected: number,
    private readonly laneOf?: (seq: number) => number,
  ) {
    this.counts = new Uint16Array(expected);
  }

  /** Count a number that arrived elsewhere (e.g. a dead letter), outside any order check. */
  addElsewhere(seq: number): void {
    this.add(seq, null);
  }

  /** Count a payload; false (and counted as foreign) if it is not one of ours. */
  offer(payload: Buffer, lane?: number): boolean {
    const p = parsePayload(payload);
    if (!p || p.tag !== this.tag || p.seq >= this.expected) {
      this.foreign++;
      return false;
    }
    this.add(p.seq, lane);
    return true;
  }

  add(seq: number, lane?: number | null): void {
    this.total++;
    if (this.counts[seq]++ === 0) {
      this.distinct++;
      const l = lane === null ? undefined : lane ?? this.laneOf?.(seq);
      if (l !== undefined) {
        const last = this.lastFirst.get(l) ?? -1;
        if (seq < last) this.inversions++;
        else this.lastFirst.set(l, seq);
      }
    }
    if (this.counts[seq] === 0) this.counts[seq] = 0xffff; // saturate rather than wrap
  }

  has(seq: number): boolean {
    return this.counts[seq] > 0;
  }

  get lost(): number {
    return this.expected - this.distinct;
  }

  get duplicates(): number {
    return this.total - this.distinct;
  }

  /** The first `max` missing sequence numbers, as ranges ("12-40, 99"). */
  missing(max = 20): string {
    const out: string[] = [];
    for (let i = 0; i < this.expected && out.length < max; i++) {
      if (this.counts[i] > 0) continue;
      let j = i;
      while (j + 1 < this.expected && this.counts[j + 1] === 0) j++;
      out.push(i === j ? String(i) : `${i}-${j}`);
      i = j;
    }
    return out.join(", ");
  }

  /** Sequence numbers that arrived more than once (the first `max`). */
  duplicatedSeqs(max = 50): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.expected && out.length < max; i++) if (this.counts[i] > 1) out.push(i);
    return out;
  }

  /** The first `max` duplicated sequence numbers with their counts. */
  duplicated(max = 10): string {
    const out: string[] = [];
    for (let i = 0; i < this.expected && out.length < max; i++) if (this.counts[i] > 1) out.push(`${i}x${this.counts[i]}`);
    return out.join(", ");
  }
}

export interface DirectionResult {
  label: string;
  sent: number;
  tally: SeqTally;
}

/**
 * `scenario N: sent X, received Y, lost L, duplicates D` over all directions,
 * then one indented line per direction. Returns the lines (also printed).
 */
export function printSummary(scenario: number, parts: DirectionResult[]): string[] {
  const sum = (f: (p: DirectionResult) => number) => parts.reduce((n, p) => n + f(p), 0);
  const line = (prefix: string, sent: number, recv: number, lost: number, dups: number) =>
    `${prefix}: sent ${sent}, received ${recv}, lost ${lost}, duplicates ${dups}`;
  const lines = [line(`scenario ${scenario}`, sum((p) => p.sent), sum((p) => p.tally.total), sum((p) => p.tally.lost), sum((p) => p.tally.duplicates))];
  if (parts.length > 1) {
    for (const p of parts) lines.push(`  ${line(p.label, p.sent, p.tally.total, p.tally.lost, p.tally.duplicates)}`);
  }
  for (const p of parts) {
    if (p.tally.lost) lines.push(`  ${p.label} missing: ${p.tally.missing()}`);
    if (p.tally.duplicates) lines.push(`  ${p.label} duplicated (first): ${p.tally.duplicated()}`);
    if (p.tally.foreign) lines.push(`  ${p.label}: ${p.tally.foreign} foreign messages ignored`);
    if (p.tally.inversions) lines.push(`  ${p.label}: ${p.tally.inversions} first copies out of order within their partition`);
  }
  process.stdout.write(lines.map((l) => `    ${l}\n`).join(""));
  return lines;
}

// ---------------------------------------------------------------- MQTT clients

/**
 * An mqtt.js client with a persistent session (Clean Start 0, 600 s expiry) that reconnects every
 * 500 ms. `setup` adds the handlers before the first CONNECT; resolves once that is accepted (10 s).
 */
async function connectPersistent(
  what: string,
  url: string,
  clientId: string,
  properties: { receiveMaximum?: number },
  setup: (client: MqttClient) => void,
): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    protocolVersion: 5,
    clientId,
    clean: false,
    reconnectPeriod: 500,
    connectTimeout: 5_000,
    properties: { sessionExpiryInterval: 600, ...properties },
  });
  setup(client);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not connect`)), 10_000);
    client.once("connect", () => (clearTimeout(t), resolve()));
  });
  return client;
}

// ---------------------------------------------------------------- MQTT publisher

/** A message whose publish failed this often (e.g. a PUBACK reason code >= 0x80) is given up on. */
const MAX_PUBLISH_ATTEMPTS = 5;
/** A Kafka batch that failed this often (500 ms apart, ~2 min) is given up on; the stream stops there. */
const MAX_SEND_ATTEMPTS = 240;

export interface MqttLoadOptions {
  url: string;
  topic: string;
  tag: string;
  count: number;
  ratePerSec: number;
  payloadBytes?: number;
  clientId: string;
  /** Unacknowledged publishes at most; also capped by the broker's Receive Maximum (CONNACK). Default 20. */
  window?: number;
  /** Replace the payload or add properties for some sequence numbers (poison messages). */
  override?: (seq: number) => { payload?: Buffer; properties?: IClientPublishOptions["properties"] } | undefined;
  /** The MQTT topic of each sequence number (default `topic` for all), e.g. one per Kafka key. */
  topicOf?: (seq: number) => string;
}

/**
 * Publishes seq 0..count-1 with QoS 1 at a steady rate, at most `window`
 * unacknowledged. A persistent session (Clean Start 0) lets mqtt.js resend
 * in-flight messages after a broker restart; a publish that fails outright is
 * published again, so the source itself is at-least-once.
 */
export class MqttLoad {
  published = 0;
  acked = 0;
  errors = 0;
  lastError: string | undefined;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private client: MqttClient | undefined;
  private next = 0;
  private outstanding = 0;
  private window: number;
  private readonly retry: number[] = [];
  private readonly attempts = new Map<number, number>();
  /** Sequence numbers given up on after MAX_PUBLISH_ATTEMPTS failed publishes. */
  readonly abandoned: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private stopped = false;

  constructor(readonly o: MqttLoadOptions) {
    this.window = o.window ?? 20;
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  async start(): Promise<void> {
    await connectPersistent(`load publisher ${this.o.clientId}`, this.o.url, this.o.clientId, {}, (client) => {
      this.client = client;
      client.on("error", (e) => (this.lastError = e.message));
      client.on("connect", (connack) => {
        const rm = connack.properties?.receiveMaximum;
        if (rm) this.window = Math.min(this.o.window ?? 20, rm);
        this.pump();
      });
    });
    this.t0 = Date.now();
    this.timer = setInterval(() => this.pump(), 5);
  }

  private pump(): void {
    const client = this.client;
    if (!client || this.stopped || this.t0 === 0) return;
    const due = Math.min(this.o.count, Math.floor(((Date.now() - this.t0) * this.o.ratePerSec) / 1000));
    while (this.outstanding < this.window && (this.retry.length > 0 || this.next < due)) {
      const seq = this.retry.length > 0 ? this.retry.shift()! : this.next++;
      const o = this.o.override?.(seq);
      const payload = o?.payload ?? makePayload(this.o.tag, seq, this.o.payloadBytes);
      this.outstanding++;
      this.published++;
      client.publish(this.o.topicOf?.(seq) ?? this.o.topic, payload, { qos: 1, ...(o?.properties ? { properties: o.properties } : {}) }, (err) => {
        this.outstanding--;
        if (err) {
          this.errors++;
          this.lastError = err.message;
          const n = (this.attempts.get(seq) ?? 1) + 1;
          this.attempts.set(seq, n);
          if (n > MAX_PUBLISH_ATTEMPTS) this.abandoned.push(seq);
          else if (!this.stopped) this.retry.push(seq);
        } else if (++this.acked === this.o.count) {
          this.resolveDone();
        }
        this.pump();
      });
    }
    if (this.next >= this.o.count && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  describe(): string {
    return (
      `published ${this.published} acked ${this.acked}/${this.o.count}${this.errors ? ` errors ${this.errors} (${this.lastError})` : ""}` +
      (this.abandoned.length ? `, gave up on ${this.abandoned.length}` : "")
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.client?.endAsync(true).catch(() => undefined);
  }
}

// ---------------------------------------------------------------- MQTT subscriber

export interface MqttCollectorOptions {
  url: string;
  filter: string | string[];
  clientId: string;
  onMessage: (topic: string, payload: Buffer, packet: IPublishPacket) => void;
}

/**
 * A persistent-session QoS 1 subscriber: what the broker queues for it while
 * it (or the broker) is away is delivered when it is back.
 */
export class MqttCollector {
  received = 0;
  lastAt = 0;
  private client: MqttClient | undefined;

  constructor(readonly o: MqttCollectorOptions) {}

  async start(): Promise<void> {
    const client = await connectPersistent(`collector ${this.o.clientId}`, this.o.url, this.o.clientId, { receiveMaximum: 500 }, (client) => {
      this.client = client;
      client.on("error", () => undefined);
      client.on("message", (topic, payload, packet) => {
        this.received++;
        this.lastAt = Date.now();
        this.o.onMessage(topic, payload, packet);
      });
    });
    const granted = await client.subscribeAsync(this.o.filter, { qos: 1 });
    if (granted.some((g) => g.qos !== 1)) throw new Error(`collector subscription refused: ${JSON.stringify(granted)}`);
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true).catch(() => undefined);
  }
}

// ---------------------------------------------------------------- Kafka producer

export interface KafkaLoadOptions {
  bootstrap: string;
  topic: string;
  partitions: number;
  tag: string;
  count: number;
  ratePerSec: number;
  payloadBytes?: number;
  /** Extra headers for some sequence numbers, or a replacement payload (poison records). */
  override?: (seq: number) => { value?: Buffer; headers?: Record<string, string> } | undefined;
}

/**
 * Produces seq 0..count-1 (partition seq mod partitions, acks all) at a steady
 * rate in small batches. A failed batch is sent again after 500 ms until it
 * succeeds or stop() is called, so a Kafka outage delays the stream but loses
 * nothing (a retried batch may land twice: count the source with readTopic).
 */
export class KafkaLoad {
  produced = 0;
  errors = 0;
  lastError: string | undefined;
  readonly done: Promise<void>;
  private producer: Producer;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private resolveDone!: () => void;

  constructor(readonly o: KafkaLoadOptions) {
    this.producer = new Kafka({
      clientId: `faults-load-${o.tag}`,
      brokers: [o.bootstrap],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2_000,
      requestTimeout: 10_000,
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
    }).producer({ allowAutoTopicCreation: false });
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  async start(): Promise<void> {
    await this.producer.connect();
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const t0 = Date.now();
    let failures = 0;
    while (!this.stopped && this.produced < this.o.count) {
      const due = Math.min(this.o.count, Math.floor(((Date.now() - t0) * this.o.ratePerSec) / 1000));
      if (due <= this.produced) {
        await sleep(20);
        continue;
      }
      const from = this.produced;
      const to = Math.min(due, from + 500);
      const messages = [];
      for (let seq = from; seq < to; seq++) {
        const o = this.o.override?.(seq);
        messages.push({
          partition: seq % this.o.partitions,
          value: o?.value ?? makePayload(this.o.tag, seq, this.o.payloadBytes),
          ...(o?.headers ? { headers: o.headers } : {}),
        });
      }
      try {
        await this.producer.send({ topic: this.o.topic, acks: -1, messages });
        this.produced = to;
        failures = 0;
      } catch (e) {
        this.errors++;
        this.lastError = (e as Error).message;
        if (++failures >= MAX_SEND_ATTEMPTS) {
          progress(`Kafka load generator ${this.o.tag}: giving up after ${failures} failed sends of seq ${from}-${to - 1}: ${this.lastError}`);
          return;
        }
        await sleep(500);
      }
    }
    if (this.produced >= this.o.count) this.resolveDone();
  }

  describe(): string {
    return `produced ${this.produced}/${this.o.count}${this.errors ? ` send errors ${this.errors} (${this.lastError})` : ""}`;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop?.catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
  }
}

// ---------------------------------------------------------------- Kafka reading

/** Sum of the partitions' high watermarks, or undefined while Kafka does not answer. */
export async function topicEnd(admin: Admin, topic: string): Promise<number | undefined> {
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high), 0);
  } catch {
    return undefined;
  }
}

export function kafkaAdmin(bootstrap: string): Admin {
  return new Kafka({
    clientId: "faults-admin",
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { retries: 0 },
  }).admin();
}

/**
 * Reads a whole topic with kcat (librdkafka, independent of the connector's
 * kafkajs) from the beginning to the current end, streaming: only the head
 * of each payload is looked at, so large topics are cheap. Records come in
 * offset order within each partition. Bounded in time.
 */
export function readTopic(bootstrap: string, topic: string, onRecord: (partition: number, head: Buffer) => void, timeoutMs = 120_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn("kcat", ["-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p %s\n"], { stdio: ["ignore", "pipe", "pipe"] });
    let records = 0;
    let carry: Buffer | undefined; // head of a line whose end has not arrived yet
    let skipping = false; // inside a long line whose head was already taken
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const emit = (line: Buffer): void => {
      const sp = line.indexOf(32);
      onRecord(Number(line.subarray(0, sp).toString("latin1")), line.subarray(sp + 1));
      records++;
    };
    child.stdout.on("data", (chunk: Buffer) => {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        const end = nl < 0 ? chunk.length : nl;
        if (!skipping) {
          const piece = chunk.subarray(start, Math.min(end, start + 80));
          carry = carry ? Buffer.concat([carry, piece]).subarray(0, 80) : Buffer.from(piece);
          if (carry.length >= 80 && nl < 0) skipping = true;
        }
        if (nl < 0) break;
        emit(carry ?? Buffer.alloc(0));
        carry = undefined;
        skipping = false;
        start = nl + 1;
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e) => reject(e));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(records);
      else reject(new Error(`kcat read of ${topic}: exit ${code} ${signal ?? ""} after ${records} records: ${stderr.trim()}`));
    });
  });
}

/**
 * Partition and offset of every record carrying one of `seqs` (tag `tag`):
 * evidence for duplicates. Bounded like readTopic.
 */
export function locate(bootstrap: string, topic: string, tag: string, seqs: number[], timeoutMs = 60_000): Promise<Map<number, string[]>> {
  const want = new Set(seqs);
  const found = new Map<number, string[]>();
  return new Promise((resolve, reject) => {
    const child = spawn("kcat", ["-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p:%o %s\n"], { stdio: ["ignore", "pipe", "ignore"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    let rest = "";
    child.stdout.on("data", (d: Buffer) => {
      const lines = (rest + d.toString("latin1")).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const sp = line.indexOf(" ");
        const p = parsePayload(Buffer.from(line.slice(sp + 1, sp + 65), "latin1"));
        if (p && p.tag === tag && want.has(p.seq)) found.set(p.seq, [...(found.get(p.seq) ?? []), `p${line.slice(0, sp)}`]);
      }
      if (rest.length > 4096) rest = rest.slice(0, 200); // a long payload: its head is all we need
    });
    child.on("error", reject);
    child.on("close", () => (clearTimeout(timer), resolve(found)));
  });
}

/** Tally a topic's records by payload. */
export async function tallyTopic(bootstrap: string, topic: string, tag: string, expected: number): Promise<SeqTally> {
  const tally = new SeqTally(tag, expected);
  await readTopic(bootstrap, topic, (partition, head) => tally.offer(head, partition));
  return tally;
}

/**
 * Waits until the topic holds at least `minRecords` records and its end has
 * not moved for `settleMs` (no late duplicates still coming). Bounded; returns
 * whether that happened.
 */
export async function awaitTopicSettled(admin: Admin, topic: string, minRecords: number, timeoutMs: number, settleMs = 3_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    const end = (await topicEnd(admin, topic)) ?? -1;
    if (end !== last) {
      last = end;
      stableSince = Date.now();
    }
    if (end >= minRecords && Date.now() - stableSince >= settleMs) return true;
    await sleep(500);
  }
  return false;
}

/**
 * Waits for the topic to settle with at least `expected` records, then
 * tallies it. If sequence numbers are missing it keeps waiting and re-reading
 * until the deadline.
 */
export async function awaitKafkaDelivery(o: {
  bootstrap: string;
  admin: Admin;
  topic: string;
  tag: string;
  expected: number;
  timeoutMs: number;
  settleMs?: number;
}): Promise<SeqTally> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    await awaitTopicSettled(o.admin, o.topic, o.expected, Math.max(0, deadline - Date.now()), o.settleMs);
    const tally = await tallyTopic(o.bootstrap, o.topic, o.tag, o.expected);
    if (tally.lost === 0 || Date.now() >= deadline) return tally;
    progress(`${o.topic}: ${tally.lost} missing so far (${tally.missing(5)}); waiting`);
    await sleep(3_000);
  }
}

/**
 * Waits until the tally holds `distinct` sequence numbers (default: all) and no
 * message arrived for `settleMs`; bounded.
 */
export async function awaitMqttDelivery(o: { tally: SeqTally; collector: MqttCollector; timeoutMs: number; settleMs?: number; distinct?: number }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  const settle = o.settleMs ?? 3_000;
  const want = o.distinct ?? o.tally.expected;
  while (Date.now() < deadline) {
    if (o.tally.distinct >= want && Date.now() - o.collector.lastAt >= settle) return;
    await sleep(200);
  }
}
