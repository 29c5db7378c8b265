/**
 * Hands the accepted topic maps to the running connector. All changes go in one reload when they
 * can; when that reload is refused (a Kafka topic that does not exist, say), each changed map is
 * tried on its own, so one bad map does not hold back the others. A refused map keeps its
 * previously applied generation.
 */
import type { Connector } from "../connector";
import type { KafkaConnectorTopicMapResource } from "../config/schema";
import type { Logger } from "../logger";
import type { Desired } from "./desired";

export interface AppliedMap {
  /** The generation the connector runs, with its resource; undefined when none does. */
  generation?: number;
  resource?: KafkaConnectorTopicMapResource;
  /** Why `errorGeneration` (an accepted generation) could not be applied. */
  error?: string;
  errorGeneration?: number;
}

const byName = (maps: KafkaConnectorTopicMapResource[]) => [...maps].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));

export async function applyMaps(c: Connector, d: Desired, applied: Map<string, AppliedMap>, log: Logger): Promise<{ failed: boolean }> {
  const target = d.accepted.maps;
  const changed = [...target].filter(([uid, v]) => applied.get(uid)?.generation !== v.generation);
  const removed = [...applied.keys()].filter((uid) => !target.has(uid) && applied.get(uid)?.generation !== undefined);
  if (!changed.length && !removed.length) return { failed: false };

  if (changed.length + removed.length > 1) {
    try {
      await c.reload(byName([...target.values()].map((v) => v.resource)));
      applied.clear();
      for (const [uid, v] of target) applied.set(uid, { generation: v.generation, resource: v.resource });
      return { failed: false };
    } catch (e) {
      log.info({ err: (e as Error).message, maps: changed.map(([, v]) => v.resource.metadata.name) }, "topic maps could not be applied together; applying them one by one");
    }
  }
  const running = () => byName([...applied.values()].flatMap((a) => (a.resource ? [a.resource] : [])));
  if (removed.length) {
    try {
      await c.reload(running().filter((m) => removed.every((uid) => applied.get(uid)?.resource !== m)));
      for (const uid of removed) applied.delete(uid);
    } catch (e) {
      log.error({ err: (e as Error).message }, "removing topic maps failed; retrying");
      return { failed: true };
    }
  }
  let failed = false;
  for (const [uid, v] of changed) {
    const others = running().filter((m) => m.metadata.name !== v.resource.metadata.name);
    try {
      await c.reload(byName([...others, v.resource]));
      applied.set(uid, { generation: v.generation, resource: v.resource });
    } catch (e) {
      failed = true;
      const prev = applied.get(uid);
      const error = (e as Error).message.split("\n").join(" ");
      applied.set(uid, { ...prev, error, errorGeneration: v.generation });
      // Retried with backoff; said once per generation and cause (status keeps saying it).
      if (prev?.error !== error || prev.errorGeneration !== v.generation) {
        log.error({ topicMap: v.resource.metadata.name, generation: v.generation, err: (e as Error).message }, "topic map not applied (retrying); its previous generation, if any, keeps running");
      }
    }
  }
  return { failed };
}
