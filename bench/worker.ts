/**
 * Child process for `npm run bench`: one role per process, so the load generator, the receivers,
 * the raw-client ceilings and the connector never share a JavaScript thread.
 *
 *   node dist/bench/worker.js ROLE 'JSON config'
 *
 *   mqtt-pub        MQTT publisher (QoS 0/1), flat out within the broker's Receive Maximum, or paced
 *   mqtt-sub        raw mqtt.js subscriber(s), PUBACK at once; counts, de-duplicates, measures latency
 *   kafka-produce   raw kafkajs producer: fixed-size batches, one request in flight, flat out or paced
 *   kafka-consume   raw kafkajs consumer from the end of the topic; measures latency
 *   kafka-to-mqtt   raw kafkajs consumer feeding a raw mqtt.js publisher (ceiling 3)
 *   mqtt-to-kafka   raw mqtt.js subscriber feeding a raw kafkajs producer (MQTT→Kafka latency reference)
 *
 * A worker prints `ready` once it can take traffic, `start <ms>` when it starts sending, and one
 * JSON line (WorkerResult) as its last line. Times are bench/common nowMs() (monotonic, shared).
 */
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { Kafka, logLevel, CompressionTypes, CompressionCodecs, type Message } from "kafkajs";
import { compressFrame, decompressFrame } from "lz4-napi";
import { makeFiller, nowMs, readStamp, sleep, stamp, summarize, TimelineRecorder, type WorkerResult } from "./common";

// The raw clients get plain lz4-napi, not the connector's codec module: that one also brings the
// connector's fetch shaping and allocator setting, and the ceilings are meant to be stock clients.
CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: (encoder: { buffer: Buffer }) => compressFrame(encoder.buffer),
  decompress: (buffer: Buffer) => decompressFrame(buffer),
});

const COMPRESSION = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, lz4: CompressionTypes.LZ4 } as const;
type Compression = keyof typeof COMPRESSION;

const role = process.argv[2];
const cfg = JSON.parse(process.argv[3] ?? "{}") as Record<string, unknown>;
const num = (k: string, d?: number): number => {
  const v = cfg[k];
  if (typeof v === "number") return v;
  if (d === undefined) throw new Error(`${role}: missing ${k}`);
  return d;
};
const str = (k: string, d?: string): string => {
  const v = cfg[k];
  if (typeof v === "string") return v;
  if (d === undefined) throw new Error(`${role}: missing ${k}`);
  return d;
};

const say = (line: string): void => void process.stdout.write(line + "\n");
/** The result line; resolves once it is written (process.exit would drop a pending pipe write). */
const finish = (r: WorkerResult): Promise<void> => new Promise((resolve) => process.stdout.write(JSON.stringify(r) + "\n", () => resolve()));

/** BENCH_SERIES=1: also report the worst latency per 100 ms, to see whether slow messages come in bursts. */
class Series {
  readonly on = process.env["BENCH_SERIES"] === "1";
  private readonly worst = new Map<number, number>();
  add(at: number, latency: number): void {
    if (!this.on) return;
    const k = Math.floor(at / 100);
    if (latency > (this.worst.get(k) ?? 0)) this.worst.set(k, latency);
  }
  get(): { series?: [number, number][] } {
    return this.on ? { series: [...this.worst].map(([k, v]) => [k * 100, Math.round(v * 10) / 10]) } : {};
  }
}

function connect(url: string, opts: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, ...opts });
}

/** Counts free slots; `take` waits for one. */
class Slots {
  private used = 0;
  private waiters: (() => void)[] = [];
  constructor(public limit: number) {}
  async take(): Promise<void> {
    while (this.used >= this.limit) await new Promise<void>((r) => this.waiters.push(r));
    this.used++;
  }
  give(): void {
    this.used--;
    const w = this.waiters.shift();
    w?.();
  }
  async idle(): Promise<void> {
    while (this.used > 0) await new Promise<void>((r) => this.waiters.push(r));
  }
}

/**
 * QoS 1: keeps the broker's Receive Maximum in flight. QoS 0: keeps up to 1000 publishes waiting for
 * the socket write, which is what stops a QoS 0 publisher from buffering without bound.
 * With `rate`, messages are released on a schedule and stamped as they leave.
 */
