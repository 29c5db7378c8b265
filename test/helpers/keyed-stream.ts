// A numbered, keyed QoS 1 stream for the spool tests: message i is `k<i mod keys>:<i>` on
// `<base>/k<i mod keys>`, so with partitionStrategy topic each key's order can be read back from
// Kafka with kcat.
import mqtt from "mqtt";
import { kcatConsume, uniqueName, type BrokerProfile } from "./brokers";

/** Mosquitto as shipped: at most 1000 messages queued per client (the harness's other brokers queue a million). */
export const STOCK_QUEUE_BROKERS: BrokerProfile = { name: "stock-queue", kafka: {}, mqtt: { stockQueue: true } };

export const KEYS = 4;

/**
 * Publishes `count` messages from index `from` in groups of 50, at most `rate` per second when
 * given, each padded with `size` bytes; resolves once the broker has PUBACKed them.
 */
export async function publishKeyed(url: string, base: string, from: number, count: number, o: { size?: number; rate?: number } = {}): Promise<void> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: uniqueName("pub") });
  const pad = o.size ? ":" + "x".repeat(o.size) : "";
  try {
    const started = Date.now();
    for (let i = from; i < from + count; i += 50) {
      const due = o.rate ? started + ((i - from) / o.rate) * 1000 : 0;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      await Promise.all(Array.from({ length: Math.min(50, from + count - i) }, (_, j) => client.publishAsync(`${base}/k${(i + j) % KEYS}`, `k${(i + j) % KEYS}:${i + j}${pad}`, { qos: 1 })));
    }
  } finally {
    await client.endAsync();
  }
}

export interface KeyedReadBack {
  seen: Set<number>;
  /** Keys whose first occurrences came out of publish order, as `key: i after j`. */
  outOfOrder: string[];
  /** Indexes below `total` never seen. */
  missing(total: number): number[];
}

/** Reads the topic with kcat; duplicates (at-least-once) are skipped, each key's order checked. */
export async function readKeyed(bootstrap: string, topic: string, expect: number, timeoutMs = 60_000): Promise<KeyedReadBack> {
  let recs = await kcatConsume(bootstrap, topic, { count: expect, timeoutMs, allowFewer: true });
  // Duplicates count toward kcat's count: with some, read again for what may still be behind them.
  const unique = new Set(recs.map((r) => r.value)).size;
  if (unique < expect && recs.length >= expect) recs = await kcatConsume(bootstrap, topic, { count: recs.length + (expect - unique), timeoutMs: 15_000, allowFewer: true });
  const seen = new Set<number>();
  const last = new Map<string, number>();
  const outOfOrder: string[] = [];
  for (const r of recs) {
    const [key, n] = (r.value ?? "").split(":") as [string, string];
    const i = Number(n);
    if (seen.has(i)) continue;
    seen.add(i);
    if ((last.get(key) ?? -1) > i) outOfOrder.push(`${key}: ${i} after ${last.get(key)}`);
    last.set(key, i);
  }
  return { seen, outOfOrder, missing: (total) => Array.from({ length: total }, (_, i) => i).filter((i) => !seen.has(i)) };
}
