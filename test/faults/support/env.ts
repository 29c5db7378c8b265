// Shared settings of the fault suite: where the connector CLI is, where logs
// go, timestamped progress lines on stdout, and cleanup scopes.
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CONNECTOR_CLI as BUILT_CLI } from "../../helpers/connector-process";
import { pollUntil } from "../../helpers/wait";

/**
 * The real CLI as built by `npm run build`. FAULTS_CONNECTOR_CLI points the
 * suite at another build of it (e.g. a snapshot of a given commit).
 */
export const CONNECTOR_CLI = process.env.FAULTS_CONNECTOR_CLI ? resolve(process.env.FAULTS_CONNECTOR_CLI) : BUILT_CLI;

let runDir: string | undefined;

/**
 * One directory per suite run for connector logs and configs; kept after the
 * run so a failure can be read (FAULTS_RUN_DIR to choose it).
 */
export function suiteRunDir(): string {
  if (!runDir) {
    if (process.env.FAULTS_RUN_DIR) {
      runDir = resolve(process.env.FAULTS_RUN_DIR);
      mkdirSync(runDir, { recursive: true });
    } else {
      runDir = mkdtempSync(join(tmpdir(), "mkc-faults-"));
    }
    progress(`logs and configs in ${runDir}`);
  }
  return runDir;
}

export function scenarioDir(name: string): string {
  const dir = join(suiteRunDir(), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const t0 = Date.now();

/** A progress line: seconds since the suite started, then the message. */
export function progress(msg: string): void {
  process.stdout.write(`      [faults +${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);
}

/**
 * Seconds until `value()` grows past what it is now (polled every 100 ms), or
 * undefined if it did not within `timeoutMs`: how long a direction took to
 * resume after a fault.
 */
export async function secondsUntilGrowth(value: () => number, timeoutMs: number): Promise<number | undefined> {
  const start = Date.now();
  const base = value();
  return (await pollUntil(() => value() > base, timeoutMs, 100)) ? (Date.now() - start) / 1000 : undefined;
}

/** Prints `line()` every `everyMs` until the returned stop function is called. */
export function ticker(everyMs: number, line: () => string): () => void {
  const t = setInterval(() => {
    try {
      progress(line());
    } catch (e) {
      progress(`(progress line failed: ${(e as Error).message})`);
    }
  }, everyMs);
  t.unref();
  return () => clearInterval(t);
}

/** Cleanup actions run in reverse order; errors are reported, not thrown. */
export class Scope {
  private readonly actions: (() => unknown)[] = [];
  add(action: () => unknown): void {
    this.actions.push(action);
  }
  async dispose(): Promise<void> {
    while (this.actions.length) {
      const a = this.actions.pop()!;
      try {
        await a();
      } catch (e) {
        progress(`cleanup step failed: ${(e as Error).message}`);
      }
    }
  }
}
