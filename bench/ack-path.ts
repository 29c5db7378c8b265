/**
 * `npm run bench:ack`: why the PUBACK path is built the way it is, measured in one run on the same brokers.
 *   1. immediate   raw mqtt.js subscriber, PUBACK at once (not lossless: the ceiling)
 *   2. naive       PUBACK after a Kafka send of each message (lossless, one Kafka round trip per message)
 *   3. connector   this connector, QoS 1 mqttToKafka: PUBACK after the Kafka ack, in order, many in flight
 * Options: --count N (default 50000), --size BYTES (default 100), --naive-ms MS (default 5000).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { startLocalBrokers } from "../scripts/local-brokers";
import { ConnectorProcess } from "./procs";
import { fmt } from "./common";

const { values } = parseArgs({ options: { count: { type: "string" }, size: { type: "string" }, "naive-ms": { type: "string" } } });
const COUNT = Number(values.count ?? 50_000);
const SIZE = Number(values.size ?? 100);
const NAIVE_MS = Number(values["naive-ms"] ?? 5000);
const WORKER = join(__dirname, "ack-path-worker.js");

interface Result {
  count: number;
  startAt: number;
  endAt: number;
}

function child(args: string[], env: NodeJS.ProcessEnv = {}): { proc: ChildProcess; ready: Promise<void>; started: Promise<number>; result: Promise<Result> } {
  const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } });
  let buf = "";
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  let onStart: (t: number) => void = () => undefined;
  const started = new Promise<number>((r) => (onStart = r));
  const result = new Promise<Result>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      if (buf.includes("ready\n")) onReady();
      const m = /^start (\d+)$/m.exec(buf);
      if (m) onStart(Number(m[1]));
      const line = buf.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve(JSON.parse(line) as Result);
    });
    proc.on("exit", (code) => (code ? reject(new Error(`${args.join(" ")} exited ${code}`)) : undefined));
  });
  return { proc, ready, started, result };
}

const seconds = (r: Result) => Math.max(1, r.endAt - r.startAt) / 1000;
const rate = (r: Result) => r.count / seconds(r);

type Admin = ReturnType<Kafka["admin"]>;
async function endOffsetSum(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
}

async function main(): Promise<void> {
  process.stdout.write(`ack-path benchmark: ${fmt(COUNT)} QoS 1 messages of ${SIZE} B per scenario\nstarting brokers...\n`);
  const brokers = await startLocalBrokers();
  const url = brokers.mqtt.url;
  const kafka = new Kafka({ brokers: [brokers.kafka.bootstrap], logLevel: logLevel.NOTHING });
  const results: [string, Result][] = [];
  try {
    await brokers.kafka.createTopic("bench-naive", 3);
    await brokers.kafka.createTopic("bench-connector", 3);

    process.stdout.write("1/3 immediate PUBACK (raw mqtt.js)...\n");
    const imm = child([WORKER, "immediate", url, "bench/imm", String(COUNT)]);
    await imm.ready;
    const immPub = child([WORKER, "publish", url, "bench/imm", String(COUNT), String(SIZE)]);
    const immResult = await imm.result;
    results.push(["immediate PUBACK (raw mqtt.js, not lossless)", { ...immResult, startAt: await immPub.started }]);
    await immPub.result;

    process.stdout.write(`2/3 naive: PUBACK after a Kafka send per message (bounded to ${NAIVE_MS} ms)...\n`);
    const naive = child([WORKER, "naive", url, "bench/naive", String(COUNT), brokers.kafka.bootstrap, "bench-naive"], { BENCH_MAX_MS: String(NAIVE_MS) });
    await naive.ready;
    const naivePub = child([WORKER, "publish", url, "bench/naive", String(Math.min(COUNT, 20_000)), String(SIZE)]);
    results.push(["naive deferred PUBACK (lossless)", { ...(await naive.result), startAt: await naivePub.started }]);
    naivePub.proc.kill();

    process.stdout.write("3/3 connector, QoS 1 mqttToKafka (PUBACK after Kafka ack, in order)...\n");
    const prof = process.env["BENCH_CPU_PROF"];
    const conn = await ConnectorProcess.start({
      kafkaBootstrap: brokers.kafka.bootstrap,
      mqttPort: Number(new URL(url).port),
      topicMapSpec: `  routes:\n    - mqttToKafka: {name: bench, mqttTopic: "bench/conn", kafkaTopic: bench-connector, qos: 1, kafkaAcks: all}`,
      // BENCH_CPU_PROF=DIR writes a V8 CPU profile of the connector process there.
      ...(prof ? { cpuProfDir: prof, profName: "ack-path" } : {}),
    });
    const admin = kafka.admin();
    await admin.connect();
    const pub = child([WORKER, "publish", url, "bench/conn", String(COUNT), String(SIZE)]);
    const startAt = await pub.started;
    let done = 0;
    while (done < COUNT && Date.now() - startAt < 120_000) {
      await new Promise((r) => setTimeout(r, 20));
      done = await endOffsetSum(admin, "bench-connector");
    }
    results.push(["connector at-least-once (PUBACK after Kafka ack)", { count: done, startAt, endAt: Date.now() }]);
    await admin.disconnect();
    await pub.result;
    await conn.stop();
  } finally {
    await brokers.stop();
  }

  const base = rate(results[0]![1]);
  process.stdout.write("\n| scenario | messages | seconds | msg/s | vs immediate |\n|---|---:|---:|---:|---:|\n");
  for (const [name, r] of results) {
    process.stdout.write(`| ${name} | ${fmt(r.count)} | ${seconds(r).toFixed(2)} | ${fmt(rate(r))} | ${(rate(r) / base).toFixed(3)} |\n`);
  }
  process.stdout.write("\nThe connector figure includes Kafka's acks=all round trips; on 2 shared cores the brokers, the load generator and the connector compete.\n");
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
