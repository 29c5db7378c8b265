/** Opens the connector's disk spool: one LMDB environment per instance, wired to the metrics. */
import { join } from "node:path";
import type { Logger } from "../logger";
import type { ConnectorMetrics } from "../metrics";
import { Spool } from "../spool/store";
import type { RuntimeOptions } from "./runtime";

export function openSpool(o: NonNullable<RuntimeOptions["spool"]>, instanceIndex: number, metrics: ConnectorMetrics, log: Logger): Spool {
  // Instances started side by side on one machine must not share an environment: sequence numbers are per process.
  const dir = join(o.dir, `instance-${instanceIndex}`);
  const spool = Spool.open({ dir, maxBytes: o.maxBytes, log: log.child({ component: "spool" }), onFlush: (s) => metrics.spoolFsync.observe(s) });
  log.info({ dir, maxBytes: o.maxBytes, mode: o.mode, bytes: spool.bytes }, "spool open");
  return spool;
}
