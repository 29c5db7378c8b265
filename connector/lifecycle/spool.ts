/** Opens the connector's disk spool: one LMDB environment per instance, wired to the metrics. */
import { join, resolve } from "node:path";
import { ConnectorError } from "../core/errors";
import type { Logger } from "../logger";
import type { ConnectorMetrics } from "../metrics";
import { Spool } from "../spool/store";
import type { RuntimeOptions } from "./runtime";

export function openSpool(o: NonNullable<RuntimeOptions["spool"]>, instanceIndex: number, metrics: ConnectorMetrics, log: Logger): Spool {
  // Instances started side by side on one machine must not share an environment: sequence numbers are per process.
  const dir = join(resolve(o.dir), `instance-${instanceIndex}`);
  let spool: Spool;
  try {
    spool = Spool.open({ dir, maxBytes: o.maxBytes, log: log.child({ component: "spool" }), onFlush: (s) => metrics.spoolFsync.observe(s) });
  } catch (e) {
    throw new ConnectorError(
      "SPOOL_UNAVAILABLE",
      `cannot open the spool in ${dir}: ${(e as Error).message}. Check that the directory is writable and has room; if spool.mdb is damaged, move it aside to start with an empty spool (what it held is then not sent)`,
      { cause: e },
    );
  }
  log.info({ dir, maxBytes: o.maxBytes, mode: o.mode, bytes: spool.bytes }, "spool open");
  return spool;
}
