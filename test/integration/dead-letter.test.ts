import { strict as assert } from "node:assert";
import mqtt from "mqtt";
import { uniqueName, kcatConsume, kcatProduce, mosquittoSub, mosquittoPub } from "../helpers/brokers";
import { kafkaToMqttMap, mqttToKafkaMap, type MapSpec } from "../helpers/config";
import { connectorFixture } from "../helpers/connector";
import { waitFor } from "../helpers/wait";

describe("dead letters, loop prevention and leaving shared groups (real brokers)", function () {
  const fx = connectorFixture("d");
  const b = fx.brokers;
  async function start(map: MapSpec, opts: { name?: string; instanceIndex?: number; leaveSharedOnStop?: boolean } = {}) {
    const r = await fx.start({
      name: opts.name,
      maps: [{ spec: map }],
      runtime: { instanceIndex: opts.instanceIndex ?? 0, ...(opts.leaveSharedOnStop === undefined ? {} : { leaveSharedOnStop: opts.leaveSharedOnStop }) },
    });
    return r.connector;
  }
  const header = (h: [string, string][], k: string) => h.find(([n]) => n === k)?.[1];

  it("mqttToKafka: an oversize message goes to the MQTT dead-letter topic and the route keeps flowing", async () => {
    const topic = uniqueName("dl");
    const mt = uniqueName("dl");
    const dlq = uniqueName("dlq");
    await b.kafka.createTopic(topic, 1);
    const c = await start(mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic, deadLetter: { mqttTopic: dlq } }));
    const sub = mosquittoSub(b.mqtt.url, dlq, { count: 1, timeoutMs: 20_000 });
    await sub.ready;
    const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    const big = Buffer.alloc(1_200_000, 120);
    await client.publishAsync(mt, big, { qos: 1, properties: { userProperties: { site: "s1" } } });
    await client.publishAsync(mt, "after-the-big-one", { qos: 1 });
    await client.endAsync();
    const [dead] = await sub.done;
    assert.equal(dead!.payload.length, big.length);
    const props = new Map(dead!.userProperties);
    assert.match(props.get("dlq-reason")!, /^oversize: \d+ bytes as a Kafka record, limit 983616$/);
    assert.equal(props.get("dlq-source-topic"), mt);
    assert.equal(props.get("dlq-route"), "r");
    assert.equal(props.get("site"), "s1");
    assert.ok(!Number.isNaN(Date.parse(props.get("dlq-time")!)));
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 1, timeoutMs: 10_000 });
    assert.equal(recs[0]!.value, "after-the-big-one");
    assert.equal(c.m2k[0]!.stats.deadLettered, 1);
  });

  it("mqttToKafka: a record over the topic's max.message.bytes is dead-lettered before it is sent, and batches stay under that limit", async () => {
    const topic = uniqueName("dlmax");
    const mt = uniqueName("dlmax");
    const dlq = uniqueName("dlmax-dead");
    await b.kafka.createTopic(topic, 1, { "max.message.bytes": "3000" });
    const c = await start(mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic, deadLetter: { mqttTopic: dlq } }));
    const sub = mosquittoSub(b.mqtt.url, dlq, { count: 1, timeoutMs: 20_000 });
    await sub.ready;
    // Ten 1,000-byte messages would make a 10 kB batch, which Kafka would refuse as a whole.
    const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    await client.publishAsync(mt, Buffer.alloc(5_000, 120), { qos: 1 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => client.publishAsync(mt, `${i}`.padEnd(1_000, "."), { qos: 1 })));
    await client.endAsync();
    const [dead] = await sub.done;
    assert.equal(dead!.payload.length, 5_000);
    assert.match(new Map(dead!.userProperties).get("dlq-reason")!, new RegExp(`^oversize: \\d+ bytes as a Kafka record, limit 2939 \\(topic ${topic} has max.message.bytes 3000\\)$`));
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 10, timeoutMs: 15_000 });
    assert.deepEqual(recs.map((r) => r.value!.split(".")[0]).sort(), ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    const s = c.m2k[0]!.stats;
    assert.equal(s.deadLettered, 1);
    assert.equal(s.sendErrors, 0, "Kafka refused nothing: no batch was split and sent again");
    assert.ok(s.maxBatch <= 2, `batches of at most two 1 kB records under a 3,000-byte limit, got ${s.maxBatch}`);
  });

  it("mqttToKafka: an oversize message to a Kafka dead-letter topic keeps the headers and records the size", async () => {
    const topic = uniqueName("dlk");
    const dlq = uniqueName("dlk-dead");
    const mt = uniqueName("dlk");
    await b.kafka.createTopic(topic, 1);
    await b.kafka.createTopic(dlq, 1);
    await start(mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic, deadLetter: { kafkaTopic: dlq } }));
    const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    await client.publishAsync(mt, Buffer.alloc(1_100_000, 1), { qos: 1 });
    await client.endAsync();
    const [d] = await kcatConsume(b.kafka.bootstrap, dlq, { count: 1, timeoutMs: 15_000 });
    assert.equal(d!.value, "");
    assert.equal(header(d!.headers, "dlq-payload-omitted-bytes"), "1100000");
    assert.equal(header(d!.headers, "dlq-source-topic"), mt);
    assert.match(header(d!.headers, "dlq-reason")!, /^oversize/);
  });

  it("mqttToKafka: a payload flagged UTF-8 that is not is dead-lettered, not forwarded", async () => {
    const topic = uniqueName("inv");
    const mt = uniqueName("inv");
    const dlq = uniqueName("inv-dead");
    await b.kafka.createTopic(topic, 1);
    const c = await start(mqttToKafkaMap({ name: "r", mqttTopic: mt, kafkaTopic: topic, deadLetter: { mqttTopic: dlq } }));
    const sub = mosquittoSub(b.mqtt.url, dlq, { count: 1, timeoutMs: 15_000 });
    await sub.ready;
    const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
    // mqtt.js does not validate and Mosquitto 2 passes it on, so the connector is the one that must notice.
    await client.publishAsync(mt, Buffer.from([0xff, 0xfe, 0x00]), { qos: 1, properties: { payloadFormatIndicator: true } });
    await client.publishAsync(mt, "valid", { qos: 1 });
    await client.endAsync();
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 1, timeoutMs: 10_000 });
    assert.equal(recs[0]!.value, "valid");
    const [dead] = await sub.done;
    assert.deepEqual([...dead!.payload], [0xff, 0xfe, 0x00]);
    assert.match(new Map(dead!.userProperties).get("dlq-reason")!, /^invalid: payload format indicator/);
    assert.equal(c.m2k[0]!.stats.deadLettered, 1);
  });

  it("kafkaToMqtt: a record MQTT would refuse goes to the Kafka dead-letter topic with its position, and the partition keeps flowing", async () => {
    const topic = uniqueName("kinv");
    const dlq = uniqueName("kinv-dead");
    const mt = uniqueName("kinv");
    await b.kafka.createTopic(topic, 1);
    await b.kafka.createTopic(dlq, 1);
    const c = await start(kafkaToMqttMap({ name: "r", kafkaTopic: topic, mqttTopic: mt, deadLetter: { kafkaTopic: dlq } }, { copyMqttProperties: true }));
    const sub = mosquittoSub(b.mqtt.url, mt, { count: 2, timeoutMs: 15_000 });
    await sub.ready;
    await kcatProduce(b.kafka.bootstrap, topic, [
      { value: "first" },
      { key: "k1", value: Buffer.from([0xc3, 0x28]), headers: [["mqtt-payload-format-indicator", "1"], ["origin", "plc"]] },
      { value: "third" },
    ]);
    assert.deepEqual((await sub.done).map((m) => m.text), ["first", "third"]);
    const [d] = await kcatConsume(b.kafka.bootstrap, dlq, { count: 1, timeoutMs: 10_000 });
    assert.deepEqual([...d!.valueBytes!], [0xc3, 0x28]);
    assert.equal(d!.key, "k1");
    assert.equal(header(d!.headers, "origin"), "plc");
    assert.equal(header(d!.headers, "dlq-source-partition"), "0");
    assert.equal(header(d!.headers, "dlq-source-offset"), "1");
    assert.match(header(d!.headers, "dlq-reason")!, /^invalid: payload format indicator/);
    assert.equal(c.k2m[0]!.stats.deadLettered, 1);
  });

  it("kafkaToMqtt without a dead-letter target drops and counts the poison record and flows on", async () => {
    const topic = uniqueName("kdrop");
    const mt = uniqueName("kdrop");
    await b.kafka.createTopic(topic, 1);
    const c = await start(kafkaToMqttMap({ name: "r", kafkaTopic: topic, mqttTopic: mt }, { copyMqttProperties: true }));
    const sub = mosquittoSub(b.mqtt.url, mt, { count: 1, timeoutMs: 15_000 });
    await sub.ready;
    await kcatProduce(b.kafka.bootstrap, topic, [{ value: Buffer.from([0xff]), headers: [["mqtt-payload-format-indicator", "1"]] }, { value: "next" }]);
    assert.deepEqual((await sub.done).map((m) => m.text), ["next"]);
    assert.equal(c.k2m[0]!.stats.dropped, 1);
  });

  it("a route pair that maps topics onto each other does not ping-pong", async () => {
    const topic = uniqueName("loop");
    const base = uniqueName("loop");
    await b.kafka.createTopic(topic, 1);
    const c = await start(
      { copyMqttProperties: true, routes: [{ kafkaToMqtt: { name: "out", kafkaTopic: topic, mqttTopic: `${base}/cmd` } }, { mqttToKafka: { name: "in", mqttTopic: `${base}/#`, kafkaTopic: topic } }] },
    );
    const sub = mosquittoSub(b.mqtt.url, `${base}/#`, { count: 5, timeoutMs: 4_000, allowFewer: true });
    await sub.ready;
    await kcatProduce(b.kafka.bootstrap, topic, [{ value: "once" }]);
    const seen = await sub.done;
    assert.equal(seen.length, 1, "published to MQTT exactly once");
    assert.ok(seen[0]!.userProperties.some(([k, v]) => k === "x-bridge-origin" && v === `default/${c.config.connector.metadata.name}`));
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 3, timeoutMs: 3_000, allowFewer: true });
    assert.deepEqual(recs.map((r) => r.value), ["once"], "nothing came back to Kafka");
    assert.equal(c.m2k[0]!.stats.loopSuppressed, 1);
    // A message from anyone else on the same topics still goes through.
    await mosquittoPub(b.mqtt.url, `${base}/from-device`, "device-data");
    const after = await kcatConsume(b.kafka.bootstrap, topic, { count: 2, timeoutMs: 10_000 });
    assert.deepEqual(after.map((r) => r.value), ["once", "device-data"]);
  });

  for (const leave of [true, false]) {
    it(`scale-down with a shared subscription: ${leave ? "the stopped instance leaves its group, nothing is stranded" : "--keep-shared-sessions strands messages in the orphaned session (documented)"}`, async function () {
      this.timeout(60_000);
      const topic = uniqueName("scale");
      const mt = uniqueName("scale");
      await b.kafka.createTopic(topic, 1);
      const name = uniqueName("scale").toLowerCase();
      const map = mqttToKafkaMap({ name: "r", mqttTopic: `${mt}/#`, kafkaTopic: topic, sharedSubscription: { groupName: "g", groupMinimumShareNumber: 1 } });
      const survivor = await start(map, { name, instanceIndex: 1, leaveSharedOnStop: leave });
      const leaving = await start(map, { name, instanceIndex: 0, leaveSharedOnStop: leave });
      assert.equal(await leaving.stop(10_000), true);
      fx.untrack(leaving);
      const client = await mqtt.connectAsync(b.mqtt.url, { protocolVersion: 5 });
      await Promise.all(Array.from({ length: 40 }, (_, i) => client.publishAsync(`${mt}/${i}`, `m${i}`, { qos: 1 })));
      await client.endAsync();
      const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 40, timeoutMs: leave ? 15_000 : 5_000, allowFewer: !leave });
      if (leave) {
        assert.equal(new Set(recs.map((r) => r.value)).size, 40, "all 40 reached Kafka through the remaining instance");
        await waitFor("survivor forwarded all", () => survivor.m2k[0]!.stats.delivered === 40);
      } else {
        assert.ok(recs.length < 40, `some messages wait in the stopped instance's session (got ${recs.length}/40)`);
      }
    });
  }
});
