// Scenario 4: a 30 s Kafka outage under steady MQTT load. The connector must
// stop acknowledging (the backlog stays queued in Mosquitto, for the
// connector's persistent session), keep its own memory bounded, and deliver
// everything once Kafka is back. RSS is sampled from /proc/<pid>/status.
import { strict as assert } from "node:assert";
import { delay as sleep, waitFor } from "../helpers/wait";
import { progress, secondsUntilGrowth, ticker } from "./support/env";
import { createTopics, faultScenario, makeTopology, note, scenarioFiles, TopicEndWatch, topologyConfig } from "./support/scenario";
import { awaitKafkaDelivery, kafkaAdmin, MqttLoad, printSummary } from "./support/streams";

const OUTAGE_MS = 30_000;
/** 8 KiB messages at 1,000/s: about 8 MB/s, so the 30 s outage piles up ~250 MB at the broker. */
const PAYLOAD = 8 * 1024;
const RATE = 1_000;
/** 40 s of stream: ~5 s before the outage, the outage (plus stop/start time), and the rest after. */
const N = 40_000;
/** Passed to the connector as --receive-maximum: what the broker may have in flight to it. */
const RECEIVE_MAXIMUM = 1_000;
/**
 * Bound on the connector's RSS while Kafka is down: the buffering claim.
 *
 * While Kafka is down the connector may hold only what the broker has in
 * flight to it, capped by Receive Maximum (1,000 x 8 KiB = 8 MiB on the one
 * subscription), plus one Kafka batch of at most 1 MB being retried. Node 20
 * with kafkajs, mqtt.js, pino and prom-client runs at ~90 MB idle and ~145 MB
 * at this load. 250 MB leaves ~100 MB of headroom over that, yet it is below
 * what buffering the outage would take: Mosquitto accepts ~240 MB of messages
 * during the 30 s, so a connector that acknowledged and held them would cross it.
 */
const OUTAGE_RSS_BOUND_MB = 250;
/**
 * Bound on the connector's RSS over the whole scenario, including the catch-up after Kafka
 * returns. The same 250 MB: the connector holds the broker to our Receive Maximum even while it
 * drains the ~240 MB backlog, so catching up needs no more memory than the steady state (measured
 * ~185 MB peak; before the connector enforced Receive Maximum itself, Mosquitto 2.0.11 pushed it
 * to ~450 MB here).
 */
const RSS_BOUND_MB = OUTAGE_RSS_BOUND_MB;

