import type { Logger } from "../logger";
import type { Pipeline } from "../routes/pipeline";

/**
 * One info line per interval with each route's rates, so `info` logs show the connector is alive.
 * Returns the timer (unref'd), or undefined when `intervalMs` is 0.
 */
export function logThroughput(pipelines: () => Iterable<Pipeline>, intervalMs: number, log: Logger): NodeJS.Timeout | undefined {
  if (intervalMs <= 0) return undefined;
  let last = new Map<string, { inn: number; out: number }>();
  let lastAt = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const secs = Math.max(0.001, (now - lastAt) / 1000);
    const next = new Map<string, { inn: number; out: number }>();
    const rates: Record<string, string> = {};
    for (const p of pipelines()) {
      const cur = { inn: p.stats.received, out: p.stats.delivered };
      const prev = last.get(p.key) ?? { inn: 0, out: 0 };
      rates[p.key] = `${((cur.inn - prev.inn) / secs).toFixed(1)} in/s, ${((cur.out - prev.out) / secs).toFixed(1)} out/s, ${p.inFlight} in flight`;
      next.set(p.key, cur);
    }
    last = next;
    lastAt = now;
    log.info({ rates }, "throughput");
  }, intervalMs);
  timer.unref();
  return timer;
}
