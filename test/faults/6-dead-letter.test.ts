// Scenario 6: poison messages among a flowing QoS 1 stream, in both
// directions, each route with a dead-letter target:
//   MQTT→Kafka, deadLetter {mqttTopic}: messages over the connector's 1 MB
//     request budget (oversize), and messages Kafka itself refuses (the topic's
//     max.message.bytes is lowered to 200 kB after the connector has read it,
//     so Kafka, not the connector's precheck, refuses these 400 kB ones).
//   Kafka→MQTT, deadLetter {kafkaTopic}: records whose header
//     mqtt-payload-format-indicator is 1 but whose value is not UTF-8 (invalid:
//     MQTT v5 §3.3.2.3.2 requires well-formed UTF-8 then, and a broker may
//     refuse them with 0x99).
// Every poison message must reach the dead-letter target with the dlq-reason,
// dlq-source-topic, dlq-time and dlq-route headers / user properties, must not
// reach the normal target, and every other message must be delivered.
import { strict as assert } from "node:assert";
import type { IPublishPacket } from "mqtt";
import { ConfigResourceTypes } from "kafkajs";
import { kcatConsume } from "../helpers/kcat";
import { pollUntil, waitFor } from "../helpers/wait";
import { progress, ticker } from "./support/env";
import { faultScenario, makeTopology, note, scenarioFiles, TopicEndWatch, topologyConfig } from "./support/scenario";
import { awaitMqttDelivery, awaitTopicSettled, kafkaAdmin, KafkaLoad, locate, makePayload, MqttCollector, MqttLoad, parsePayload, printSummary, readTopic, SeqTally, topicEnd } from "./support/streams";

const N = 3_000;
const RATE = 500;
const TOPIC_MAX_MESSAGE_BYTES = 200_000;
/** mqtt→kafka: bigger than the connector's 1,000,000-byte request budget. */
const OVERSIZE = new Set([500, 1_500, 2_500]);
const OVERSIZE_BYTES = 1_200_000;
/** mqtt→kafka: within the connector's budget, over the topic's max.message.bytes. */
const KAFKA_REFUSED = new Set([1_000, 2_000]);
const KAFKA_REFUSED_BYTES = 400_000;
/** kafka→mqtt: payload format indicator 1 with bytes that are not UTF-8. */
const NOT_UTF8 = new Set([700, 1_400, 2_100]);

interface DeadLetter {
  seq: number | undefined;
  props: Record<string, string>;
  bytes: number;
}

/** The dlq-* fields every dead letter must carry, checked against what we know of the source. */
function checkDeadLetter(d: DeadLetter, sourceTopic: string, route: string, since: number): string[] {
  const problems: string[] = [];
  const p = d.props;
  if (!p["dlq-reason"]) problems.push("no dlq-reason");
  if (p["dlq-source-topic"] !== sourceTopic) problems.push(`dlq-source-topic ${JSON.stringify(p["dlq-source-topic"])}, expected ${JSON.stringify(sourceTopic)}`);
  if (!p["dlq-route"]?.includes(route)) problems.push(`dlq-route ${JSON.stringify(p["dlq-route"])} does not name route ${route}`);
  const raw = p["dlq-time"];
  const t = raw === undefined ? NaN : /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!(t >= since - 60_000 && t <= Date.now() + 60_000)) problems.push(`dlq-time ${JSON.stringify(raw)} is not a time during this run`);
  return problems.map((x) => `seq ${d.seq}: ${x}`);
}

function flatProps(userProperties: Record<string, string | string[]> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(userProperties ?? {})) out[k] = Array.isArray(v) ? v[0] ?? "" : v;
  return out;
}