async function mqttPub(): Promise<void> {
  const count = num("count");
  const qos = num("qos") as 0 | 1;
  const rate = num("rate", 0);
  const pass = num("pass", 0);
  const topic = str("topic");
  // fanout N: message i goes to `<topic>/t<i mod N>`, for a route that routes by that level.
  const fanout = num("fanout", 0);
  const topics = fanout > 0 ? Array.from({ length: fanout }, (_, j) => `${topic}/t${j}`) : [topic];
  const client = await connect(str("url"), { clientId: `bench-pub-${process.pid}-${pass}` });
  const quota = (client as unknown as { connackPacket?: { properties?: { receiveMaximum?: number } } }).connackPacket?.properties?.receiveMaximum ?? 65535;
  const slots = new Slots(qos === 1 ? quota : 1000);
  const filler = makeFiller(num("size"));
  const sent = new TimelineRecorder(Math.max(1, Math.floor(count / 2000)));
  say("ready");
  const started = nowMs();
  say(`start ${started}`);
  for (let i = 0; i < count; i++) {
    if (rate > 0) {
      const due = started + (i / rate) * 1000;
      const wait = due - nowMs();
      if (wait > 1) await sleep(wait);
    }
    await slots.take();
    client.publish(topics[i % topics.length]!, stamp(filler, i, pass), { qos }, () => {
      slots.give();
      sent.add();
    });
  }
  await slots.idle();
  const end = nowMs();
  await finish({ count, timeline: sent.finish(end), startAt: started, endAt: end });
  await client.endAsync();
}

async function mqttSub(): Promise<void> {
  const expect = num("expect");
  const pass = num("pass", 0);
  const clients = num("clients", 1);
  const qos = num("qos") as 0 | 1;
  const idleMs = num("idleMs", 5000);
  const maxMs = num("maxMs", 120_000);
  const warmup = Math.floor(expect * num("warmup", 0));
  const filter = clients > 1 ? `$share/bench/${str("topic")}` : str("topic");
  const seen = new Uint8Array(expect);
  const lat = new Float64Array(expect);
  let nLat = 0;
  let unique = 0;
  let count = 0;
  let last = nowMs();
  const tl = new TimelineRecorder(Math.max(1, Math.floor(expect / 2000)));
  const series = new Series();
  const subs: MqttClient[] = [];
  for (let c = 0; c < clients; c++) {
    const client = await connect(str("url"), { clientId: `bench-sub-${process.pid}-${c}`, properties: { receiveMaximum: num("receiveMaximum", 1000) } });
    client.on("message", (_t, payload) => {
      const now = nowMs();
      const s = readStamp(payload);
      if (!s || s.pass !== pass) return;
      count++;
      last = now;
      tl.add(1, now);
      if (s.seq < expect && !seen[s.seq]) {
        seen[s.seq] = 1;
        unique++;
        if (s.seq >= warmup) lat[nLat++] = now - s.sentAt;
        series.add(now, now - s.sentAt);
      }
    });
    await client.subscribeAsync(filter, { qos });
    subs.push(client);
  }
  say("ready");
  const startedAt = nowMs();
  while (unique < expect && nowMs() - startedAt < maxMs && !(count > 0 && nowMs() - last > idleMs)) await sleep(5);
  const latency = summarize(lat, nLat);
  await finish({ count, unique, timeline: tl.finish(last), ...(latency ? { latency } : {}), ...series.get(), startAt: startedAt, endAt: last });
  await Promise.all(subs.map((c) => c.endAsync(true)));
}

function kafka(): Kafka {
  return new Kafka({ clientId: `bench-${role}-${process.pid}`, brokers: [str("bootstrap")], logLevel: logLevel.NOTHING });
}

/**
 * Batches of `batch` records, round robin over the partitions (as the connector's default
 * strategy), one request in flight (as a connector route), with the given compression and acks.
 */
