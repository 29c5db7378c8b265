/**
 * Shared by the bench orchestrator (bench/run.ts) and its child processes (bench/worker.ts).
 *
 * Clock: every process stamps and measures with CLOCK_MONOTONIC (`process.hrtime`), which Linux
 * shares between processes, so a timestamp written by one child is comparable with the time
 * another child reads it, at sub-millisecond resolution and immune to wall-clock steps.
 */

/** Milliseconds on the machine-wide monotonic clock, with a fractional part. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Payload layout: [0..8) float64 send time (nowMs), [8..12) uint32 sequence, [12..16) uint32 pass id,
 * then filler: JSON-like telemetry text with random digits. Each message takes its filler from a
 * different place in a 1 MiB pool, so that a batch compresses the way a batch of real readings
 * does (the same keys, different values). Until 2026-11-29 every message carried the same filler,
 * and lz4 compressed a batch about 60x, since each record repeated the one before it.
 */
export const HEADER_BYTES = 16;

const POOL_BYTES = 1 << 20;

/** Generated telemetry text for payloads of `size` bytes (header included). */
export interface Filler {
  pool: Buffer;
  length: number;
}

export function makeFiller(size: number): Filler {
  const length = Math.max(0, size - HEADER_BYTES);
  const out = Buffer.alloc(POOL_BYTES + length);
  let seed = 0x2545f491;
  const rnd = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  let text = "";
  let i = 0;
  while (text.length < out.length) {
    text += `{"sensor":"line-${i % 8}/cell-${(rnd() * 64) | 0}","t":${(rnd() * 1e6).toFixed(0)},"temp":${(15 + rnd() * 20).toFixed(3)},"rpm":${(rnd() * 3000) | 0},"ok":${rnd() > 0.1}},`;
    i++;
  }
  out.write(text.slice(0, out.length), "latin1");
  return { pool: out, length };
}

/** A fresh payload buffer (each message needs its own: clients may hold on to it). */
export function stamp(filler: Filler, seq: number, pass: number): Buffer {
  const b = Buffer.allocUnsafe(HEADER_BYTES + filler.length);
  b.writeDoubleLE(nowMs(), 0);
  b.writeUInt32LE(seq >>> 0, 8);
  b.writeUInt32LE(pass >>> 0, 12);
  // A multiplicative hash of the sequence spreads neighbours across the pool, further apart than
  // lz4's 64 KB window, so no record is a copy of a recent one.
  const at = Math.imul(seq + pass * 7919, 0x9e3779b1) >>> 12; // 0 .. 2^20-1
  filler.pool.copy(b, HEADER_BYTES, at, at + filler.length);
  return b;
}

export interface Stamp {
  sentAt: number;
  seq: number;
  pass: number;
}

export function readStamp(b: Buffer | null | undefined): Stamp | undefined {
  if (!b || b.length < HEADER_BYTES) return undefined;
  return { sentAt: b.readDoubleLE(0), seq: b.readUInt32LE(8), pass: b.readUInt32LE(12) };
}

/** (time ms, cumulative count) checkpoints. */
export type Timeline = [number, number][];

/** Records a checkpoint every `every` events, plus the last one on `finish`. */
export class TimelineRecorder {
  readonly points: Timeline = [];
  private n = 0;
  constructor(private readonly every: number) {}
  add(k = 1, at = nowMs()): void {
    const before = this.n;
    this.n += k;
    if (Math.floor(before / this.every) !== Math.floor(this.n / this.every)) this.points.push([at, this.n]);
  }
  get count(): number {
    return this.n;
  }
  finish(at: number): Timeline {
    const last = this.points[this.points.length - 1];
    if (this.n > 0 && (!last || last[1] !== this.n)) this.points.push([at, this.n]);
    return this.points;
  }
}

/** Time at which the cumulative count reached `target`, interpolated between checkpoints. */
export function timeAt(t: Timeline, target: number): number | undefined {
  let prev: [number, number] | undefined;
  for (const p of t) {
    if (p[1] >= target) {
      if (!prev || p[1] === prev[1]) return p[0];
      return prev[0] + ((target - prev[1]) / (p[1] - prev[1])) * (p[0] - prev[0]);
    }
    prev = p;
  }
  return undefined;
}

export const sleep = (ms: number): Promise<void> => new Promise<void>((r) => setTimeout(r, ms));

/** A whole number with thousands separators, as the reports print rates. */
export const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

/**
 * Polls a running count (e.g. a topic's end offsets above where the pass began) every `everyMs`
 * until it reaches `target`, or stops moving for 3 s after it started, or 180 s pass. Returns the
 * counts as they changed, after a first point at `start` with 0.
 */
export async function followCount(read: () => Promise<number>, target: number, everyMs: number, start = nowMs()): Promise<Timeline> {
  const tl: Timeline = [[start, 0]];
  let lastChange = nowMs();
  const until = nowMs() + 180_000;
  for (let last = 0; ; ) {
    await sleep(everyMs);
    const n = await read();
    const t = nowMs();
    if (n !== last) {
      tl.push([t, n]);
      last = n;
      lastChange = t;
    }
    if (n >= target || t > until || (n > 0 && t - lastChange > 3000)) return tl;
  }
}

export interface Window {
  /** Sustained rate between 10 % and 90 % of what arrived, msg/s. */
  rate: number;
  from: number;
  to: number;
  count: number;
}

/**
 * Sustained rate: the middle 80 % of the messages that arrived, which leaves out connection
 * set-up, consumer-group joins and the tail.
 */
export function sustained(t: Timeline): Window | undefined {
  const total = t.length ? t[t.length - 1]![1] : 0;
  if (total < 10) return undefined;
  const from = timeAt(t, total * 0.1);
  const to = timeAt(t, total * 0.9);
  if (from === undefined || to === undefined || to <= from) return undefined;
  return { rate: (total * 0.8) / ((to - from) / 1000), from, to, count: total };
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(latencies: Float64Array, n: number): LatencySummary | undefined {
  if (n === 0) return undefined;
  const s = latencies.slice(0, n).sort();
  const q = (p: number) => s[Math.min(n - 1, Math.floor(p * n))]!;
  return { samples: n, p50: q(0.5), p99: q(0.99), max: s[n - 1]! };
}

/** What every worker prints as its last stdout line. */
export interface WorkerResult {
  /** Messages taken into account (received with the right pass id, or sent). */
  count: number;
  /** Distinct sequence numbers among them (receivers). */
  unique?: number;
  timeline: Timeline;
  latency?: LatencySummary;
  /** BENCH_SERIES=1: worst latency per 100 ms bucket, [bucket start ms, latency ms]. */
  series?: [number, number][];
  startAt: number;
  endAt: number;
}
