/**
 * The peer bridge of `npm run bench -- --peer` (issue 19): Bento v1.20.0, the MIT-licensed fork of
 * Benthos, run on the same brokers, topics, payloads and QoS as the connector.
 *
 *   MQTT→Kafka: Bento's `mqtt` input → `kafka_franz` output (idempotent, so acks=all), once with a
 *               batch policy set like the connector's `batching` and once without one;
 *   Kafka→MQTT: `kafka_franz` input (a consumer group, from the oldest offset) → `mqtt` output.
 *
 * The binary is built by scripts/bento/build.sh into ~/.cache/mqtt-kafka-connector/bento-v1.20.0;
 * the bench builds it only when `--peer` is given, and uses a cached one when it is there.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../scripts/local-brokers";
import type { Batching } from "./scenarios";

export const BENTO_VERSION = "v1.20.0";

/** What the report says about the peer's guarantees, next to its figures. */
export const BENTO_GUARANTEES =
  "Bento's guarantees are weaker than the connector's: its MQTT client (Eclipse Paho for Go) speaks MQTT 3.1.1 only, " +
  "and its mqtt input acknowledges each QoS 1 message (PUBACK) on receipt, before Kafka has it, so a crash or a Kafka outage loses what it held; " +
  "the connector sends PUBACK only after Kafka acknowledged the record (acks=all). Its kafka_franz output writes idempotently, with acks=all. " +
  "So Kafka's pace never holds Bento's MQTT input back, while the connector has at most Receive Maximum messages per client waiting for Kafka's acknowledgement.";

const cacheRoot = (): string => join(process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache"), "mqtt-kafka-connector");

/** The cached binary, if a build finished (its .built marker is there). */
export function cachedBento(): string | undefined {
  const dir = process.env["BENTO_CACHE_DIR"] ?? join(cacheRoot(), `bento-${BENTO_VERSION}`);
  const bin = join(dir, "bin", "bento");
  return existsSync(join(dir, ".built")) && existsSync(bin) ? bin : undefined;
}

/**
 * The Bento binary for this run: the cached one, or with `build` (the `--peer` flag) the one
 * scripts/bento/build.sh builds now (several minutes the first time). Undefined: no peer runs.
 */
export function bentoBinary(build: boolean, repoRoot: string): string | undefined {
  const cached = cachedBento();
  if (cached || !build) return cached;
  const r = spawnSync("bash", [resolve(repoRoot, "scripts", "bento", "build.sh")], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`scripts/bento/build.sh failed (${r.status ?? r.signal})`);
  const bin = cachedBento();
  if (!bin) throw new Error("scripts/bento/build.sh finished but no cached Bento binary was found");
  return bin;
}

/** `bento --version`, first line. */
export function bentoVersion(bin: string): string {
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  return (r.stdout || r.stderr || "").split("\n").find((l) => l.trim())?.trim() ?? "unknown";
}

export interface BentoM2K {
  mqttUrl: string;
  mqttTopic: string;
  qos: 0 | 1;
  bootstrap: string;
  kafkaTopic: string;
  compression: string;
  /** Bento's batch policy, set from the connector's `batching`; undefined: no batch policy. */
  batching?: Batching;
  clientId: string;
  /** A persistent session (clean_session: false), for the backlog drain. */
  persistent?: boolean;
}

export interface BentoK2M {
  bootstrap: string;
  kafkaTopic: string;
  group: string;
  mqttUrl: string;
  mqttTopic: string;
  qos: 0 | 1;
  clientId: string;
}

const q = (s: string) => JSON.stringify(s);

/** Bento's own batch policy from the connector's batching: count, byte size and period alike. */
export function bentoBatchPolicy(b: Batching): string {
  return `{count: ${b.maxMessages}, byte_size: ${b.maxBytes}, period: ${q(`${b.latencyMs}ms`)}}`;
}

/** Bento's HTTP server (for /ready) on loopback, no metrics, warnings only, a short shutdown. */
function common(httpPort: number): string[] {
  return [`http: {enabled: true, address: ${q(`127.0.0.1:${httpPort}`)}}`, "logger: {level: WARN, format: logfmt}", "metrics: {none: {}}", "shutdown_timeout: 5s"];
}

export function m2kConfig(o: BentoM2K, httpPort: number): string {
  return [
    ...common(httpPort),
    "input:",
    "  mqtt:",
    `    urls: [${q(o.mqttUrl)}]`,
    `    client_id: ${q(o.clientId)}`,
    `    topics: [${q(o.mqttTopic)}]`,
    `    qos: ${o.qos}`,
    `    clean_session: ${o.persistent ? "false" : "true"}`,
    "output:",
    "  kafka_franz:",
    `    seed_brokers: [${q(o.bootstrap)}]`,
    `    topic: ${q(o.kafkaTopic)}`,
    "    idempotent_write: true",
    `    compression: ${o.compression}`,
    ...(o.batching ? [`    batching: ${bentoBatchPolicy(o.batching)}`] : []),
    "",
  ].join("\n");
}

export function k2mConfig(o: BentoK2M, httpPort: number): string {
  return [
    ...common(httpPort),
    "input:",
    "  kafka_franz:",
    `    seed_brokers: [${q(o.bootstrap)}]`,
    `    topics: [${q(o.kafkaTopic)}]`,
    `    consumer_group: ${q(o.group)}`,
    "    start_from_oldest: true",
    "output:",
    "  mqtt:",
    `    urls: [${q(o.mqttUrl)}]`,
    `    client_id: ${q(o.clientId)}`,
    `    topic: ${q(o.mqttTopic)}`,
    `    qos: ${o.qos}`,
    "",
  ].join("\n");
}

const live = new Set<ChildProcess>();
/** A Bento still running when the orchestrator exits (error paths) is killed, like the workers. */
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

/** mqtt.js URLs (mqtt://host:port) as Paho wants them (tcp://host:port). */
export const pahoUrl = (url: string): string => url.replace(/^mqtt:/, "tcp:");

/** One Bento process with a config file of its own; ready when its /ready answers 200. */
export class BentoProcess {
  private constructor(
    readonly proc: ChildProcess,
    private readonly dir: string,
    private readonly exited: Promise<number | null>,
  ) {}

  get pid(): number {
    return this.proc.pid!;
  }

  static async start(bin: string, config: (httpPort: number) => string): Promise<BentoProcess> {
    const dir = mkdtempSync(join(tmpdir(), "mkc-bento-"));
    const httpPort = await freePort();
    const file = join(dir, "bento.yaml");
    writeFileSync(file, config(httpPort));
    const proc = spawn(bin, ["-c", file], { stdio: ["ignore", process.env["BENCH_LOG_LEVEL"] ? "inherit" : "ignore", "inherit"] });
    live.add(proc);
    const exited = new Promise<number | null>((r) =>
      proc.once("exit", (code) => {
        live.delete(proc);
        r(code);
      }),
    );
    const b = new BentoProcess(proc, dir, exited);
    const until = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`bento exited with ${proc.exitCode} during start-up (config ${file})`);
      const ok = await fetch(`http://127.0.0.1:${httpPort}/ready`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (Date.now() > until) {
        await b.stop();
        throw new Error("bento not ready after 60 s");
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return b;
  }

  /** SIGTERM; SIGKILL after 15 s. Resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGTERM");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 15_000);
    const code = await this.exited;
    clearTimeout(t);
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}