async function kafkaProduce(): Promise<void> {
  const count = num("count");
  const batch = num("batch");
  const partitions = num("partitions");
  const rate = num("rate", 0);
  const pass = num("pass", 0);
  const topic = str("topic");
  const compression = COMPRESSION[str("compression", "none") as Compression];
  const acks = num("acks", -1);
  const producer = kafka().producer({ allowAutoTopicCreation: false, idempotent: false });
  await producer.connect();
  // Metadata for the topic before the clock starts.
  await producer.send({ topic, acks, messages: [{ value: Buffer.from("warm-up: not a bench record"), partition: 0 }] });
  const filler = makeFiller(num("size"));
  const acked = new TimelineRecorder(Math.max(1, Math.floor(count / 2000)));
  const make = (from: number, n: number): Message[] => {
    const out: Message[] = new Array<Message>(n);
    for (let i = 0; i < n; i++) out[i] = { value: stamp(filler, from + i, pass), partition: (from + i) % partitions };
    return out;
  };
  say("ready");
  const started = nowMs();
  say(`start ${started}`);
  let sent = 0;
  if (rate > 0) {
    // Paced: every `tickMs`, one request with what is due. Sending every millisecond would make the
    // load generator and Kafka pay for a thousand tiny produce requests a second.
    const tickMs = num("tickMs", 5);
    while (sent < count) {
      const due = Math.min(count, Math.floor(((nowMs() - started) / 1000) * rate) + 1);
      if (due <= sent) {
        await sleep(tickMs);
        continue;
      }
      const n = Math.min(batch, due - sent);
      await producer.send({ topic, acks, compression, messages: make(sent, n) });
      sent += n;
      acked.add(n);
    }
  } else {
    let next = make(0, Math.min(batch, count));
    while (sent < count) {
      const messages = next;
      const p = producer.send({ topic, acks, compression, messages });
      const after = sent + messages.length;
      next = after < count ? make(after, Math.min(batch, count - after)) : [];
      await p;
      sent = after;
      acked.add(messages.length);
    }
  }
  const end = nowMs();
  await finish({ count: sent, timeline: acked.finish(end), startAt: started, endAt: end });
  await producer.disconnect();
}

async function kafkaConsume(): Promise<void> {
  const expect = num("expect");
  const pass = num("pass", 0);
  const idleMs = num("idleMs", 5000);
  const maxMs = num("maxMs", 120_000);
  const warmup = Math.floor(expect * num("warmup", 0));
  const consumer = kafka().consumer({ groupId: str("group"), maxWaitTimeInMs: 100 });
  const seen = new Uint8Array(expect);
  const lat = new Float64Array(expect);
  let nLat = 0;
  let unique = 0;
  let count = 0;
  let last = nowMs();
  const tl = new TimelineRecorder(Math.max(1, Math.floor(expect / 2000)));
  const series = new Series();
  let fetched: () => void = () => undefined;
  const firstFetch = new Promise<void>((r) => (fetched = r));
  consumer.on(consumer.events.FETCH, () => fetched());
  await consumer.connect();
  // `topics`: several, for a fan-out scenario; otherwise `topic`.
  const topics = Array.isArray(cfg["topics"]) ? (cfg["topics"] as string[]) : [str("topic")];
  await consumer.subscribe({ topics, fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const now = nowMs();
      for (const m of batch.messages) {
        const s = readStamp(m.value);
        if (!s || s.pass !== pass) continue;
        count++;
        last = now;
        tl.add(1, now);
        if (s.seq < expect && !seen[s.seq]) {
          seen[s.seq] = 1;
          unique++;
          if (s.seq >= warmup) lat[nLat++] = now - s.sentAt;
          series.add(now, now - s.sentAt);
        }
      }
    },
  });
  // After the first fetch the group has its assignment and its start offsets (the end of each partition).
  await firstFetch;
  say("ready");
  const startedAt = nowMs();
  while (unique < expect && nowMs() - startedAt < maxMs && !(count > 0 && nowMs() - last > idleMs)) await sleep(5);
  const latency = summarize(lat, nLat);
  await finish({ count, unique, timeline: tl.finish(last), ...(latency ? { latency } : {}), ...series.get(), startAt: startedAt, endAt: last });
  await consumer.disconnect();
}

/**
 * Ceiling 3, written the way anyone would with the two raw clients: fetched batches are published
 * with up to the broker's Receive Maximum in flight, offsets resolved once every PUBACK of the
 * batch is in, committed every second. Runs until SIGTERM.
 */
