import { strict as assert } from "node:assert";
import mqtt from "mqtt";
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from "kafkajs";
import { committedOffsets, uniqueName, kcatProduce, mosquittoSub, mosquittoPub } from "../helpers/brokers";
import { segmentCodecs } from "../helpers/segments";
import { kafkaToMqttMap, type MapSpec } from "../helpers/config";
import { connectorFixture } from "../helpers/connector";
import { waitFor } from "../helpers/wait";

describe("kafkaToMqtt (real Kafka and Mosquitto)", function () {
  const fx = connectorFixture("k");
  const b = fx.brokers;

  async function start(map: MapSpec) {
    return (await fx.start({ maps: [{ spec: map }] })).connector;
  }

  /** Partition 0's committed offset (-1: none). */
  async function committedOffset(groupId: string, topic: string): Promise<number> {
    return (await committedOffsets(b.kafka.bootstrap, groupId, topic)).get(0) ?? -1;
  }

  it("publishes Kafka records (written by kcat) to MQTT, seen by mosquitto_sub, with headers as user properties", async () => {
    const topic = uniqueName("k2m");
    const mt = uniqueName("cmd");
    await b.kafka.createTopic(topic, 1);
    await start(kafkaToMqttMap({ name: "r", kafkaTopic: topic, mqttTopic: mt, qos: 1 }, { copyMqttProperties: true }));
    const sub = mosquittoSub(b.mqtt.url, mt, { count: 3, timeoutMs: 15_000 });
    await sub.ready;
    await kcatProduce(b.kafka.bootstrap, topic, [
      { value: "one", headers: [["issuer", "ops"], ["mqtt-content-type", "text/plain"]] },
      { value: "two", headers: [["mqtt-response-topic", "replies/7"], ["mqtt-correlation-data", "c-7"]] },
      { value: "three" },
    ]);
    const msgs = await sub.done;
    assert.deepEqual(msgs.map((m) => m.text), ["one", "two", "three"]);
    assert.deepEqual(msgs[0]!.userProperties, [["issuer", "ops"]]);
    assert.equal(msgs[0]!.contentType, "text/plain");
    assert.equal(msgs[1]!.responseTopic, "replies/7");
    assert.equal(msgs[1]!.correlationData, "c-7");
    assert.equal(msgs[0]!.qos, 1);
  });

  it("publishes at QoS 0 and commits at once", async () => {
    const topic = uniqueName("k2m0");
    const mt = uniqueName("q0");
    const group = uniqueName("g0");
    await b.kafka.createTopic(topic, 1);
    await start(kafkaToMqttMap({ name: "r", kafkaTopic: topic, mqttTopic: mt, qos: 0, consumerGroupId: group }));
    const sub = mosquittoSub(b.mqtt.url, mt, { count: 2, timeoutMs: 15_000, qos: 0 });
    await sub.ready;
    await kcatProduce(b.kafka.bootstrap, topic, [{ value: "a" }, { value: "b" }]);
    const msgs = await sub.done;
    assert.deepEqual(msgs.map((m) => [m.text, m.qos]), [["a", 0], ["b", 0]]);
    await waitFor("offset commit", async () => (await committedOffset(group, topic)) === 2, 15_000);
  });

  it("decodes zstd batches written by kcat -z zstd, and keeps flowing with the uncompressed records after them", async () => {
    const topic = uniqueName("zstd");
    const mt = uniqueName("zstd");
    await b.kafka.createTopic(topic, 1);
    await start(kafkaToMqttMap({ name: "r", kafkaTopic: topic, mqttTopic: mt, qos: 1, consumerGroupId: uniqueName("zg") }));
    const sub = mosquittoSub(b.mqtt.url, mt, { count: 5, timeoutMs: 20_000 });
    await sub.ready;
    // librdkafka sends a batch uncompressed when compression would not shrink it: these do shrink.
    const big = (s: string) => `${s}:${"reading ".repeat(200)}`;
    await kcatProduce(b.kafka.bootstrap, topic, [{ value: big("z1") }, { value: big("z2") }, { value: big("z3") }], { config: { "compression.codec": "zstd" } });
    assert.deepEqual(await segmentCodecs(b.kafka, topic), ["zstd"], "kcat wrote zstd batches");
    await kcatProduce(b.kafka.bootstrap, topic, [{ value: "plain1" }, { value: "plain2" }]);
    assert.deepEqual((await sub.done).map((m) => m.text), [big("z1"), big("z2"), big("z3"), "plain1", "plain2"]);
  });

  it("a consumer crash kafkajs would not restart from (a codec it lacks) is restarted with backoff; the route reports not ready meanwhile and loses nothing", async function () {
    this.timeout(90_000);
    const topic = uniqueName("crash");
    const mt = uniqueName("crash");
    await b.kafka.createTopic(topic, 1);
    const codecs = CompressionCodecs as Record<number, unknown>;
    const zstd = codecs[CompressionTypes.ZSTD];
    const c = await start(kafkaToMqttMap({ name: "r", kafkaTopic: topic, mqttTopic: mt, qos: 1, consumerGroupId: uniqueName("cg") }));
    const sub = mosquittoSub(b.mqtt.url, mt, { count: 3, timeoutMs: 60_000 });
    await sub.ready;
    assert.equal(c.ready, true);
    // What kafkajs ships with: KafkaJSNotImplemented, a crash it does not restart from.
    const { KafkaJSNotImplemented } = require("kafkajs/src/errors") as { KafkaJSNotImplemented: new (m: string) => Error };
    codecs[CompressionTypes.ZSTD] = () => {
      throw new KafkaJSNotImplemented("ZSTD compression not implemented");
    };
    try {
      await kcatProduce(b.kafka.bootstrap, topic, [{ value: `a${"x".repeat(2000)}` }, { value: `b${"x".repeat(2000)}` }], { config: { "compression.codec": "zstd" } });
      await kcatProduce(b.kafka.bootstrap, topic, [{ value: "c" }]);
      await waitFor("the route to report the crash", () => !c.ready, 20_000);
      assert.equal(c.routeStates()[Object.keys(c.routeStates())[0]!]!.connected, false, "/readyz shows the route down");
      c.refreshGauges();
      const text = await c.metrics.registry.metrics();
      assert.match(text, /mqtt_kafka_connector_route_ready\{[^}]*route="r"[^}]*\} 0/);
      assert.match(text, /mqtt_kafka_connector_errors_total\{[^}]*kind="consumer_crash"[^}]*\} [1-9]/);
    } finally {
      codecs[CompressionTypes.ZSTD] = zstd;
    }
    assert.deepEqual((await sub.done).map((m) => m.text[0]), ["a", "b", "c"], "after the restart everything arrives, in order");
    await waitFor("ready again", () => c.ready, 30_000);
  });

  it("message expiry counts down the time a record waited in Kafka, and an expired message is dropped and counted", async () => {
    const topic = uniqueName("exp");
    const mt = uniqueName("exp");
    await b.kafka.createTopic(topic, 1);
    const c = await start(kafkaToMqttMap({ name: "r", kafkaTopic: topic, mqttTopic: mt, qos: 1, consumerGroupId: uniqueName("eg") }, { copyMqttProperties: true }));
    const sub = mosquittoSub(b.mqtt.url, mt, { count: 2, timeoutMs: 15_000 });
    await sub.ready;
    // kcat cannot set a record timestamp; a kafkajs producer in the test can.
    const producer = new Kafka({ brokers: [b.kafka.bootstrap], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const now = Date.now();
    const exp = (seconds: number) => ({ "mqtt-message-expiry-interval": String(seconds) });
    await producer.send({
      topic,
      messages: [
        { value: "waited-20s-of-60", timestamp: String(now - 20_000), headers: exp(60) },
        { value: "waited-20s-of-10", timestamp: String(now - 20_000), headers: exp(10) },
        { value: "fresh-of-30", timestamp: String(now), headers: exp(30) },
      ],
    });
    await producer.disconnect();
    const msgs = await sub.done;
    assert.deepEqual(msgs.map((m) => m.text), ["waited-20s-of-60", "fresh-of-30"]);
    assert.ok(msgs[0]!.messageExpiryInterval! <= 40 && msgs[0]!.messageExpiryInterval! >= 35, `about 40 s left, got ${msgs[0]!.messageExpiryInterval}`);
    assert.ok(msgs[1]!.messageExpiryInterval! <= 30 && msgs[1]!.messageExpiryInterval! >= 25, `about 30 s left, got ${msgs[1]!.messageExpiryInterval}`);
    assert.equal(c.k2m[0]!.stats.droppedBy.expired, 1);
    assert.match(await c.metrics.registry.metrics(), /dropped_total\{[^}]*reason="expired"[^}]*\} 1/);
  });

  it("uses consumerGroupId, defaulting to the route name", async () => {
    const topic = uniqueName("grp");
    await b.kafka.createTopic(topic, 1);
    const route = uniqueName("route");
    const c = await start({ routes: [{ kafkaToMqtt: { name: route, kafkaTopic: topic, mqttTopic: `x/${route}` } }, { kafkaToMqtt: { name: `${route}-b`, kafkaTopic: topic, mqttTopic: `y/${route}`, consumerGroupId: `custom-${route}` } }] });
    assert.deepEqual(c.k2m.map((p) => p.groupId), [route, `custom-${route}`]);
    const sub = mosquittoSub(b.mqtt.url, [`x/${route}`, `y/${route}`], { count: 2, timeoutMs: 15_000 });
    await sub.ready;
    await kcatProduce(b.kafka.bootstrap, topic, [{ value: "both groups get me" }]);
    assert.deepEqual((await sub.done).map((m) => m.topic).sort(), [`x/${route}`, `y/${route}`]);
  });

  it("publishes each partition on its own MQTT connection, keeping each partition's order (seen by mosquitto_sub)", async function () {
    this.timeout(60_000);
    const topic = uniqueName("lanes");
    const mt = uniqueName("lanes");
    await b.kafka.createTopic(topic, 3);
    const route = uniqueName("ln");
    const c = await start(kafkaToMqttMap({ name: route, kafkaTopic: topic, mqttTopic: mt, qos: 1 }));
    assert.equal(c.k2m[0]!.connections, 3, "one connection per partition (default cap 4, topic has 3)");
    const sub = mosquittoSub(b.mqtt.url, mt, { count: 300, timeoutMs: 30_000 });
    await sub.ready;
    await kcatProduce(b.kafka.bootstrap, topic, Array.from({ length: 300 }, (_, i) => ({ value: `p${i % 3}-${Math.floor(i / 3)}`, partition: i % 3 })));
    const msgs = (await sub.done).map((m) => m.text);
    assert.equal(new Set(msgs).size, 300, "every record arrived once");
    for (const p of [0, 1, 2]) {
      const seq = msgs.filter((t) => t.startsWith(`p${p}-`)).map((t) => Number(t.split("-")[1]));
      assert.deepEqual(seq, Array.from({ length: 100 }, (_, i) => i), `partition ${p} in order`);
    }
  });

  it("publishes on one connection when told to (--kafka-to-mqtt-connections 1)", async () => {
    const topic = uniqueName("lane1");
    await b.kafka.createTopic(topic, 3);
    const r = await fx.start({ maps: [{ spec: kafkaToMqttMap({ name: "one", kafkaTopic: topic, mqttTopic: uniqueName("l1") }) }], runtime: { kafkaToMqttConnections: 1 } });
    assert.equal(r.connector.k2m[0]!.connections, 1);
  });

  it("QoS 1: offsets are committed only after PUBACK; a restarted connector resumes without loss or duplicates", async function () {
    this.timeout(120_000);
    const topic = uniqueName("resume");
    const mt = uniqueName("resume");
    const group = uniqueName("rg");
    await b.kafka.createTopic(topic, 2);
    const map = kafkaToMqttMap({ name: "r", kafkaTopic: topic, mqttTopic: mt, qos: 1, consumerGroupId: group });
    // A persistent listener so nothing published while the connector restarts is missed.
    const listener = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5, clientId: uniqueName("listen"), clean: false, properties: { sessionExpiryInterval: 300 } });
    const seen: string[] = [];
    listener.on("message", (_t, p) => seen.push(p.toString()));
    await listener.subscribeAsync(mt, { qos: 1 });

    const first = await start(map);
    const batch1 = Array.from({ length: 200 }, (_, i) => ({ value: `n${i}`, partition: i % 2 }));
    await kcatProduce(b.kafka.bootstrap, topic, batch1);
    await waitFor("first 200 on MQTT", () => seen.length >= 200, 30_000);
    assert.equal(await first.stop(10_000), true, "drain completed");
    fx.untrack(first);

    const offsets = await committedOffsets(b.kafka.bootstrap, group, topic);
    assert.deepEqual([...offsets.values()].sort(), [100, 100], "drain committed everything that was PUBACKed");

    await kcatProduce(b.kafka.bootstrap, topic, Array.from({ length: 100 }, (_, i) => ({ value: `n${200 + i}`, partition: i % 2 })));
    await start(map);
    await waitFor("all 300 on MQTT", () => seen.length >= 300, 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    await listener.endAsync();
    const unique = new Set(seen);
    assert.equal(unique.size, 300, "no loss");
    assert.equal(seen.length, 300, "no duplicates");
  });

  it("QoS 1: while the MQTT broker is down nothing is PUBACKed, so the committed offset does not move", async function () {
    this.timeout(120_000);
    const topic = uniqueName("hold");
    const mt = uniqueName("hold");
    const group = uniqueName("hg");
    await b.kafka.createTopic(topic, 1);
    const c = await start(kafkaToMqttMap({ name: "r", kafkaTopic: topic, mqttTopic: mt, qos: 1, consumerGroupId: group }));
    await kcatProduce(b.kafka.bootstrap, topic, Array.from({ length: 5 }, (_, i) => ({ value: `before-${i}` })));
    await waitFor("first 5 committed", async () => (await committedOffset(group, topic)) === 5, 20_000);
    await b.mqtt.stop();
    try {
      await kcatProduce(b.kafka.bootstrap, topic, Array.from({ length: 5 }, (_, i) => ({ value: `during-${i}` })));
      await new Promise((r) => setTimeout(r, 4000)); // four commit intervals
      assert.equal(await committedOffset(group, topic), 5, "no commit past unacknowledged messages");
      assert.equal(c.k2m[0]!.stats.delivered, 5);
    } finally {
      await b.mqtt.start();
    }
    await waitFor("the held messages to be PUBACKed and committed", async () => (await committedOffset(group, topic)) === 10, 60_000);
    assert.equal(c.k2m[0]!.stats.delivered, 10);
  });

  it("round trip MQTT -> Kafka -> MQTT keeps user properties, content type, correlation data and response topic", async () => {
    const topic = uniqueName("rt");
    const inTopic = uniqueName("rt-in");
    const outTopic = uniqueName("rt-out");
    await b.kafka.createTopic(topic, 1);
    await start({ copyMqttProperties: true, routes: [{ mqttToKafka: { name: "in", mqttTopic: inTopic, kafkaTopic: topic } }, { kafkaToMqtt: { name: "out", kafkaTopic: topic, mqttTopic: outTopic } }] });
    const sub = mosquittoSub(b.mqtt.url, outTopic, { count: 1, timeoutMs: 15_000 });
    await sub.ready;
    await mosquittoPub(b.mqtt.url, inTopic, "payload-rt", {
      userProps: [["site", "plant-7"], ["tag", "a"], ["tag", "b"]],
      contentType: "application/json",
      correlationData: "corr-42",
      responseTopic: "replies/42",
    });
    const [m] = await sub.done;
    assert.equal(m!.text, "payload-rt");
    assert.deepEqual(m!.userProperties, [["site", "plant-7"], ["tag", "a"], ["tag", "b"]]);
    assert.equal(m!.contentType, "application/json");
    assert.equal(m!.correlationData, "corr-42");
    assert.equal(m!.responseTopic, "replies/42");
  });
});
