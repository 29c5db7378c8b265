// The connector as a child process running the real CLI, so exit codes, stdout/stderr, the HTTP
// endpoints, SIGTERM and SIGKILL are those of a real process. Used by the CLI integration tests
// and the fault suite.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../scripts/local-brokers";
import { pollUntil } from "./wait";

/** The CLI as built by `npm run build`. */
export const CONNECTOR_CLI = join(__dirname, "..", "..", "connector", "cli.js");

/** Settings the CLI reads from the environment; cleared so that only the arguments count. */
const CLI_ENV = ["LOG_LEVEL", "HTTP_PORT", "CONNECTOR_INSTANCE_INDEX", "POD_NAME", "MQTT_RECEIVE_MAXIMUM", "MQTT_SESSION_EXPIRY_SECONDS", "DRAIN_TIMEOUT_SECONDS", "SECRETS_DIR"];

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliRunOptions {
  /** Arguments after the CLI script, e.g. `["check", "--config", dir]`. */
  args: string[];
  /** Another build of the CLI (default CONNECTOR_CLI). */
  cli?: string;
  /** Name in log headers and errors (default "connector"). */
  label?: string;
  /** stdout and stderr are also appended here, between a start and an exit line. */
  logFile?: string;
  /** SIGKILL after this long no matter what (default 60 s). */
  hardLimitMs?: number;
  /** The --http-port among `args`, for waitReady(), url() and the metrics. */
  httpPort?: number;
  /** Extra environment (e.g. KUBECONFIG), over the test process's own. */
  env?: Record<string, string>;
}

export interface CliServeOptions extends Omit<CliRunOptions, "args" | "httpPort"> {
  /** Config files or directories, one --config each. */
  config: string | string[];
  secretsDir?: string;
  /** --http-port; default a free port, 0 disables the HTTP server. */
  httpPort?: number;
  instance?: number;
  drainTimeoutS?: number;
  receiveMaximum?: number;
  sessionExpiryS?: number;
  logLevel?: string;
  extraArgs?: string[];
}

/** Every connector process started here that has not exited yet. */
const live = new Set<ConnectorProcess>();
process.on("exit", () => {
  for (const p of live) {
    try {
      p.child.kill("SIGKILL");
    } catch {
      // gone
    }
  }
});

/** SIGKILL every connector process still running, and wait for them (root hooks, after failures). */
export async function killAllConnectors(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()));
}

/**
 * Mocha hooks for tests that start connector processes: after each test, every one still running
 * gets SIGTERM (SIGKILL if it does not exit) and, when the test failed, its output is printed.
 */
export function processFixture(): void {
  afterEach(async function () {
    for (const p of [...live]) {
      if (this.currentTest?.state === "failed") process.stderr.write(`--- ${p.opts.label ?? "connector"} output ---\n${p.logTail(60)}\n`);
      await p.terminate(20_000);
    }
  });
}

