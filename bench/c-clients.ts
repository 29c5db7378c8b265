/**
 * C-client reference rates for `npm run bench -- --peer` (issue 19): the physical reference on
 * these brokers and cores, reported without a target.
 *
 *   mosquitto_pub -l (QoS 1, MQTT 5) → Mosquitto → mosquitto_sub (QoS 1, MQTT 5)
 *   kcat -P (acks=all, librdkafka defaults) → Kafka → kcat -C (no group, all partitions)
 *
 * Each pass writes `count` lines of `size` bytes into a file, starts the reader, waits a second for
 * it to subscribe, then starts the writer and pipes the file into it; the rate is `count` over the time from the writer's start
 * to the reader's last message. The reader prints one short line per message (its length), which
 * the orchestrator counts. Every pass ends by itself: the reader exits after `count` messages, and
 * both processes are killed after at most 120 s.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nowMs } from "./common";
import type { ReferenceResult } from "./report";

export interface ReferenceOptions {
  mqttPort: number;
  bootstrap: string;
  newTopic: (prefix: string) => Promise<string>;
  sizes: number[];
  quick: boolean;
  log: (line: string) => void;
}

const LIMIT_MS = 120_000;

function installed(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** `count` lines of `size` printable bytes (the delimiter not counted). */
function payloadFile(dir: string, size: number, count: number): string {
  const file = join(dir, `payload-${size}.txt`);
  const line = Buffer.alloc(size + 1, "x");
  line[size] = 0x0a;
  const chunk = Buffer.concat(Array.from({ length: 1000 }, () => line));
  const fd = openSync(file, "w");
  try {
    for (let left = count; left > 0; left -= 1000) writeFileSync(fd, left >= 1000 ? chunk : chunk.subarray(0, left * (size + 1)));
  } finally {
    closeSync(fd);
  }
  return file;
}

/** Runs reader then writer; resolves with the messages the reader printed and the time of the last. */
async function pass(reader: [string, string[]], writer: [string, string[]], input: string, holdStdin: boolean): Promise<{ got: number; ms: number }> {
  const r = spawn(reader[0], reader[1], { stdio: ["ignore", "pipe", "ignore"] });
  let got = 0;
  let lastAt = 0;
  r.stdout!.on("data", (d: Buffer) => {
    for (let i = d.indexOf(0x0a); i >= 0; i = d.indexOf(0x0a, i + 1)) got++;
    lastAt = nowMs();
  });
  const readerDone = new Promise<void>((res) => r.once("close", () => res()));
  await new Promise((res) => setTimeout(res, 1000));
  const start = nowMs();
  const w = spawn(writer[0], writer[1], { stdio: ["pipe", "ignore", "ignore"] });
  // holdStdin: stdin stays open until the reader has everything, since mosquitto_pub 2.0.11 -l
  // exits at the end of its input and drops what it still had queued behind the broker's Receive
  // Maximum. kcat instead holds back its last partial read until the end of its input.
  w.stdin!.on("error", () => undefined);
  createReadStream(input).pipe(w.stdin!, { end: !holdStdin });
  const writerDone = new Promise<void>((res) => w.once("close", () => res()));
  const kill = setTimeout(() => {
    r.kill("SIGKILL");
    w.kill("SIGKILL");
  }, LIMIT_MS);
  await readerDone;
  if (holdStdin) w.stdin!.end();
  await Promise.race([writerDone, new Promise((res) => setTimeout(res, 5000))]);
  if (w.exitCode === null && w.signalCode === null) w.kill("SIGTERM");
  await writerDone;
  clearTimeout(kill);
  return { got, ms: lastAt > start ? lastAt - start : 0 };
}

export async function cClientReferences(o: ReferenceOptions): Promise<ReferenceResult[]> {
  const out: ReferenceResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), "mkc-cref-"));
  try {
    for (const size of o.sizes) {
      const count = Math.round((size <= 100 ? 150_000 : 80_000) * (o.quick ? 0.4 : 1));
      const file = payloadFile(dir, size, count);
      if (installed("mosquitto_pub") && installed("mosquitto_sub")) {
        const topic = `bench/cref/${size}/${Date.now()}`;
        const host = ["-h", "127.0.0.1", "-p", String(o.mqttPort), "-V", "5", "-q", "1", "-t", topic];
        const r = await pass(["mosquitto_sub", [...host, "-C", String(count), "-F", "%l"]], ["mosquitto_pub", [...host, "-l"]], file, true);
        const rate = r.ms > 0 ? (1000 * r.got) / r.ms : 0;
        out.push({ label: "mosquitto_pub → Mosquitto → mosquitto_sub, QoS 1, MQTT 5", size, count, rate, mbps: (rate * size) / 1e6, ...(r.got < count ? { note: `${r.got} of ${count} arrived` } : {}) });
        o.log(`C reference mosquitto_pub → mosquitto_sub, ${size} B: ${Math.round(rate).toLocaleString("en-US")} msg/s (${r.got}/${count})`);
      }
      if (installed("kcat")) {
        const topic = await o.newTopic(`cref-${size}`);
        const reader: [string, string[]] = ["kcat", ["-C", "-q", "-b", o.bootstrap, "-t", topic, "-o", "beginning", "-c", String(count), "-f", "%S\\n"]];
        const writer: [string, string[]] = ["kcat", ["-P", "-q", "-b", o.bootstrap, "-t", topic, "-X", "acks=all"]];
        const r = await pass(reader, writer, file, false);
        const rate = r.ms > 0 ? (1000 * r.got) / r.ms : 0;
        out.push({ label: "kcat -P (acks=all) → Kafka → kcat -C", size, count, rate, mbps: (rate * size) / 1e6, ...(r.got < count ? { note: `${r.got} of ${count} arrived` } : {}) });
        o.log(`C reference kcat → kcat, ${size} B: ${Math.round(rate).toLocaleString("en-US")} msg/s (${r.got}/${count})`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
