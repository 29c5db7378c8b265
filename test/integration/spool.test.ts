import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { uniqueName } from "../helpers/brokers";
import { publishKeyed, readKeyed, STOCK_QUEUE_BROKERS } from "../helpers/keyed-stream";
import type { MapSpec } from "../helpers/config";
import { connectorFixture } from "../helpers/connector";
import { waitFor } from "../helpers/wait";
import type { Connector, RuntimeOptions } from "../../connector/connector";

describe("disk spool for mqttToKafka (real Kafka; Mosquitto with its default queue of 1000 per client)", function () {
  this.timeout(180_000);
  const fx = connectorFixture("spool", STOCK_QUEUE_BROKERS);
  const b = fx.brokers;
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "spool-it-"))));
  afterEach(async () => {
    if (!b.kafka.running) await b.kafka.start();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One route keyed by the MQTT topic (`<base>/k<n>`), so each key's order can be checked in Kafka. */
  const map = (base: string, topic: string): MapSpec => ({ partitionStrategy: "topic", routes: [{ mqttToKafka: { name: "r", mqttTopic: `${base}/+`, kafkaTopic: topic } }] });

  async function start(base: string, topic: string, spool: RuntimeOptions["spool"], name?: string): Promise<Connector> {
    const r = await fx.start({ ...(name ? { name } : {}), maps: [{ spec: map(base, topic) }], runtime: spool ? { spool } : {} });
    return r.connector;
  }

  const publish = (base: string, from: number, count: number, size = 0, rate = 0) => publishKeyed(b.mqtt.url, base, from, count, { size, rate });
  const readBack = (topic: string, expect: number, timeoutMs?: number) => readKeyed(b.kafka.bootstrap, topic, expect, timeoutMs);

  it("without a spool, a Kafka outage longer than the broker's queue loses messages (what the spool is for)", async () => {
    const base = uniqueName("nospool");
    const topic = uniqueName("nospool");
    await b.kafka.createTopic(topic, 2);
    const c = await start(base, topic, undefined);
    const total = 3500; // window 1000 + queue 1000 < 3500
    await b.kafka.stop();
    try {
      await publish(base, 0, total);
      await waitFor("the window to fill", () => c.m2k[0]!.inFlight >= 1000, 20_000);
    } finally {
      await b.kafka.start();
    }
    const { seen } = await readBack(topic, total, 25_000);
    assert.ok(seen.size < total, `expected the stock broker to drop some of ${total}; Kafka has ${seen.size}`);
    assert.ok(seen.size >= 1000, `the window at least (got ${seen.size})`);
  });

  it("outage mode: the route spools while Kafka is down, loses nothing, keeps each key's order, and returns to direct sends", async () => {
    const base = uniqueName("outage");
    const topic = uniqueName("outage");
    await b.kafka.createTopic(topic, 3);
    const c = await start(base, topic, { dir, maxBytes: 64 * 2 ** 20, mode: "outage" });
    const route = c.m2k[0]!;
    await publish(base, 0, 300);
    await waitFor("the direct sends", () => route.stats.delivered >= 300, 20_000);
    assert.equal(route.stats.spooled, 0, "nothing spooled while Kafka keeps up");
    const total = 5000;
    await b.kafka.stop();
    try {
      // 2,000 msg/s: a steady plant, which a stock broker's 1000-message queue alone could not hold for long.
      await publish(base, 300, total - 300, 0, 2000);
      const state = () => `in flight ${route.inFlight}, spool ${JSON.stringify(route.spoolState())}, stats ${JSON.stringify({ ...route.stats, receivedByClient: undefined })}`;
      await waitFor("every message to be PUBACKed from the spool", () => route.inFlight === 0 && (route.spoolState()?.records ?? 0) >= total - 300 - 1000, 30_000).catch((e: Error) => {
        throw new Error(`${e.message}: ${state()}`);
      });
      const s = route.spoolState()!;
      assert.equal(s.spooling, true);
      assert.ok(s.oldestAgeSeconds >= 0);
    } finally {
      await b.kafka.start();
    }
    await waitFor("the spool to empty and direct sends to resume", () => route.spoolState()?.spooling === false && route.spoolState()?.records === 0, 90_000).catch((e: Error) => {
      throw new Error(`${e.message}: in flight ${route.inFlight}, spool ${JSON.stringify(route.spoolState())}, stats ${JSON.stringify({ ...route.stats, receivedByClient: undefined })}`);
    });
    assert.ok(route.stats.replayed > 0, "records were sent from the spool");
    await publish(base, total, 200);
    const { outOfOrder, missing } = await readBack(topic, total + 200);
    assert.deepEqual(missing(total + 200), [], "lost messages");
    assert.deepEqual(outOfOrder.slice(0, 5), [], "per-key order");
  });

  it("always mode: every message goes through the disk; a restart sends what the spool held before anything new", async () => {
    const base = uniqueName("always");
    const topic = uniqueName("always");
    const name = uniqueName("always").toLowerCase();
    await b.kafka.createTopic(topic, 3);
    const spool = { dir, maxBytes: 64 * 2 ** 20, mode: "always" as const };
    const first = await start(base, topic, spool, name);
    await publish(base, 0, 500);
    await waitFor("the first messages through the spool", () => first.m2k[0]!.stats.replayed >= 500, 20_000);
    await b.kafka.stop();
    try {
      await publish(base, 500, 1500);
      await waitFor("1500 spooled and PUBACKed", () => first.m2k[0]!.inFlight === 0 && first.m2k[0]!.spoolState()!.records === 1500, 30_000);
      fx.untrack(first);
      assert.equal(await first.stop(5000), true, "a spooling route drains at once: its records are on disk");
    } finally {
      await b.kafka.start();
    }
    const second = await start(base, topic, spool, name);
    await publish(base, 2000, 500);
    await waitFor("the new messages to arrive and the spool to empty", () => second.m2k[0]!.stats.received >= 500 && second.m2k[0]!.inFlight === 0 && second.m2k[0]!.spoolState()!.records === 0 && second.m2k[0]!.stats.replayed >= 2000, 60_000);
    const { outOfOrder, missing } = await readBack(topic, 2500);
    assert.deepEqual(missing(2500), [], "lost messages");
    assert.deepEqual(outOfOrder.slice(0, 5), [], "per-key order, spooled before new");
  });

  it("a full spool takes no new messages: the route is not ready, the broker keeps the rest, and nothing is lost", async () => {
    const base = uniqueName("full");
    const topic = uniqueName("full");
    await b.kafka.createTopic(topic, 2);
    const c = await start(base, topic, { dir, maxBytes: 2 ** 20, mode: "outage" });
    const route = c.m2k[0]!;
    await b.kafka.stop();
    const total = 1800; // about 1000 records of 1 KB fill 1 MiB; the rest wait un-PUBACKed in the window
    try {
      await publish(base, 0, total, 1000);
      await waitFor("the spool to fill", () => route.spoolState()?.full === true, 30_000);
      assert.equal(route.ready, false, "a full spool shows on readiness");
      assert.equal(c.ready, false);
      assert.ok(route.inFlight > 0, "messages beyond the spool stay un-PUBACKed");
      assert.ok(route.spoolState()!.bytes <= 2 ** 20 + 2048,  `bytes ${route.spoolState()!.bytes}`);
      c.refreshGauges();
      const text = await c.metrics.registry.metrics();
      assert.match(text, /mqtt_kafka_connector_spool_full\{[^}]*\} 1/);
    } finally {
      await b.kafka.start();
    }
    const { missing } = await readBack(topic, total);
    assert.deepEqual(missing(total), [], "lost messages");
    await waitFor("the route to be ready again", () => route.ready, 30_000);
  });
});
