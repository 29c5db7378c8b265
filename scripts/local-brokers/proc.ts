import { spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<ChildProcess>();
let hooksInstalled = false;

// Brokers are real OS processes; if the Node process goes away they must go
// too, or a JVM keeps 512 MB and its ports after a crashed test run.
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      // Someone else (e.g. the brokers CLI) handles this signal and will stop
      // the brokers gracefully; stay out of the way.
      if (process.listenerCount(sig) > 1) return;
      killAllSync();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

function killAllSync(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A child process whose stdout/stderr are appended to a log file. */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;

  constructor(command: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv, cwd?: string) {
    installExitHooks();
    const fd = fs.openSync(logFile, 'a');
    try {
      this.child = spawn(command, args, { stdio: ['ignore', fd, fd], env: env ?? process.env, cwd });
    } finally {
      fs.closeSync(fd);
    }
    live.add(this.child);
    this.exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo): void => {
        live.delete(this.child);
        this.exitInfo ??= info;
        resolve(this.exitInfo);
      };
      this.child.once('exit', (code, signal) => done({ code, signal }));
      // spawn failures (ENOENT) emit 'error' without 'exit'
      this.child.once('error', (err) => {
        fs.appendFileSync(logFile, `\n[harness] failed to spawn ${command}: ${err.message}\n`);
        done({ code: -1, signal: null });
      });
    });
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** SIGTERM, then SIGKILL if the process has not exited within graceMs. */
  async stop(graceMs: number): Promise<ExitInfo> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)));
    const first = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (first !== 'timeout') return first;
    return this.kill();
  }

  async kill(): Promise<ExitInfo> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Sends a signal without waiting for anything (e.g. SIGHUP to reload a config). */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }
}

/** Last `lines` lines of a (possibly large) log file, for error messages. */
export function tailFile(file: string, lines = 40): string {
  try {
    const stat = fs.statSync(file);
    const size = Math.min(stat.size, 64 * 1024);
    const buf = Buffer.alloc(size);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, buf, 0, size, stat.size - size);
    } finally {
      fs.closeSync(fd);
    }
    return buf.toString('utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `probe` until it succeeds, the process exits, or `timeoutMs` passes.
 * Errors name the broker and include the tail of its log.
 */
export async function waitReady(
  name: string,
  proc: ManagedProcess,
  logFile: string,
  timeoutMs: number,
  probe: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt';
  while (Date.now() < deadline) {
    if (!proc.running) {
      const info = await proc.exited;
      throw new Error(
        `${name} exited during startup (code ${info.code}, signal ${info.signal}); log ${logFile}:\n${tailFile(logFile)}`,
      );
    }
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(250);
  }
  await proc.kill();
  throw new Error(
    `${name} not ready after ${timeoutMs} ms (last probe error: ${lastError}); log ${logFile}:\n${tailFile(logFile)}`,
  );
}

/** Find an executable on PATH, falling back to well-known sbin dirs. */
export function findBinary(name: string, extraDirs: string[] = ['/usr/sbin', '/usr/local/sbin']): string {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = `${dir}/${name}`;
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error(`${name} not found on PATH or in ${extraDirs.join(', ')}; run scripts/ensure-deps.sh (npm test and npm run demo run it first)`);
}
