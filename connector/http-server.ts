import { createServer, type Server } from "node:http";

export interface HealthSource {
  /** Both brokers connected and every route subscribed or consuming. */
  ready(): boolean;
  /** Extra detail for /readyz, e.g. per-route state. */
  detail?(): unknown;
  /** Prometheus exposition text for /metrics. */
  metrics?(): Promise<{ contentType: string; body: string }>;
}

/**
 * Watches how late a 1 s timer fires. A loop blocked for longer than `stallMs` (a hot loop, a
 * synchronous call that never returns) makes /healthz fail even if the probe's request gets through.
 */
export class LoopWatch {
  private lastTick = Date.now();
  private worstRecent = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(readonly stallMs = 10_000) {
    this.timer = setInterval(() => {
      const now = Date.now();
      const late = now - this.lastTick - 1000;
      // Decay so one old stall does not fail the probe for ever.
      this.worstRecent = Math.max(late, this.worstRecent * 0.9);
      this.lastTick = now;
    }, 1000);
    this.timer.unref();
  }

  /** Milliseconds the loop has been late recently (including right now, if the timer is overdue). */
  get delayMs(): number {
    return Math.max(this.worstRecent, Date.now() - this.lastTick - 1000);
  }

  get healthy(): boolean {
    return this.delayMs < this.stallMs;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** /healthz: the process is alive and its event loop turns; /readyz: brokers and routes; /metrics: Prometheus. */
export function startHttpServer(port: number, source: HealthSource, host = "0.0.0.0", loop = new LoopWatch()): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      const ok = loop.healthy;
      res.writeHead(ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify({ healthy: ok, eventLoopDelayMs: Math.max(0, Math.round(loop.delayMs)) }) + "\n");
    } else if (path === "/readyz") {
      const ok = source.ready();
      res.writeHead(ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify({ ready: ok, ...(source.detail ? { routes: source.detail() } : {}) }) + "\n");
    } else if (path === "/metrics" && source.metrics) {
      source.metrics().then(
        (m) => res.writeHead(200, { "content-type": m.contentType }).end(m.body),
        (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${(e as Error).message}\n`),
      );
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  server.on("close", () => loop.stop());
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
