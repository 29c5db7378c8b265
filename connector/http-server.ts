import { createServer, type Server } from "node:http";

export interface HealthSource {
  /** Both brokers connected and every route subscribed or consuming. */
  ready(): boolean;
  /** Extra detail for /readyz, e.g. per-route state. */
  detail?(): unknown;
}

/** /healthz answers while the event loop turns; /readyz reflects broker and route state. */
export function startHttpServer(port: number, source: HealthSource, host = "0.0.0.0"): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const ok = source.ready();
      res.writeHead(ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify({ ready: ok, ...(source.detail ? { detail: source.detail() } : {}) }) + "\n");
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
