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

// A connector restarted while Kafka is away (a crash in an outage) used to wait for Kafka's topic
// metadata before it subscribed: meanwhile a stock broker kept 1000 messages for its session and
// dropped the rest. With a spool it now starts on the metadata an earlier start saved with it.
describe("disk spool: a restart while Kafka is down (real Kafka; Mosquitto with its default queue)", function () {
  this.timeout(180_000);
  const fx = connectorFixture("spoolrs", STOCK_QUEUE_BROKERS);
  const b = fx.brokers;
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "spool-rs-"))));
  afterEach(async () => {
    if (!b.kafka.running) await b.kafka.start();
    rmSync(dir, { recursive: true, force: true });
  });

  const map = (base: string, topic: string): MapSpec => ({ partitionStrategy: "topic", routes: [{ mqttToKafka: { name: "r", mqttTopic: `${base}/+`, kafkaTopic: topic } }] });
  const start = async (base: string, topic: string, spool: RuntimeOptions["spool"], name: string): Promise<Connector> =>
    (await fx.start({ name, maps: [{ spec: map(base, topic) }], runtime: spool ? { spool } : {} })).connector;

  const publish = (base: string, from: number, count: number, rate: number) => publishKeyed(b.mqtt.url, base, from, count, { rate });

  it("starts on the topic metadata saved with the spool, spools the outage's messages, and delivers them all in order", async () => {
    const base = uniqueName("restart");
    const topic = uniqueName("restart");
    const name = uniqueName("restart").toLowerCase();
    await b.kafka.createTopic(topic, 3);
    const spool = { dir, maxBytes: 64 * 2 ** 20, mode: "outage" as const };
    const first = await start(base, topic, spool, name);
    await publish(base, 0, 200, 2000);
    await waitFor("the first messages in Kafka", () => first.m2k[0]!.stats.delivered >= 200, 20_000);
    fx.untrack(first);
    await first.stop(5_000);
    await b.kafka.stop();
    try {
      const t = Date.now();
      const second = await start(base, topic, spool, name);
      assert.ok(Date.now() - t < 20_000, `started without Kafka in ${Date.now() - t} ms`);
      assert.equal(second.ready, true, "ready while Kafka is down");
      // 4,000 at 2,000/s: twice what the broker's queue and our window could hold together.
      await publish(base, 200, 4000, 2000);
      const route = second.m2k[0]!;
      await waitFor("every message PUBACKed from the spool", () => route.inFlight === 0 && route.stats.received >= 4000, 30_000).catch((e: Error) => {
        throw new Error(`${e.message}: received ${route.stats.received}, in flight ${route.inFlight}, spool ${JSON.stringify(route.spoolState())}`);
      });
      assert.equal(route.spoolState()?.records, 4000);
    } finally {
      await b.kafka.start();
    }
    const { outOfOrder, missing: missed } = await readKeyed(b.kafka.bootstrap, topic, 4200);
    const missing = missed(4200);
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} lost`);
    assert.deepEqual(outOfOrder.slice(0, 5), [], "per-key order");
  });
});
