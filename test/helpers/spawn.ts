import { spawn, ChildProcess } from 'node:child_process';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs: number;
  input?: Buffer | string;
  /** Called with each complete stdout line (without the newline). */
  onLine?: (line: Buffer) => void;
}

export interface Running {
  child: ChildProcess;
  done: Promise<RunResult>;
}

/**
 * Spawn a CLI tool with a hard time bound: SIGTERM at timeoutMs, SIGKILL 2 s
 * later. Never rejects for a non-zero exit; callers decide what that means.
 */
export function runBounded(command: string, args: string[], opts: RunOptions): Running {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let pending = Buffer.alloc(0);
  let timedOut = false;
  child.stdout.on('data', (chunk: Buffer) => {
    out.push(chunk);
    if (!opts.onLine) return;
    pending = Buffer.concat([pending, chunk]);
    for (let nl = pending.indexOf(10); nl >= 0; nl = pending.indexOf(10)) {
      opts.onLine(pending.subarray(0, nl));
      pending = pending.subarray(nl + 1);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  child.stdin.on('error', () => undefined); // tool may exit before reading stdin
  child.stdin.end(opts.input ?? '');

  let killTimer: NodeJS.Timeout | undefined;
  const termTimer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  }, opts.timeoutMs);

  const done = new Promise<RunResult>((resolve, reject) => {
    child.once('error', (e) => {
      clearTimeout(termTimer);
      reject(new Error(`${command}: ${e.message}${(e as NodeJS.ErrnoException).code === 'ENOENT' ? ' (run scripts/ensure-deps.sh, which npm test runs first)' : ''}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(termTimer);
      clearTimeout(killTimer);
      if (opts.onLine && pending.length > 0) opts.onLine(pending);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), timedOut });
    });
  });
  return { child, done };
}

/** Bytes as they came, via latin1: JSON.parse on it keeps every byte 0-255. */
export const latin1ToBuffer = (s: string): Buffer => Buffer.from(s, 'latin1');
export const latin1ToUtf8 = (s: string): string => Buffer.from(s, 'latin1').toString('utf8');
