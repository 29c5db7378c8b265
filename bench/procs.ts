/** Child processes of the benchmark: workers (bench/worker.ts) and the connector CLI, plus /proc sampling. */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../scripts/local-brokers";
import { nowMs, type WorkerResult } from "./common";

const WORKER = join(__dirname, "worker.js");
/** BENCH_CONNECTOR_CLI: another build of the connector (e.g. a worktree of an older commit), for A/B runs. */
const CLI = process.env["BENCH_CONNECTOR_CLI"] ?? join(__dirname, "..", "connector", "cli.js");

export interface Worker {
  proc: ChildProcess;
  ready: Promise<void>;
  started: Promise<number>;
  result: Promise<WorkerResult>;
  /** SIGTERM (a graceful stop) by default. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<ChildProcess>();
/** Children still running when the orchestrator exits (error paths) are killed, never left behind. */
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

export function worker(role: string, config: Record<string, unknown>): Worker {
  const proc = spawn(process.execPath, [WORKER, role, JSON.stringify(config)], { stdio: ["ignore", "pipe", "inherit"] });
  live.add(proc);
  let buf = "";
  let onReady: () => void = () => undefined;
  let onStart: (t: number) => void = () => undefined;
  let onResult: (r: WorkerResult) => void = () => undefined;
  let onFail: (e: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    proc.once("exit", (code) => reject(new Error(`${role} exited (${code}) before it was ready`)));
  });
  const started = new Promise<number>((r) => (onStart = r));
  const result = new Promise<WorkerResult>((resolve, reject) => {
    onResult = resolve;
    onFail = reject;
  });
  ready.catch(() => undefined);
  result.catch(() => undefined);
  proc.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === "ready") onReady();
      else if (line.startsWith("start ")) onStart(Number(line.slice(6)));
      else if (line.startsWith("{")) onResult(JSON.parse(line) as WorkerResult);
    }
  });
  // "close", not "exit": only then has all of stdout (the result line) been read.
  const exited = new Promise<void>((r) =>
    proc.once("close", (code, signal) => {
      live.delete(proc);
      if (code !== 0 && signal !== "SIGTERM" && signal !== "SIGKILL") onFail(new Error(`worker ${role} exited with ${code ?? signal}`));
      else onFail(new Error(`worker ${role} exited without a result`));
      r();
    }),
  );
  return {
    proc,
    ready,
    started,
    result,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

let clkTck: number | undefined;
function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM). */
export function statusKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}

/** utime, stime, cutime, cstime (seconds) and the parent pid of a process. */
function procTimes(pid: number): { cpu: number; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { cpu: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / ticksPerSecond(), ppid: Number(f[1]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used by the whole machine and by this benchmark's process tree (this process, the
 * brokers, the workers, the connector; children that ended count through their parent's
 * cutime/cstime). The difference is what other processes took: the noise in a measurement.
 */
export function cpuSnapshot(): { total: number; ours: number; at: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!.split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait was busy
  const total = (line[0]! + line[1]! + line[2]! + line[5]! + line[6]! + line[7]!) / ticksPerSecond();
  const all = new Map<number, { cpu: number; ppid: number }>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const t = procTimes(Number(d));
    if (t) all.set(Number(d), t);
  }
  const mine = new Set<number>([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, t] of all) if (!mine.has(pid) && mine.has(t.ppid)) (mine.add(pid), (grew = true));
  }
  let ours = 0;
  for (const pid of mine) ours += all.get(pid)?.cpu ?? 0;
  return { total, ours, at: nowMs() };
}

/** Share of the machine (all cores, in %) that processes outside the benchmark used between two snapshots. */
export function otherCpuPercent(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>): number {
  const seconds = (b.at - a.at) / 1000;
  if (seconds <= 0) return 0;
  return Math.max(0, (100 * (b.total - a.total - (b.ours - a.ours))) / (seconds * cpus().length));
}

