// The connector as a child process running the real CLI, so SIGKILL and
// SIGTERM are real signals to a real process.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../../scripts/local-brokers";
import { CONNECTOR_CLI, pollUntil, progress } from "./env";

export interface ConnectorProcessOptions {
  /** Directory with the YAML config. */
  configDir: string;
  /** Where this process's stdout/stderr go. */
  logFile: string;
  /** Instance index: a replacement with the same index resumes the same MQTT sessions. */
  instance: number;
  drainTimeoutS?: number;
  receiveMaximum?: number;
  sessionExpiryS?: number;
  extraArgs?: string[];
  /** Name in progress lines. */
  label: string;
  /** SIGKILL after this long no matter what (default 10 min). */
  hardLimitMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Every connector process this suite started and that has not exited yet. */
const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of live) {
    try {
      c.kill("SIGKILL");
    } catch {
      // gone
    }
  }
});

/** SIGKILL every connector process still running (root hook, after failures). */
export async function killAllConnectors(): Promise<void> {
  const waits = [...live].map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r()))));
  for (const c of live) c.kill("SIGKILL");
  await Promise.all(waits);
}

/** Write a connector YAML as `<dir>/config/config.yaml` and return the config dir. */
export function writeConfig(dir: string, yaml: string): string {
  const configDir = join(dir, "config");
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, "config.yaml"), yaml);
  mkdirSync(join(dir, "secrets"), { recursive: true });
  return configDir;
}

export class ConnectorProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  /** The parsed "connector stopped" line (per-route stats), once logged. */
  stoppedLine: Record<string, unknown> | undefined;
  /** error/fatal log lines, kept for the report (first 200). */
  readonly errorLines: string[] = [];
  private readonly out: WriteStream;
  private pending = "";
  private exitInfo: ExitInfo | undefined;
  private readonly hardTimer: NodeJS.Timeout;

  private constructor(
    readonly opts: ConnectorProcessOptions,
    readonly httpPort: number,
  ) {
    const args = [
      CONNECTOR_CLI,
      "--config", opts.configDir,
      "--secrets-dir", join(opts.configDir, "..", "secrets"),
      "--http-port", String(httpPort),
      "--instance", String(opts.instance),
      "--drain-timeout", String(opts.drainTimeoutS ?? 30),
      ...(opts.receiveMaximum !== undefined ? ["--receive-maximum", String(opts.receiveMaximum)] : []),
      ...(opts.sessionExpiryS !== undefined ? ["--session-expiry", String(opts.sessionExpiryS)] : []),
      ...(opts.extraArgs ?? []),
    ];
    const env = { ...process.env };
    for (const k of ["LOG_LEVEL", "HTTP_PORT", "CONNECTOR_INSTANCE_INDEX", "POD_NAME", "MQTT_RECEIVE_MAXIMUM", "MQTT_SESSION_EXPIRY_SECONDS", "DRAIN_TIMEOUT_SECONDS", "SECRETS_DIR"]) delete env[k];
    this.out = createWriteStream(opts.logFile, { flags: "a" });
    this.out.write(`\n### ${new Date().toISOString()} ${opts.label}: node ${args.join(" ")}\n`);
    this.child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env });
    live.add(this.child);
    this.child.stdout!.on("data", (d: Buffer) => {
      this.out.write(d);
      this.scan(d.toString("utf8"));
    });
    this.child.stderr!.on("data", (d: Buffer) => {
      this.out.write(d);
      const s = d.toString("utf8").trim();
      if (s && this.errorLines.length < 200) this.errorLines.push(`stderr: ${s}`);
    });
    this.hardTimer = setTimeout(() => this.child.kill("SIGKILL"), opts.hardLimitMs ?? 600_000);
    this.hardTimer.unref();
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.once("exit", (code, signal) => {
        live.delete(this.child);
        clearTimeout(this.hardTimer);
        if (this.pending) this.scan("\n");
        this.exitInfo = { code, signal };
        this.out.end(`### ${new Date().toISOString()} ${opts.label}: exit code ${code} signal ${signal}\n`);
        resolve(this.exitInfo);
      });
    });
  }

  static async start(opts: ConnectorProcessOptions): Promise<ConnectorProcess> {
    return new ConnectorProcess(opts, await freePort());
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
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

  /** Polls /readyz until 200; throws (with the log tail) if the process exits or the time runs out. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const ok = await pollUntil(async () => {
      if (!this.running) return true;
      const res = await fetch(`http://127.0.0.1:${this.httpPort}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
      return res?.status === 200;
    }, timeoutMs, 200);
    if (!this.running) throw new Error(`${this.opts.label} exited before it was ready (${JSON.stringify(this.exitInfo)}):\n${this.logTail()}`);
    if (!ok) throw new Error(`${this.opts.label} not ready within ${timeoutMs} ms:\n${this.logTail()}`);
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
    const res = await fetch(`http://127.0.0.1:${this.httpPort}/metrics`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
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

  logTail(lines = 30): string {
    try {
      return readFileSync(this.opts.logFile, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
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

/** Log a line about a process event with its pid. */
export function note(p: ConnectorProcess, what: string): void {
  progress(`${p.opts.label} (pid ${p.pid}): ${what}`);
}