async function kafkaToMqtt(): Promise<void> {
  const qos = num("qos") as 0 | 1;
  const mqttTopic = str("mqttTopic");
  const client = await connect(str("url"), { clientId: `bench-k2m-${process.pid}` });
  const quota = (client as unknown as { connackPacket?: { properties?: { receiveMaximum?: number } } }).connackPacket?.properties?.receiveMaximum ?? 65535;
  const slots = new Slots(Math.min(1000, quota));
  const publish = (payload: Buffer): Promise<void> =>
    new Promise((resolve, reject) => client.publish(mqttTopic, payload, { qos }, (err) => (err ? reject(err) : resolve())));
  const consumer = kafka().consumer({ groupId: str("group"), maxBytesPerPartition: 1_048_576 });
  // fromBeginning false (latency passes): start at the end, and say `ready` only after the first fetch.
  const fromBeginning = cfg["fromBeginning"] !== false;
  let fetched: () => void = () => undefined;
  const firstFetch = new Promise<void>((r) => (fetched = r));
  consumer.on(consumer.events.FETCH, () => fetched());
  await consumer.connect();
  await consumer.subscribe({ topic: str("topic"), fromBeginning });
  await consumer.run({
    autoCommit: true,
    autoCommitInterval: 1000,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch, resolveOffset }) => {
      const done: Promise<void>[] = [];
      for (const m of batch.messages) {
        await slots.take();
        done.push(publish(m.value ?? Buffer.alloc(0)).finally(() => slots.give()));
      }
      await Promise.all(done);
      const lastMsg = batch.messages[batch.messages.length - 1];
      if (lastMsg) resolveOffset(lastMsg.offset);
    },
  });
  if (!fromBeginning) await firstFetch;
  say("ready");
  await new Promise<void>((r) => process.once("SIGTERM", () => r()));
  await consumer.disconnect();
  await client.endAsync();
  await finish({ count: 0, timeline: [], startAt: 0, endAt: 0 });
}

/**
 * The MQTT→Kafka latency reference, written the way anyone would with the two raw clients: an
 * mqtt.js subscriber whose messages a kafkajs producer sends with one request in flight, each
 * request taking what arrived meanwhile (at most `maxBatch` records, after `lingerMs` when batching
 * lingers). mqtt.js PUBACKs at once, so this is not at-least-once: it shows what the hops cost on
 * this machine, not what the connector's guarantee costs. Runs until SIGTERM.
 */
async function mqttToKafka(): Promise<void> {
  const topic = str("topic");
  const partitions = num("partitions");
  const maxBatch = num("maxBatch");
  const lingerMs = num("lingerMs", 0);
  const compression = COMPRESSION[str("compression", "none") as Compression];
  const producer = kafka().producer({ allowAutoTopicCreation: false, idempotent: false });
  await producer.connect();
  const queue: Buffer[] = [];
  let sending = false;
  let next = 0;
  let failure: unknown;
  const pump = async (): Promise<void> => {
    if (sending) return;
    sending = true;
    try {
      while (queue.length > 0) {
        if (lingerMs > 0 && queue.length < maxBatch) await sleep(lingerMs);
        const batch = queue.splice(0, maxBatch);
        await producer.send({ topic, acks: -1, compression, messages: batch.map((value) => ({ value, partition: next++ % partitions })) });
      }
    } finally {
      sending = false;
    }
  };
  const client = await connect(str("url"), { clientId: `bench-m2k-${process.pid}` });
  client.on("message", (_topic, payload) => {
    queue.push(payload);
    pump().catch((e: unknown) => (failure ??= e));
  });
  await client.subscribeAsync(str("mqttTopic"), { qos: num("qos") as 0 | 1 });
  say("ready");
  await new Promise<void>((r) => process.once("SIGTERM", () => r()));
  await client.endAsync();
  await producer.disconnect();
  if (failure) throw failure;
  await finish({ count: 0, timeline: [], startAt: 0, endAt: 0 });
}

const roles: Record<string, () => Promise<void>> = {
  "mqtt-pub": mqttPub,
  "mqtt-sub": mqttSub,
  "kafka-produce": kafkaProduce,
  "kafka-consume": kafkaConsume,
  "kafka-to-mqtt": kafkaToMqtt,
  "mqtt-to-kafka": mqttToKafka,
};

const run = roles[role ?? ""];
if (!run) {
  process.stderr.write(`unknown role ${role}; one of ${Object.keys(roles).join(", ")}\n`);
  process.exit(64);
}
run().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${role}: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