/** Samples a process' CPU time and RSS every `everyMs`, to be cut to a measurement window later. */
export class ProcSampler {
  readonly samples: { t: number; cpu: number; rssKb: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly pid: number, everyMs = 50) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  private sample(): void {
    try {
      this.samples.push({ t: nowMs(), cpu: cpuSeconds(this.pid), rssKb: statusKb(this.pid, "VmRSS") });
    } catch {
      // the process is gone
    }
  }
  stop(): void {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
  /** CPU seconds used between two times (interpolated) and the largest RSS sampled in between. */
  window(from: number, to: number): { cpuSeconds: number; maxRssKb: number } {
    const at = (t: number): number => {
      const s = this.samples;
      for (let i = 1; i < s.length; i++) {
        const a = s[i - 1]!;
        const b = s[i]!;
        if (b.t >= t) return b.t === a.t ? b.cpu : a.cpu + ((t - a.t) / (b.t - a.t)) * (b.cpu - a.cpu);
      }
      return s[s.length - 1]?.cpu ?? 0;
    };
    const maxRssKb = Math.max(0, ...this.samples.filter((s) => s.t >= from && s.t <= to).map((s) => s.rssKb));
    return { cpuSeconds: Math.max(0, at(to) - at(from)), maxRssKb };
  }
}

export interface ConnectorOptions {
  kafkaBootstrap: string;
  mqttPort: number;
  /** The KafkaConnectorTopicMap spec, as YAML flow text lines (indented by the caller). */
  topicMapSpec: string;
  /** BENCH_CPU_PROF: write a V8 CPU profile named after the scenario into this directory. */
  cpuProfDir?: string;
  profName?: string;
  extraArgs?: string[];
  /** Flags for node itself: the image's (bench/connector-runtime.ts), plus any for experiments. */
  nodeArgs?: string[];
  /** A memory cgroup to start the connector in (its pid is written to cgroup.procs before exec). */
  cgroupDir?: string;
  /** The connector's cli.js; default BENCH_CONNECTOR_CLI, else this build's. */
  cli?: string;
  /** KafkaConnector `instances` (default 1) and this process's index among them (`--instance`). */
  instances?: number;
  instance?: number;
}

/** The connector as operators run it: `node dist/connector/cli.js --config DIR --http-port N`. */
export class ConnectorProcess {
  private constructor(
    readonly proc: ChildProcess,
    readonly httpPort: number,
    private readonly dir: string,
    private readonly exited: Promise<number | null>,
  ) {}

  get pid(): number {
    return this.proc.pid!;
  }

  static async start(o: ConnectorOptions): Promise<ConnectorProcess> {
    const dir = mkdtempSync(join(tmpdir(), "mkc-bench-"));
    writeFileSync(
      join(dir, "connector.yaml"),
      `apiVersion: mq.iotoperations.azure.com/v1beta1
kind: KafkaConnector
metadata: {name: bench}
spec:
  image: {}
  instances: ${o.instances ?? 1}
  kafkaConnection: {endpoint: "${o.kafkaBootstrap}", tls: {tlsEnabled: false}}
  localBrokerConnection: {endpoint: "127.0.0.1:${o.mqttPort}", tls: {tlsEnabled: false}}
  logLevel: ${process.env["BENCH_LOG_LEVEL"] ?? "warn"}
---
apiVersion: mq.iotoperations.azure.com/v1beta1
kind: KafkaConnectorTopicMap
metadata: {name: bench}
spec:
  kafkaConnectorRef: bench
${o.topicMapSpec}
`,
    );
    const httpPort = await freePort();
    const prof = o.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", o.cpuProfDir, ...(o.profName ? ["--cpu-prof-name", `${o.profName}.cpuprofile`] : [])] : [];
    const argv = [process.execPath, ...(o.nodeArgs ?? []), ...prof, o.cli ?? CLI, "--config", dir, "--secrets-dir", dir, "--http-port", String(httpPort), ...(o.instance !== undefined ? ["--instance", String(o.instance)] : []), ...(o.extraArgs ?? [])];
    // The shell joins the cgroup and then execs node, so the limit applies from node's first
    // allocation (it sizes the heap at start-up) and the pid sampled from /proc is node's.
    const [cmd, ...args] = o.cgroupDir ? ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', o.cgroupDir, ...argv] : argv;
    const proc = spawn(cmd!, args, {
      stdio: ["ignore", process.env["BENCH_LOG_LEVEL"] ? "inherit" : "ignore", "inherit"],
    });
    live.add(proc);
    const exited = new Promise<number | null>((r) =>
      proc.once("exit", (code) => {
        live.delete(proc);
        r(code);
      }),
    );
    const c = new ConnectorProcess(proc, httpPort, dir, exited);
    const until = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`connector exited with ${proc.exitCode} during start-up`);
      const ok = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (Date.now() > until) {
        await c.stop();
        throw new Error("connector not ready after 60 s");
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return c;
  }

  async metrics(): Promise<string> {
    return fetch(`http://127.0.0.1:${this.httpPort}/metrics`).then((r) => r.text());
  }

  /** SIGTERM (the graceful drain); SIGKILL after 40 s. Resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.proc.exitCode === null) this.proc.kill("SIGTERM");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 40_000);
    const code = await this.exited;
    clearTimeout(t);
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}

/** Sum of the samples of a Prometheus metric whose name and labels match. */
export function metricValue(text: string, name: string, labelFilter: (labels: string) => boolean = () => true): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name || !labelFilter(m[2] ?? "")) continue;
    sum += Number(m[3]);
  }
  return sum;
}
