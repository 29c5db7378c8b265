/** Opens the connector's disk spool: one LMDB environment per instance, wired to the metrics. */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { connectorTopics } from "../config/routes";
import type { KafkaConnectorTopicMapResource } from "../config/schema";
import { ConnectorError } from "../core/errors";
import type { Logger } from "../logger";
import type { ConnectorMetrics } from "../metrics";
import { Spool } from "../spool/store";
import type { RuntimeOptions } from "./runtime";
import type { TopicSnapshot } from "./topic-metadata";

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

/**
 * The topic metadata of the last start that reached Kafka, kept next to the spool: a restart while
 * Kafka is away (a crash in an outage) can then take and spool messages without asking Kafka.
 */
const TOPICS_FILE = "topics.json";

export function saveTopicSnapshot(spool: Spool, s: TopicSnapshot, log: Logger): void {
  const file = join(spool.o.dir, TOPICS_FILE);
  try {
    writeFileSync(`${file}.tmp`, JSON.stringify({ partitions: Object.fromEntries(s.partitions), limits: Object.fromEntries(s.limits) }));
    renameSync(`${file}.tmp`, file);
  } catch (e) {
    log.warn({ err: (e as Error).message, file }, "could not save the topic metadata next to the spool; a restart while Kafka is away will wait for Kafka");
  }
}

/** The saved metadata when it covers every topic of `maps`, else undefined. */
export function loadTopicSnapshot(spool: Spool, maps: KafkaConnectorTopicMapResource[]): TopicSnapshot | undefined {
  let saved: { partitions?: Record<string, number>; limits?: Record<string, number> };
  try {
    saved = JSON.parse(readFileSync(join(spool.o.dir, TOPICS_FILE), "utf8")) as typeof saved;
  } catch {
    return undefined;
  }
  const partitions = new Map(Object.entries(saved.partitions ?? {}).filter(([, n]) => Number.isInteger(n) && n > 0));
  if ([...connectorTopics(maps).keys()].some((t) => !partitions.has(t))) return undefined;
  return { partitions, limits: new Map(Object.entries(saved.limits ?? {}).filter(([, n]) => typeof n === "number")) };
}