export class ConnectorProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  /** The parsed "connector stopped" line (per-route stats), once logged. */
  stoppedLine: Record<string, unknown> | undefined;
  /** error/fatal log lines and stderr, kept for reports (first 200). */
  readonly errorLines: string[] = [];
  private out = "";
  private err = "";
  private all = "";
  private readonly file: WriteStream | undefined;
  private pending = "";
  private exitInfo: ExitInfo | undefined;

  private constructor(readonly opts: CliRunOptions) {
    const args = [opts.cli ?? CONNECTOR_CLI, ...opts.args];
    const label = opts.label ?? "connector";
    const env = { ...process.env };
    for (const k of CLI_ENV) delete env[k];
    Object.assign(env, opts.env);
    this.file = opts.logFile ? createWriteStream(opts.logFile, { flags: "a" }) : undefined;
    this.file?.write(`\n### ${new Date().toISOString()} ${label}: node ${args.join(" ")}\n`);
    this.child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env });
    live.add(this);
    const take = (d: Buffer): string => {
      this.file?.write(d);
      const s = d.toString("utf8");
      this.all += s;
      return s;
    };
    this.child.stdout!.on("data", (d: Buffer) => {
      const s = take(d);
      this.out += s;
      this.scan(s);
    });
    this.child.stderr!.on("data", (d: Buffer) => {
      const s = take(d);
      this.err += s;
      if (s.trim() && this.errorLines.length < 200) this.errorLines.push(`stderr: ${s.trim()}`);
    });
    const hardTimer = setTimeout(() => this.child.kill("SIGKILL"), opts.hardLimitMs ?? 60_000);
    hardTimer.unref();
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.once("exit", (code, signal) => {
        live.delete(this);
        clearTimeout(hardTimer);
        if (this.pending) this.scan("\n");
        this.exitInfo = { code, signal };
        this.file?.end(`### ${new Date().toISOString()} ${label}: exit code ${code} signal ${signal}\n`);
        resolve(this.exitInfo);
      });
    });
  }

  /** Starts the CLI with exactly these arguments. */
  static run(opts: CliRunOptions): ConnectorProcess {
    return new ConnectorProcess(opts);
  }

  /** Starts the connector on a config, with its HTTP endpoints on a free port unless told otherwise. */
  static async serve(o: CliServeOptions): Promise<ConnectorProcess> {
    const httpPort = o.httpPort ?? (await freePort());
    const opt = (flag: string, v: string | number | undefined) => (v === undefined ? [] : [flag, String(v)]);
    const args = [
      ...(Array.isArray(o.config) ? o.config : [o.config]).flatMap((c) => ["--config", c]),
      ...opt("--secrets-dir", o.secretsDir),
      "--http-port", String(httpPort),
      ...opt("--instance", o.instance),
      ...opt("--drain-timeout", o.drainTimeoutS),
      ...opt("--receive-maximum", o.receiveMaximum),
      ...opt("--session-expiry", o.sessionExpiryS),
      ...opt("--log-level", o.logLevel),
      ...(o.extraArgs ?? []),
    ];
    return new ConnectorProcess({ ...o, args, httpPort });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  stdout(): string {
    return this.out;
  }

  stderr(): string {
    return this.err;
  }

  /** stdout and stderr as they arrived. */
  output(): string {
    return this.all;
  }

  /** URL of one of the HTTP endpoints, e.g. url("/readyz"). */
  url(path: string): string {
    if (!this.opts.httpPort) throw new Error(`${this.opts.label ?? "connector"} has no HTTP port`);
    return `http://127.0.0.1:${this.opts.httpPort}${path}`;
  }

  get httpPort(): number | undefined {
    return this.opts.httpPort;
  }

  /** Whether /readyz answers 200 now. */
  async isReady(): Promise<boolean> {
    const res = await fetch(this.url("/readyz"), { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    return res?.status === 200;
  }

  private scan(text: string): void {
    this.pending += text;
    let nl: number;
    while ((nl = this.pending.indexOf("\n")) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      if (!line.startsWith("{")) continue;
      if (line.includes('"connector stopped"')) {
        try {
          this.stoppedLine = JSON.parse(line) as Record<string, unknown>;
        } catch {
          // keep going
        }
      } else if ((line.includes('"level":"error"') || line.includes('"level":"fatal"')) && this.errorLines.length < 200) {
        this.errorLines.push(line);
      }
    }
  }

  /** Polls /readyz until 200; throws (with the output's tail) if the process exits or the time runs out. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const ok = await pollUntil(async () => !this.running || (await this.isReady()), timeoutMs, 200);
    const label = this.opts.label ?? "connector";
    if (!this.running) throw new Error(`${label} exited before it was ready (${JSON.stringify(this.exitInfo)}):\n${this.logTail()}`);
    if (!ok) throw new Error(`${label} not ready within ${timeoutMs} ms:\n${this.logTail()}`);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<ExitInfo> {
    this.signal("SIGKILL");
    return this.exited;
  }

  /** SIGTERM and wait (bounded: SIGKILL after `limitMs`). */
  async terminate(limitMs = 60_000): Promise<ExitInfo> {
    this.signal("SIGTERM");
    const t = setTimeout(() => this.signal("SIGKILL"), limitMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(t);
    }
  }

  /** Resident set size in MB from /proc/<pid>/status (VmRSS), or undefined once gone. */
  rssMb(): number | undefined {
    if (!this.running) return undefined;
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${this.pid}/status`, "utf8"));
      return m ? Number(m[1]) / 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * From the connector's /metrics: heap used and external (Buffer) memory in
   * MB (prom-client default metrics), messages in flight and bytes waiting for
   * Kafka (summed over routes) — to tell live data from garbage not yet
   * collected when RSS is high. Undefined when /metrics does not answer.
   */
  async memoryMetrics(): Promise<{ heapUsedMb: number; externalMb: number; inFlight: number; bufferedMb: number } | undefined> {
    const res = await fetch(this.url("/metrics"), { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    if (res?.status !== 200) return undefined;
    const text = await res.text();
    const sum = (name: string): number | undefined => {
      let total: number | undefined;
      for (const m of text.matchAll(new RegExp(`^\\w*?${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, "gm"))) total = (total ?? 0) + Number(m[1]);
      return total;
    };
    const heap = sum("nodejs_heap_size_used_bytes");
    const external = sum("nodejs_external_memory_bytes");
    if (heap === undefined || external === undefined) return undefined;
    const mb = (n: number) => n / 1024 / 1024;
    return { heapUsedMb: mb(heap), externalMb: mb(external), inFlight: sum("messages_in_flight") ?? NaN, bufferedMb: mb(sum("buffered_bytes") ?? NaN) };
  }

  /** The last lines of the log file, or of the output when there is none. */
  logTail(lines = 30): string {
    let text = this.all;
    if (this.opts.logFile) {
      try {
        text = readFileSync(this.opts.logFile, "utf8");
      } catch {
        return "(no log)";
      }
    }
    return text.split("\n").slice(-lines).join("\n");
  }

  /** Compact per-route stats from the "connector stopped" line. */
  statsSummary(): string {
    const s = this.stoppedLine;
    if (!s) return "no 'connector stopped' line";
    const part = (o: unknown): string =>
      Object.entries((o ?? {}) as Record<string, Record<string, unknown>>)
        .map(([route, st]) => `${route} ${Object.entries(st).filter(([, v]) => typeof v === "number").map(([k, v]) => `${k}=${String(v)}`).join(" ")}`)
        .join("; ");
    return `drained=${String(s["drained"])} ${part(s["mqttToKafka"])} ${part(s["kafkaToMqtt"])}`.trim();
  }
}