describe("fault scenario 6: poison messages go to the dead-letter target, the stream flows on", function () {
  this.timeout(240_000);
  const s = faultScenario();

  it("dead-letters oversize, Kafka-refused and non-UTF-8 messages with dlq-* metadata; delivers the rest", async () => {
    const { brokers: b, scope } = s;
    const since = Date.now();
    const topo = makeTopology(6, { m2k: true, k2m: true });
    const m2k = topo.m2k!;
    const k2m = topo.k2m!;
    const m2kDlq = `faults/${topo.id}/dlq`;
    const k2mDlq = `faults-${topo.id}-dlq`;
    await b.kafka.createTopic(m2k.kafkaTopic, m2k.partitions);
    await b.kafka.createTopic(k2m.kafkaTopic, k2m.partitions);
    await b.kafka.createTopic(k2mDlq, 1);
    const files = scenarioFiles(
      "6-dead-letter",
      topologyConfig(b, topo, {
        map: { copyMqttProperties: true },
        m2k: { deadLetter: { mqttTopic: m2kDlq } },
        k2m: { deadLetter: { kafkaTopic: k2mDlq } },
      }),
    );
    const admin = kafkaAdmin(b.kafka.bootstrap);
    await admin.connect();
    scope.add(() => admin.disconnect());

    // Far ends: the k2m MQTT topic, and the m2k dead-letter MQTT topic.
    const k2mTally = new SeqTally("s6k", N, (seq) => seq % k2m.partitions); // lane: the source partition
    const k2mPoisonDelivered: number[] = [];
    const m2kDead: DeadLetter[] = [];
    const collector = new MqttCollector({
      url: b.mqtt.url,
      filter: [k2m.mqttTopic, m2kDlq],
      clientId: `${topo.id}-far-end`,
      onMessage: (topic: string, payload: Buffer, packet: IPublishPacket) => {
        if (topic === m2kDlq) {
          const props = flatProps(packet.properties?.userProperties as Record<string, string | string[]> | undefined);
          const seq = parsePayload(payload)?.seq ?? (props["seq"] !== undefined ? Number(props["seq"]) : undefined);
          m2kDead.push({ seq, props, bytes: payload.length });
          return;
        }
        const p = parsePayload(payload);
        if (p && NOT_UTF8.has(p.seq)) k2mPoisonDelivered.push(p.seq);
        k2mTally.offer(payload);
      },
    });
    await collector.start();
    scope.add(() => collector.stop());

    const proc = await s.startConnector(files, { label: "connector" });
    // Lowered only now: the connector read the default limit at start, so it sends these records and
    // Kafka refuses them, which exercises isolating a refused record (split, resend, dead-letter).
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: m2k.kafkaTopic, configEntries: [{ name: "max.message.bytes", value: String(TOPIC_MAX_MESSAGE_BYTES) }] }],
    });

    const mLoad = new MqttLoad({
      url: b.mqtt.url,
      topic: m2k.mqttTopic,
      tag: "s6m",
      count: N,
      ratePerSec: RATE,
      payloadBytes: 200,
      clientId: `${topo.id}-load`,
      override: (seq) => {
        const bytes = OVERSIZE.has(seq) ? OVERSIZE_BYTES : KAFKA_REFUSED.has(seq) ? KAFKA_REFUSED_BYTES : 200;
        return { payload: makePayload("s6m", seq, bytes), properties: { userProperties: { seq: String(seq) } } };
      },
    });
    const kLoad = new KafkaLoad({
      bootstrap: b.kafka.bootstrap,
      topic: k2m.kafkaTopic,
      partitions: k2m.partitions,
      tag: "s6k",
      count: N,
      ratePerSec: RATE,
      override: (seq) => ({
        headers: { "mqtt-payload-format-indicator": "1", seq: String(seq) },
        ...(NOT_UTF8.has(seq) ? { value: Buffer.concat([Buffer.from(`s6k|${seq}|`), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0])]) } : {}),
      }),
    });
    const inKafka = new TopicEndWatch(admin, m2k.kafkaTopic);
    scope.add(() => inKafka.stop());
    await Promise.all([mLoad.start(), kLoad.start()]);
    scope.add(() => mLoad.stop());
    scope.add(() => kLoad.stop());
    const stopTicker = ticker(5_000, () => `s6: mqtt→kafka ${mLoad.describe()}, in Kafka ${inKafka.value}, dead letters ${m2kDead.length} | kafka→mqtt ${kLoad.describe()}, received ${k2mTally.total}`);
    scope.add(stopTicker);

    await waitFor("both load generators to finish", () => mLoad.acked >= N && kLoad.produced >= N, 120_000, 250);
    progress(`s6: streams sent (${mLoad.describe()}; ${kLoad.describe()}); waiting for delivery`);
    const m2kPoison = new Set([...OVERSIZE, ...KAFKA_REFUSED]);
    await Promise.all([
      awaitTopicSettled(admin, m2k.kafkaTopic, N - m2kPoison.size, 90_000),
      awaitMqttDelivery({ tally: k2mTally, collector, timeoutMs: 90_000, distinct: N - NOT_UTF8.size }),
    ]);
    // Dead letters may trail the stream a little; wait for them (bounded) once the rest is in.
    await pollUntil(async () => m2kDead.length >= m2kPoison.size && ((await topicEnd(admin, k2mDlq)) ?? 0) >= NOT_UTF8.size, 20_000, 250);

    // mqtt→kafka: the Kafka topic must hold every seq but the poison ones.
    const m2kTally = new SeqTally("s6m", N);
    const m2kPoisonInKafka: number[] = [];
    await readTopic(b.kafka.bootstrap, m2k.kafkaTopic, (partition, head) => {
      const p = parsePayload(head);
      if (p && m2kPoison.has(p.seq)) m2kPoisonInKafka.push(p.seq);
      m2kTally.offer(head, partition);
    });
    // kafka→mqtt dead letters, with headers.
    const k2mDead: DeadLetter[] = (await kcatConsume(b.kafka.bootstrap, k2mDlq, { count: 1_000, timeoutMs: 20_000, exitAtEnd: true, allowFewer: true })).map((r) => ({
      seq: (r.valueBytes && parsePayload(r.valueBytes)?.seq) ?? (r.headers.find(([k]) => k === "seq") ? Number(r.headers.find(([k]) => k === "seq")![1]) : undefined),
      props: Object.fromEntries(r.headers),
      bytes: r.valueBytes?.length ?? 0,
    }));
    stopTicker();
    const exit = await proc.terminate();
    note(proc, `SIGTERM: exit ${exit.code}; ${proc.statsSummary()}`);

    // A dead-lettered message counts as received; lost = neither delivered nor dead-lettered.
    // (A poison message delivered to the normal target is not lost, but is reported as a problem below.)
    for (const d of m2kDead) if (d.seq !== undefined && m2kPoison.has(d.seq) && !m2kTally.has(d.seq)) m2kTally.addElsewhere(d.seq);
    for (const d of k2mDead) if (d.seq !== undefined && NOT_UTF8.has(d.seq) && !k2mTally.has(d.seq)) k2mTally.addElsewhere(d.seq);
    printSummary(6, [
      { label: "mqtt->kafka", sent: N, tally: m2kTally },
      { label: "kafka->mqtt", sent: N, tally: k2mTally },
    ]);
    if (m2kTally.duplicates) {
      const where = await locate(b.kafka.bootstrap, m2k.kafkaTopic, "s6m", m2kTally.duplicatedSeqs());
      progress(`s6: mqtt->kafka duplicates without any crash (partition:offset): ${[...where].map(([seq, at]) => `${seq} at ${at.join(" and ")}`).join("; ")}`);
    }
    const describeDead = (d: DeadLetter[]) => d.map((x) => `${x.seq}(${x.bytes} B, reason ${JSON.stringify(x.props["dlq-reason"])})`).join(", ") || "none";
    progress(`s6: mqtt->kafka dead letters on ${m2kDlq}: ${describeDead(m2kDead)}`);
    progress(`s6: kafka->mqtt dead letters on ${k2mDlq}: ${describeDead(k2mDead)}`);

    const problems: string[] = [];
    const deadSeqs = (d: DeadLetter[]) => d.map((x) => x.seq).filter((s): s is number => s !== undefined).sort((a, c) => a - c);
    const expect = (what: string, got: number[], want: number[]) => {
      if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${what}: got [${got.join(", ")}], expected [${want.join(", ")}]`);
    };
    expect("mqtt->kafka dead letters", deadSeqs(m2kDead), [...m2kPoison].sort((a, c) => a - c));
    expect("kafka->mqtt dead letters", deadSeqs(k2mDead), [...NOT_UTF8].sort((a, c) => a - c));
    expect("poison mqtt->kafka messages found in the Kafka topic", m2kPoisonInKafka, []);
    expect("non-UTF-8 records published to MQTT anyway", k2mPoisonDelivered, []);
    for (const d of m2kDead) problems.push(...checkDeadLetter(d, m2k.mqttTopic, m2k.route, since).map((x) => `mqtt->kafka dead letter ${x}`));
    for (const d of k2mDead) problems.push(...checkDeadLetter(d, k2m.kafkaTopic, k2m.route, since).map((x) => `kafka->mqtt dead letter ${x}`));
    if (problems.length) progress(`s6 problems:\n        ${problems.join("\n        ")}`);

    assert.equal(m2kTally.lost, 0, `mqtt->kafka: ${m2kTally.lost} messages neither delivered nor dead-lettered: ${m2kTally.missing()}`);
    assert.equal(k2mTally.lost, 0, `kafka->mqtt: ${k2mTally.lost} messages neither delivered nor dead-lettered: ${k2mTally.missing()}`);
    assert.deepEqual(problems, []);
  });
});
