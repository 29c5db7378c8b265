// Issue 18: templated topics and keys, allowed topic lists, kafkaToMqtt from several topics, on a
// real Mosquitto and Kafka; what reaches each side is read back with kcat and mosquitto_sub.
import { strict as assert } from "node:assert";
import mqtt from "mqtt";
import { committedOffsets, kcatConsume, kcatProduce, mosquittoPub, mosquittoSub, uniqueName, withKafkaAdmin } from "../helpers/brokers";
import type { MapSpec } from "../helpers/config";
import { connectorFixture } from "../helpers/connector";
import { waitFor } from "../helpers/wait";
import { parseConfigText } from "../../connector/config/load";
import type { KafkaConnectorTopicMapResource } from "../../connector/config/schema";
import { installKafkajs } from "../../connector/ports/kafka/seam";

const murmur2 = installKafkajs().hash;
const header = (h: [string, string][], k: string) => h.find(([n]) => n === k)?.[1];

describe("dynamic routing: templates and topic lists (real Mosquitto and Kafka)", function () {
  const fx = connectorFixture("dyn");
  const b = fx.brokers;

  async function start(map: MapSpec, name?: string) {
    return (await fx.start({ name, maps: [{ spec: map }] })).connector;
  }

  /** The topic maps of `map` for a connector named `name`, validated as a reload would see them. */
  function mapsFor(name: string, map: MapSpec): KafkaConnectorTopicMapResource[] {
    const { resources, problems } = parseConfigText(fx.config({ name, maps: [{ spec: map }] }).text, "reload.yaml");
    assert.deepEqual(problems, []);
    return resources.filter((r): r is KafkaConnectorTopicMapResource => r.kind === "KafkaConnectorTopicMap");
  }

  it("1. fans one wildcard route out to three Kafka topics, keyed and partitioned by a level", async () => {
    const base = uniqueName("fan");
    const prefix = uniqueName("tel").toLowerCase();
    const sites = ["berlin", "paris", "rome"];
    for (const s of sites) await b.kafka.createTopic(`${prefix}-${s}`, 3);
    const c = await start(
      mqttToKafkaRoute({
        name: "fan",
        mqttTopic: `${base}/+/+/telemetry`,
        kafkaTopic: `${prefix}-\${inputTopic.2}`,
        kafkaTopics: sites.map((s) => `${prefix}-${s}`),
        kafkaKey: "${inputTopic.3}",
      }),
    );
    const devices = ["press-1", "press-2", "oven-7", "robot-3"];
    const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    const sent: { site: string; device: string; value: string }[] = [];
    for (let i = 0; i < 24; i++) {
      const site = sites[i % 3]!;
      const device = devices[i % 4]!;
      const value = `${site}/${device}/${i}`;
      sent.push({ site, device, value });
      await client.publishAsync(`${base}/${site}/${device}/telemetry`, value, { qos: 1 });
    }
    await client.endAsync();
    // One through libmosquitto too.
    await mosquittoPub(b.mqtt.url, `${base}/rome/pump-9/telemetry`, "rome/pump-9/mosquitto");
    sent.push({ site: "rome", device: "pump-9", value: "rome/pump-9/mosquitto" });

    for (const site of sites) {
      const expected = sent.filter((s) => s.site === site);
      const recs = await kcatConsume(b.kafka.bootstrap, `${prefix}-${site}`, { count: expected.length, timeoutMs: 15_000 });
      assert.deepEqual(recs.map((r) => r.value).sort(), expected.map((s) => s.value).sort(), `${site} gets its site's messages and only those`);
      for (const r of recs) {
        const device = r.value!.split("/")[1]!;
        assert.equal(r.key, device, "the key is the third level");
        assert.equal(r.partition, (murmur2(Buffer.from(device)) & 0x7fffffff) % 3, `partition of key ${device} (murmur2, as the Java client)`);
      }
      // Per-key order within a topic.
      for (const d of devices) {
        const seq = recs.filter((r) => r.key === d).map((r) => Number(r.value!.split("/")[2]));
        assert.deepEqual(seq, [...seq].sort((x, y) => x - y), `${site}/${d} in order`);
      }
    }
    const s = c.m2k[0]!.stats;
    assert.equal(s.delivered, 25);
    assert.equal(s.deadLettered + s.dropped, 0);
  });

  it("2. a level that gives an illegal, unlisted or missing topic is dead-lettered with its reason; the others flow, nothing is created", async () => {
    const base = uniqueName("bad");
    const p = uniqueName("lvl").toLowerCase();
    const dlqMqtt = uniqueName("bad-dlq");
    const dlqKafka = `${p}-dead`;
    await b.kafka.createTopic(`${p}-ok`, 1);
    await b.kafka.createTopic(`${p}-open`, 1);
    await b.kafka.createTopic(dlqKafka, 1);
    const c = await start({
      routes: [
        // Listed topics, MQTT dead letters.
        { mqttToKafka: { name: "listed", mqttTopic: `${base}/list/+`, kafkaTopic: `${p}-\${inputTopic.3}`, kafkaTopics: [`${p}-ok`], deadLetter: { mqttTopic: dlqMqtt } } },
        // No list: whatever exists, Kafka dead letters.
        { mqttToKafka: { name: "open", mqttTopic: `${base}/open/+`, kafkaTopic: `${p}-\${inputTopic.3}`, deadLetter: { kafkaTopic: dlqKafka } } },
        // No dead-letter target: dropped, logged and counted.
        { mqttToKafka: { name: "nodlq", mqttTopic: `${base}/nodlq/+`, kafkaTopic: `${p}-\${inputTopic.3}` } },
      ],
    });
    const sub = mosquittoSub(b.mqtt.url, dlqMqtt, { count: 3, timeoutMs: 20_000 });
    await sub.ready;
    const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    const pub = (t: string, v: string) => client.publishAsync(t, v, { qos: 1 });
    await pub(`${base}/list/ok`, "l1");
    await pub(`${base}/list/bad name`, "illegal"); // a space: not a Kafka topic name
    await pub(`${base}/list/ok`, "l2");
    await pub(`${base}/list/open`, "unlisted"); // exists, but not in kafkaTopics
    await pub(`${base}/list/${"x".repeat(300)}`, "too-long");
    await pub(`${base}/list/ok`, "l3");
    await pub(`${base}/open/open`, "o1");
    await pub(`${base}/open/missing`, "missing-1");
    await pub(`${base}/open/open`, "o2");
    await pub(`${base}/open/missing`, "missing-2");
    await pub(`${base}/nodlq/nowhere`, "dropped");
    await pub(`${base}/nodlq/ok`, "n1");
    await client.endAsync();

    const ok = (await kcatConsume(b.kafka.bootstrap, `${p}-ok`, { count: 4, timeoutMs: 15_000 })).map((r) => r.value);
    assert.deepEqual(ok.filter((v) => v !== "n1"), ["l1", "l2", "l3"], "in order, around the dead letters");
    assert.ok(ok.includes("n1"), "the route without a dead-letter target flows on too");
    assert.deepEqual((await kcatConsume(b.kafka.bootstrap, `${p}-open`, { count: 2, timeoutMs: 15_000 })).map((r) => r.value), ["o1", "o2"]);

    const dead = await sub.done;
    const reasons = new Map(dead.map((m) => [m.text, new Map(m.userProperties).get("dlq-reason")]));
    assert.equal(reasons.get("illegal"), `unroutable: kafkaTopic "${p}-\${inputTopic.3}" gives "${p}-bad name": a Kafka topic name may contain only letters, digits, \`.\`, \`_\` and \`-\``);
    assert.equal(reasons.get("unlisted"), `unroutable: kafkaTopic "${p}-\${inputTopic.3}" gives "${p}-open", which is not one of the route's kafkaTopics`);
    assert.match(reasons.get("too-long")!, /^unroutable: kafkaTopic ".*" gives ".*\.\.\.": a Kafka topic name has at most 249 characters, this one \d+$/);
    const illegal = new Map(dead.find((m) => m.text === "illegal")!.userProperties);
    assert.equal(illegal.get("dlq-route"), "listed");
    assert.equal(illegal.get("dlq-source-topic"), `${base}/list/bad name`);

    const missing = await kcatConsume(b.kafka.bootstrap, dlqKafka, { count: 2, timeoutMs: 15_000 });
    assert.deepEqual(missing.map((r) => r.value).sort(), ["missing-1", "missing-2"], "dead letters are written concurrently, in no set order");
    for (const r of missing) {
      assert.equal(header(r.headers, "dlq-reason"), `unroutable: Kafka topic "${p}-missing" does not exist (from kafkaTopic "${p}-\${inputTopic.3}"); the connector never creates topics`);
      assert.equal(header(r.headers, "dlq-source-topic"), `${base}/open/missing`);
    }
    const topics = await withKafkaAdmin(b.kafka.bootstrap, (admin) => admin.listTopics());
    assert.ok(!topics.includes(`${p}-missing`) && !topics.includes(`${p}-nowhere`), "no topic was created");

    const byName = new Map(c.m2k.map((r) => [r.name, r.stats]));
    assert.equal(byName.get("listed")!.deadLettered, 3);
    assert.equal(byName.get("open")!.deadLettered, 2);
    assert.deepEqual([byName.get("nodlq")!.dropped, byName.get("nodlq")!.droppedBy.unroutable, byName.get("nodlq")!.delivered], [1, 1, 1]);
  });

  it("3. kafkaToMqtt by key from two Kafka topics and by header, with a null key and a missing header dead-lettered and committed", async () => {
    const base = uniqueName("cmd");
    const ta = uniqueName("cmd-a");
    const tb = uniqueName("cmd-b");
    const th = uniqueName("alerts");
    const dlqKafka = uniqueName("cmd-dead");
    const dlqMqtt = uniqueName("alerts-dead");
    const group = uniqueName("g-cmd");
    for (const t of [ta, tb, th, dlqKafka]) await b.kafka.createTopic(t, 1);
    await start({
      routes: [
        { kafkaToMqtt: { name: "by-key", kafkaTopics: [ta, tb], mqttTopic: `${base}/\${key}/commands`, consumerGroupId: group, deadLetter: { kafkaTopic: dlqKafka } } },
        { kafkaToMqtt: { name: "by-header", kafkaTopic: th, mqttTopic: `${base}/sites/\${header.site}/\${inputTopic}/p\${partition}`, deadLetter: { mqttTopic: dlqMqtt } } },
      ],
    });
    const sub = mosquittoSub(b.mqtt.url, `${base}/#`, { count: 6, timeoutMs: 6_000, allowFewer: true });
    const dead = mosquittoSub(b.mqtt.url, dlqMqtt, { count: 1, timeoutMs: 20_000 });
    await Promise.all([sub.ready, dead.ready]);
    await kcatProduce(b.kafka.bootstrap, ta, [{ key: "dev-1", value: "a1" }, { value: "null-key" }, { key: "dev-2", value: "a2" }]);
    await kcatProduce(b.kafka.bootstrap, tb, [{ key: "dev-1", value: "b1" }, { key: "bad+", value: "wildcard" }, { key: "x/", value: "empty-level" }]);
    await kcatProduce(b.kafka.bootstrap, th, [{ value: "h1", headers: [["site", "s1"]] }, { value: "no-header", headers: [["other", "x"]] }, { value: "h2", headers: [["site", "s2"]] }]);

    const got = await sub.done;
    assert.deepEqual(
      got.map((m) => [m.topic, m.text]).sort(),
      [
        [`${base}/dev-1/commands`, "a1"],
        [`${base}/dev-1/commands`, "b1"],
        [`${base}/dev-2/commands`, "a2"],
        [`${base}/sites/s1/${th}/p0`, "h1"],
        [`${base}/sites/s2/${th}/p0`, "h2"],
      ].sort(),
      "exactly the fillable records, each on its own topic",
    );

    const letters = await kcatConsume(b.kafka.bootstrap, dlqKafka, { count: 3, timeoutMs: 15_000 });
    const byValue = new Map(letters.map((r) => [r.value, r]));
    assert.equal(header(byValue.get("null-key")!.headers, "dlq-reason"), "unroutable: ${key}: the record has no key (null)");
    assert.equal(header(byValue.get("null-key")!.headers, "dlq-source-topic"), ta);
    assert.equal(header(byValue.get("null-key")!.headers, "dlq-source-offset"), "1");
    assert.equal(header(byValue.get("wildcard")!.headers, "dlq-reason"), `unroutable: the MQTT topic contains a wildcard (\`+\` or \`#\`): "${base}/bad+/commands" from "${base}/\${key}/commands"`);
    assert.equal(byValue.get("wildcard")!.key, "bad+");
    assert.equal(header(byValue.get("empty-level")!.headers, "dlq-reason"), `unroutable: the MQTT topic has an empty level: "${base}/x//commands" from "${base}/\${key}/commands"`);
    assert.equal(header(byValue.get("empty-level")!.headers, "dlq-source-topic"), tb);

    const [d] = await dead.done;
    assert.equal(d!.text, "no-header");
    assert.equal(new Map(d!.userProperties).get("dlq-reason"), 'unroutable: ${header.site}: the record has no header "site"');

    // One consumer group over both topics, and every record's offset committed, dead letters included.
    await waitFor("offsets committed", async () => {
      const [a, bb] = await Promise.all([committedOffsets(b.kafka.bootstrap, group, ta), committedOffsets(b.kafka.bootstrap, group, tb)]);
      return a.get(0) === 3 && bb.get(0) === 3;
    }, 15_000);
  });

  it("4. under load, a template change is hot-reloaded and nothing is lost", async function () {
    this.timeout(120_000);
    const base = uniqueName("rl");
    const p1 = uniqueName("old").toLowerCase();
    const p2 = uniqueName("new").toLowerCase();
    const sites = ["a", "b", "c"];
    for (const p of [p1, p2]) for (const s of sites) await b.kafka.createTopic(`${p}-${s}`, 2);
    const name = uniqueName("reload").toLowerCase();
    const route = (p: string): MapSpec => mqttToKafkaRoute({ name: "fan", mqttTopic: `${base}/+`, kafkaTopic: `${p}-\${inputTopic.2}`, kafkaTopics: sites.map((s) => `${p}-${s}`), kafkaKey: "${inputTopic.2}" });
    const c = await start(route(p1), name);

    const total = 3000;
    const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    let sent = 0;
    const stream = (async () => {
      while (sent < total) {
        await Promise.all(
          Array.from({ length: 20 }, () => {
            const i = sent++;
            return client.publishAsync(`${base}/${sites[i % 3]}`, `n${i}`, { qos: 1 });
          }),
        );
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await waitFor("a third of the stream", () => sent > total / 3, 30_000);
    const plan = await c.reload(mapsFor(name, route(p2)));
    assert.deepEqual(plan.changed, [`${name}-map/fan`], "the route with the changed template restarts");
    const sentAtReload = sent;
    await stream;
    await client.endAsync();

    const seen = new Map<string, string>();
    for (const p of [p1, p2]) {
      for (const s of sites) {
        const recs = await kcatConsume(b.kafka.bootstrap, `${p}-${s}`, { count: total, timeoutMs: 15_000, allowFewer: true, exitAtEnd: true });
        for (const r of recs) {
          assert.equal(Number(r.value!.slice(1)) % 3, sites.indexOf(s), `${r.value} on its site's topic`);
          seen.set(r.value!, p);
        }
      }
    }
    const lost = Array.from({ length: total }, (_, i) => `n${i}`).filter((v) => !seen.has(v));
    assert.deepEqual(lost, [], `lost ${lost.length} of ${total}`);
    const onNew = [...seen.values()].filter((p) => p === p2).length;
    assert.ok(onNew >= total - sentAtReload, `the messages after the reload went to the new topics (${onNew} of ${total})`);
    assert.ok(onNew < total, "and those before it to the old ones");
  });

  it("loop prevention holds when a templated kafkaToMqtt route publishes under a mqttToKafka filter", async () => {
    const base = uniqueName("lp");
    const p = uniqueName("lpt").toLowerCase();
    const topic = `${p}-dev1`;
    await b.kafka.createTopic(topic, 1);
    const c = await start({
      routes: [
        { kafkaToMqtt: { name: "out", kafkaTopic: topic, mqttTopic: `${base}/\${key}/commands` } },
        { mqttToKafka: { name: "in", mqttTopic: `${base}/+/commands`, kafkaTopic: `${p}-\${inputTopic.2}`, kafkaTopics: [topic], kafkaKey: "${inputTopic.2}" } },
      ],
    });
    const sub = mosquittoSub(b.mqtt.url, `${base}/#`, { count: 4, timeoutMs: 6_000, allowFewer: true });
    await sub.ready;
    await kcatProduce(b.kafka.bootstrap, topic, [{ key: "dev1", value: "from-kafka" }]);
    await waitFor("the echo suppressed", () => c.m2k[0]!.stats.loopSuppressed === 1, 15_000);
    await mosquittoPub(b.mqtt.url, `${base}/dev1/commands`, "from-device");
    await waitFor("the device's message back from Kafka suppressed", () => c.m2k[0]!.stats.loopSuppressed === 2, 15_000);
    // On MQTT: the record from Kafka (marked), the device's message, and that message back from Kafka (marked).
    const seen = await sub.done;
    assert.deepEqual(seen.map((m) => m.text).sort(), ["from-device", "from-device", "from-kafka"]);
    const marked = seen.filter((m) => m.userProperties.some(([k]) => k === "x-bridge-origin"));
    assert.deepEqual(marked.map((m) => m.text).sort(), ["from-device", "from-kafka"], "what the connector published carries its origin");
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 4, timeoutMs: 3_000, allowFewer: true });
    assert.deepEqual(recs.map((r) => r.value), ["from-kafka", "from-device"], "each reached Kafka once: no ping-pong");
  });
});

function mqttToKafkaRoute(route: NonNullable<MapSpec["routes"][number]["mqttToKafka"]>): MapSpec {
  return { routes: [{ mqttToKafka: route }] };
}