describe("fault scenario 4: 30 s Kafka outage under steady load, memory bounded", function () {
  this.timeout(300_000);
  const s = faultScenario();

  it(`keeps RSS under ${OUTAGE_RSS_BOUND_MB} MB during the outage and while catching up; delivers everything afterwards`, async () => {
    const { brokers: b, scope } = s;
    const topo = makeTopology(4, { m2k: true, k2m: false });
    const m2k = topo.m2k!;
    await createTopics(b, topo);
    const files = scenarioFiles("4-kafka-outage-memory", topologyConfig(b, topo));
    const admin = kafkaAdmin(b.kafka.bootstrap);
    await admin.connect();
    scope.add(() => admin.disconnect());

    const proc = await s.startConnector(files, { label: "connector", receiveMaximum: RECEIVE_MAXIMUM });
    note(proc, `RSS ${proc.rssMb()?.toFixed(0)} MB`);

    // RSS every 250 ms, by phase; heap/external from /metrics every second, to explain the peaks.
    let phase: "before" | "outage" | "after" = "before";
    const peak = { before: 0, outage: 0, after: 0 };
    let lastMem = "";
    let maxInFlight = 0;
    let maxBufferedMb = 0;
    const atPeak = { before: "", outage: "", after: "" };
    const sampler = setInterval(() => {
      const mb = proc.rssMb();
      if (mb !== undefined && mb > peak[phase]) {
        peak[phase] = mb;
        atPeak[phase] = lastMem;
      }
    }, 250);
    let memBusy = false;
    const memSampler = setInterval(() => {
      if (memBusy) return;
      memBusy = true;
      void proc
        .memoryMetrics()
        .then((m) => {
          if (m) maxInFlight = Math.max(maxInFlight, m.inFlight || 0);
          if (m) maxBufferedMb = Math.max(maxBufferedMb, m.bufferedMb || 0);
          if (m) lastMem = `heap used ${m.heapUsedMb.toFixed(0)} MB, external ${m.externalMb.toFixed(0)} MB, in flight ${m.inFlight}, buffered for Kafka ${m.bufferedMb.toFixed(1)} MB`;
        })
        .finally(() => (memBusy = false));
    }, 1_000);
    scope.add(() => clearInterval(sampler));
    scope.add(() => clearInterval(memSampler));

    const load = new MqttLoad({ url: b.mqtt.url, topic: m2k.mqttTopic, tag: "s4m", count: N, ratePerSec: RATE, payloadBytes: PAYLOAD, clientId: `${topo.id}-load` });
    const inKafka = new TopicEndWatch(admin, m2k.kafkaTopic);
    scope.add(() => inKafka.stop());
    await load.start();
    scope.add(() => load.stop());
    const stopTicker = ticker(5_000, () => `s4: ${load.describe()}, in Kafka ${inKafka.value} | kafka ${b.kafka.running ? "up" : "DOWN"} | RSS ${proc.rssMb()?.toFixed(0)} MB (peaks: before ${peak.before.toFixed(0)}, outage ${peak.outage.toFixed(0)}, after ${peak.after.toFixed(0)})`);
    scope.add(stopTicker);

    await waitFor("5,000 messages in Kafka before the outage", () => inKafka.value >= 5_000, 60_000);
    const ackedAtStop = load.acked;
    progress(`s4: stopping Kafka (in Kafka ${inKafka.value}, RSS ${proc.rssMb()?.toFixed(0)} MB)`);
    phase = "outage";
    await b.kafka.stop();
    const endBefore = inKafka.value;
    await sleep(OUTAGE_MS);
    const queuedMb = ((load.acked - ackedAtStop) * PAYLOAD) / 1024 / 1024;
    progress(`s4: ${OUTAGE_MS / 1000} s outage over: ${load.acked - ackedAtStop} messages (${queuedMb.toFixed(0)} MB) accepted by Mosquitto meanwhile; starting Kafka`);
    phase = "after"; // the backlog can only start draining once Kafka answers again
    await b.kafka.start();
    const resumed = secondsUntilGrowth(() => inKafka.value, 90_000);
    assert.ok(proc.running, "the connector survived the outage");

    const m2kResume = await resumed;
    progress(`s4: after Kafka was back, mqtt→kafka moved again after ${m2kResume === undefined ? "more than 90 s" : `${m2kResume.toFixed(1)} s`}`);
    await waitFor("the load generator to finish", () => load.acked >= N, 120_000, 250);
    progress(`s4: stream sent (${load.describe()}); waiting for delivery`);
    const tally = await awaitKafkaDelivery({ bootstrap: b.kafka.bootstrap, admin, topic: m2k.kafkaTopic, tag: "s4m", expected: N, timeoutMs: 150_000 });
    stopTicker();
    clearInterval(sampler);
    clearInterval(memSampler);
    const exit = await proc.terminate();
    note(proc, `SIGTERM: exit ${exit.code}; ${proc.statsSummary()}`);

    printSummary(4, [{ label: "mqtt->kafka", sent: N, tally }]);
    const maxRss = Math.max(peak.before, peak.outage, peak.after);
    progress(
      `s4: RSS peak ${maxRss.toFixed(0)} MB (before ${peak.before.toFixed(0)}, during outage ${peak.outage.toFixed(0)}, catching up ${peak.after.toFixed(0)}); bound: ${RSS_BOUND_MB} MB throughout; ` +
        `Mosquitto accepted ${queuedMb.toFixed(0)} MB during the outage; records in Kafka at the stop: ${endBefore}`,
    );
    progress(`s4: most messages in flight seen (1 s samples of /metrics): ${maxInFlight} with --receive-maximum ${RECEIVE_MAXIMUM}; most bytes buffered for Kafka: ${maxBufferedMb.toFixed(1)} MB`);
    progress(`s4: /metrics around the peaks: before (${atPeak.before || "n/a"}), outage (${atPeak.outage || "n/a"}), catching up (${atPeak.after || "n/a"})`);
    assert.equal(tally.lost, 0, `lost ${tally.lost}: ${tally.missing()}`);
    assert.ok(peak.outage > 0, "RSS was sampled during the outage");
    assert.ok(peak.outage < OUTAGE_RSS_BOUND_MB, `connector RSS reached ${peak.outage.toFixed(0)} MB during the outage, over the ${OUTAGE_RSS_BOUND_MB} MB bound`);
    assert.ok(maxRss < RSS_BOUND_MB, `connector RSS peaked at ${maxRss.toFixed(0)} MB, over the ${RSS_BOUND_MB} MB bound`);
  });
});
