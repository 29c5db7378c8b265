import { strict as assert } from "node:assert";
import mqtt from "mqtt";
import { uniqueName, kcatConsume, kcatProduce, mosquittoPub } from "../helpers/brokers";
import { mqttToKafkaMap, type MapSpec } from "../helpers/config";
import { connectorFixture } from "../helpers/connector";
import { waitFor } from "../helpers/wait";
import { installKafkajs } from "../../connector/ports/kafka/seam";

const murmur2 = installKafkajs().hash;
import { segmentCodecs } from "../helpers/segments";

describe("mqttToKafka (real Mosquitto and Kafka)", function () {
  const fx = connectorFixture("c");
  const b = fx.brokers;

  async function start(map: MapSpec, opts: { instanceIndex?: number; instances?: number; name?: string; receiveMaximum?: number } = {}) {
    const r = await fx.start({
      name: opts.name,
      connector: { instances: opts.instances ?? 1 },
      maps: [{ spec: map }],
      runtime: { instanceIndex: opts.instanceIndex ?? 0, ...(opts.receiveMaximum ? { receiveMaximum: opts.receiveMaximum } : {}) },
    });
    return r.connector;
  }
  const pub = (topic: string, msg: string, o: Parameters<typeof mosquittoPub>[3] = {}) => mosquittoPub(b.mqtt.url, topic, msg, o);

  it("forwards messages matching + and # wildcards at QoS 1, and nothing else", async () => {
    const topic = uniqueName("wild");
    const base = uniqueName("dev");
    await b.kafka.createTopic(topic, 1);
    await start({ routes: [{ mqttToKafka: { name: "plus", mqttTopic: `${base}/+/temp`, kafkaTopic: topic, qos: 1 } }, { mqttToKafka: { name: "hash", mqttTopic: `${base}/x/#`, kafkaTopic: topic, qos: 1 } }] });
    await pub(`${base}/a/temp`, "a-temp");
    await pub(`${base}/a/humidity`, "a-humidity"); // matches neither
    await pub(`${base}/x/y/z`, "x-deep");
    await pub(`${base}/b/temp`, "b-temp");
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 4, timeoutMs: 8000, allowFewer: true });
    assert.deepEqual(recs.map((r) => r.value).sort(), ["a-temp", "b-temp", "x-deep"]);
  });

  it("forwards at QoS 0 too", async () => {
    const topic = uniqueName("q0");
    const mt = uniqueName("q0");
    await b.kafka.createTopic(topic, 1);
    await start(mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic, qos: 0 }));
    await pub(mt, "zero", { qos: 0 });
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 1, timeoutMs: 8000 });
    assert.equal(recs[0]!.value, "zero");
  });

  it("delivers with kafkaAcks zero, one and all", async () => {
    const mt = uniqueName("acks");
    const topics = { zero: uniqueName("acks0"), one: uniqueName("acks1"), all: uniqueName("acksall") };
    for (const t of Object.values(topics)) await b.kafka.createTopic(t, 1);
    await start({ routes: (Object.entries(topics) as [keyof typeof topics, string][]).map(([a, t]) => ({ mqttToKafka: { name: a, mqttTopic: mt, kafkaTopic: t, kafkaAcks: a } })) });
    await pub(mt, "acked");
    for (const t of Object.values(topics)) {
      const recs = await kcatConsume(b.kafka.bootstrap, t, { count: 1, timeoutMs: 8000 });
      assert.equal(recs[0]!.value, "acked", t);
    }
  });

  it("partitionStrategy topic: key is the MQTT topic, partition matches librdkafka's murmur2 for the same key", async () => {
    const topic = uniqueName("ptopic");
    const base = uniqueName("pt");
    await b.kafka.createTopic(topic, 6);
    await start(mqttToKafkaMap({ name: "r", mqttTopic: `${base}/#`, kafkaTopic: topic }, { partitionStrategy: "topic" }));
    const mqttTopics = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `${base}/s${i}`);
    for (const t of mqttTopics) await pub(t, `v-${t}`);
    const ours = await kcatConsume(b.kafka.bootstrap, topic, { count: 8, timeoutMs: 8000 });
    // An independent producer (librdkafka, Java-compatible murmur2) writes the same keys to a second topic.
    const peer = uniqueName("ptopic-peer");
    await b.kafka.createTopic(peer, 6);
    await kcatProduce(b.kafka.bootstrap, peer, mqttTopics.map((t) => ({ key: t, value: "x" })), { config: { partitioner: "murmur2_random" } });
    const theirs = await kcatConsume(b.kafka.bootstrap, peer, { count: 8, timeoutMs: 8000 });
    const peerPartition = new Map(theirs.map((r) => [r.key, r.partition]));
    for (const r of ours) {
      assert.equal(r.key, r.value!.slice(2), "key is the MQTT topic");
      assert.equal(r.partition, peerPartition.get(r.key), `partition of key ${r.key}`);
      assert.equal(r.partition, (murmur2(Buffer.from(r.key!)) & 0x7fffffff) % 6);
    }
    assert.ok(new Set(ours.map((r) => r.partition)).size > 1, "keys spread over partitions");
  });

  it("partitionStrategy property: key is the user property; without it the record has no key", async () => {
    const topic = uniqueName("pprop");
    const mt = uniqueName("pp");
    await b.kafka.createTopic(topic, 4);
    await start(mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic }, { partitionStrategy: "property", partitionKeyProperty: "device-id" }));
    for (let i = 0; i < 6; i++) await pub(mt, `m${i}`, { userProps: [["device-id", `d${i % 2}`]] });
    await pub(mt, "nokey");
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 7, timeoutMs: 8000 });
    const byKey = new Map<string | null, Set<number>>();
    for (const r of recs) (byKey.get(r.key) ?? byKey.set(r.key, new Set()).get(r.key)!).add(r.partition);
    assert.equal(byKey.get("d0")!.size, 1, "d0 always on one partition");
    assert.equal(byKey.get("d1")!.size, 1, "d1 always on one partition");
    assert.equal(recs.find((r) => r.value === "nokey")!.key, null);
  });

  it("partitionStrategy static: every record goes to instanceIndex mod partitions", async () => {
    const topic = uniqueName("pstatic");
    const mt = uniqueName("ps");
    await b.kafka.createTopic(topic, 4);
    await start(mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic }, { partitionStrategy: "static" }), { instanceIndex: 6 });
    for (let i = 0; i < 5; i++) await pub(mt, `s${i}`);
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 5, timeoutMs: 8000 });
    assert.deepEqual(new Set(recs.map((r) => r.partition)), new Set([2]));
  });

  it("partitionStrategy default: round robin over all partitions", async () => {
    const topic = uniqueName("prr");
    const mt = uniqueName("prr");
    await b.kafka.createTopic(topic, 3);
    await start(mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic }));
    for (let i = 0; i < 6; i++) await pub(mt, `r${i}`);
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 6, timeoutMs: 8000 });
    const counts = [0, 1, 2].map((p) => recs.filter((r) => r.partition === p).length);
    assert.deepEqual(counts, [2, 2, 2]);
    assert.ok(recs.every((r) => r.key === null));
  });

  it("copyMqttProperties puts user and system properties into headers", async () => {
    const topic = uniqueName("props");
    const mt = uniqueName("props");
    await b.kafka.createTopic(topic, 1);
    await start(mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic }, { copyMqttProperties: true }));
    await pub(mt, "{}", {
      userProps: [["site", "plant-7"], ["tag", "a"], ["tag", "b"]],
      contentType: "application/json",
      responseTopic: "replies/x",
      correlationData: "corr-1",
      payloadFormatIndicator: 1,
      messageExpiryInterval: 300,
    });
    const [r] = await kcatConsume(b.kafka.bootstrap, topic, { count: 1, timeoutMs: 8000 });
    const h = r!.headers;
    assert.deepEqual(h.filter(([k]) => k === "tag").map(([, v]) => v), ["a", "b"]);
    const one = (k: string) => h.find(([n]) => n === k)?.[1];
    assert.equal(one("site"), "plant-7");
    assert.equal(one("mqtt-topic"), mt);
    assert.equal(one("mqtt-content-type"), "application/json");
    assert.equal(one("mqtt-response-topic"), "replies/x");
    assert.equal(one("mqtt-correlation-data"), "corr-1");
    assert.equal(one("mqtt-payload-format-indicator"), "1");
    assert.ok(Number(one("mqtt-message-expiry-interval")) <= 300 && Number(one("mqtt-message-expiry-interval")) > 290);
  });

  it("without copyMqttProperties no headers are written", async () => {
    const topic = uniqueName("noprops");
    const mt = uniqueName("noprops");
    await b.kafka.createTopic(topic, 1);
    await start(mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic }));
    await pub(mt, "plain", { userProps: [["site", "x"]] });
    const [r] = await kcatConsume(b.kafka.bootstrap, topic, { count: 1, timeoutMs: 8000 });
    assert.deepEqual(r!.headers, []);
  });

  for (const codec of ["gzip", "snappy", "lz4"] as const) {
    it(`compression ${codec}: kcat (librdkafka) decodes what we wrote`, async () => {
      const topic = uniqueName(`c-${codec}`);
      const mt = uniqueName(codec);
      await b.kafka.createTopic(topic, 1);
      await start({ compression: codec, batching: { enabled: true, latencyMs: 50 }, routes: [{ mqttToKafka: { name: "r", mqttTopic: mt, kafkaTopic: topic } }] });
      const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
      const payloads = Array.from({ length: 50 }, (_, i) => `${codec}-${i}-${"compressible ".repeat(20)}`);
      await Promise.all(payloads.map((p) => client.publishAsync(mt, p, { qos: 1 })));
      await client.endAsync();
      const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 50, timeoutMs: 10000 });
      assert.deepEqual(recs.map((r) => r.value).sort(), [...payloads].sort());
      assert.deepEqual(await segmentCodecs(b.kafka, topic), [codec], "codec recorded in the broker's log segment");
    });
  }

  it("batching cuts at maxMessages", async () => {
    const topic = uniqueName("batch");
    const mt = uniqueName("batch");
    await b.kafka.createTopic(topic, 1);
    const c = await start({ batching: { enabled: true, latencyMs: 200, maxMessages: 10 }, routes: [{ mqttToKafka: { name: "r", mqttTopic: mt, kafkaTopic: topic } }] });
    const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    await Promise.all(Array.from({ length: 95 }, (_, i) => client.publishAsync(mt, `b${i}`, { qos: 1 })));
    await client.endAsync();
    await kcatConsume(b.kafka.bootstrap, topic, { count: 95, timeoutMs: 10000 });
    const s = c.m2k[0]!.stats;
    assert.equal(s.delivered, 95);
    assert.equal(s.maxBatch, 10);
    assert.ok(s.batches >= 10, `95 messages in batches of at most 10 need at least 10 sends, got ${s.batches}`);
  });

  it("sharedSubscription: groupMinimumShareNumber clients share the load, each message once", async () => {
    const topic = uniqueName("shared");
    const mt = uniqueName("shared");
    await b.kafka.createTopic(topic, 1);
    const c = await start(mqttToKafkaMap({ name: "r", mqttTopic: `${mt}/#`, kafkaTopic: topic, sharedSubscription: { groupName: "g1", groupMinimumShareNumber: 3 } }));
    const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    await Promise.all(Array.from({ length: 60 }, (_, i) => client.publishAsync(`${mt}/${i}`, `m${i}`, { qos: 1 })));
    await client.endAsync();
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 60, timeoutMs: 10000 });
    assert.equal(new Set(recs.map((r) => r.value)).size, 60);
    const per = Object.values(c.m2k[0]!.stats.receivedByClient);
    assert.equal(per.length, 3, "three MQTT clients received messages");
    assert.equal(per.reduce((a, x) => a + x, 0), 60);
    assert.deepEqual(Object.keys(c.m2k[0]!.stats.receivedByClient).map((id) => id.replace(/^.*-r-/, "")).sort(), ["0", "1", "2"]);
  });

  it("instances: 2 share a route without sharedSubscription: each message reaches Kafka once, and both instances take part", async function () {
    this.timeout(60_000);
    const topic = uniqueName("inst");
    const mt = uniqueName("inst");
    const name = uniqueName("two").toLowerCase();
    await b.kafka.createTopic(topic, 1);
    const map = mqttToKafkaMap({ name: "r", mqttTopic: `${mt}/#`, kafkaTopic: topic });
    const [i0, i1] = [await start(map, { name, instances: 2, instanceIndex: 0 }), await start(map, { name, instances: 2, instanceIndex: 1 })];
    const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    await Promise.all(Array.from({ length: 100 }, (_, i) => client.publishAsync(`${mt}/${i}`, `m${i}`, { qos: 1 })));
    await client.endAsync();
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 200, timeoutMs: 8000, allowFewer: true });
    assert.equal(recs.length, 100, "each message once, not once per instance");
    assert.equal(new Set(recs.map((r) => r.value)).size, 100);
    const counts = [i0, i1].map((c) => c.m2k[0]!.stats.received);
    assert.ok(counts.every((n) => n > 0), `both instances took messages (got ${counts.join(" and ")})`);
    assert.deepEqual(Object.keys(i0.m2k[0]!.stats.receivedByClient).length, 1);
  });

  it("a session kept from instances: 1 does not deliver twice after a restart with instances: 2", async function () {
    this.timeout(60_000);
    const topic = uniqueName("resub");
    const mt = uniqueName("resub");
    const name = uniqueName("re").toLowerCase();
    await b.kafka.createTopic(topic, 1);
    const map = mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic });
    const single = await start(map, { name, instances: 1 });
    fx.untrack(single);
    assert.equal(await single.stop(10_000), true);
    await start(map, { name, instances: 2, instanceIndex: 0 });
    const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.publishAsync(mt, `s${i}`, { qos: 1 })));
    await client.endAsync();
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 100, timeoutMs: 6000, allowFewer: true });
    assert.equal(recs.length, 50, "the plain subscription of the old session was dropped");
  });

  it("QoS 1: messages in flight stay within Receive Maximum while a backlog drains after a Kafka outage", async function () {
    this.timeout(120_000);
    const topic = uniqueName("rm");
    const mt = uniqueName("rm");
    await b.kafka.createTopic(topic, 1);
    const receiveMaximum = 20;
    const c = await start(mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic }), { receiveMaximum });
    const route = c.m2k[0]!;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, route.inFlight)), 1);
    const total = 3000;
    try {
      await b.kafka.stop();
      try {
        const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
        for (let i = 0; i < total; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => client.publishAsync(mt, `m${i + j}`, { qos: 1 })));
        await client.endAsync();
      } finally {
        await b.kafka.start();
      }
      await waitFor("the backlog to drain", () => route.stats.delivered >= total, 60_000);
    } finally {
      clearInterval(sampler);
    }
    assert.ok(peak <= receiveMaximum + 1, `peak in flight ${peak}, Receive Maximum ${receiveMaximum}`);
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: total, timeoutMs: 20_000 });
    assert.equal(new Set(recs.map((r) => r.value)).size, total);
  });

  it("QoS 1: no PUBACK before the Kafka ack, so a connector stopped during a Kafka outage loses nothing", async function () {
    this.timeout(180_000);
    const topic = uniqueName("puback");
    const mt = uniqueName("puback");
    const name = uniqueName("held").toLowerCase();
    await b.kafka.createTopic(topic, 1);
    const map = mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic });
    const first = await start(map, { name });
    await b.kafka.stop();
    try {
      await pub(mt, "held");
      await waitFor("the message to reach the connector", () => first.m2k[0]!.inFlight === 1, 10_000);
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(first.m2k[0]!.inFlight, 1, "still unacknowledged while Kafka is down");
      assert.equal(first.m2k[0]!.stats.delivered, 0);
      // Give up draining at once: the connector disconnects without having sent the PUBACK.
      assert.equal(await first.stop(200), false, "drain cannot complete while Kafka is down");
    } finally {
      await b.kafka.start();
    }
    // Same name, so same client IDs: Mosquitto resumes the session and redelivers the unacknowledged message.
    const second = await start(map, { name });
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 1, timeoutMs: 30_000 });
    assert.equal(recs[0]!.value, "held");
    await waitFor("the redelivered message to be acknowledged", () => second.m2k[0]!.inFlight === 0 && second.m2k[0]!.stats.delivered >= 1, 30_000);
  });

});
