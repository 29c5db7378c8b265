// Scenario 11: a damaged record in the spool. LMDB commits are atomic (copy-on-write pages, two
// meta pages), so a crash never leaves a torn tail; what can still go wrong is a record's bytes
// changing on disk. Each record carries a CRC-32: the connector must log the damaged one, count it
// as dropped (reason spool_corrupt), skip it, and send every other record in order.
import { strict as assert } from "node:assert";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pollUntil, waitFor } from "../helpers/wait";
import { progress, ticker } from "./support/env";
import { createTopics, faultScenario, makeTopology, note, scenarioFiles, topologyConfig } from "./support/scenario";
import { fsyncSummary, keyedKafkaTally, keyedRoute, keyTopic, PARTITIONS, spoolArgs, spoolMetrics, SPOOL_RATE, SPOOL_RECEIVE_MAXIMUM, STOCK_FAULT_BROKERS } from "./support/spool";
import { kafkaAdmin, MqttLoad, printSummary } from "./support/streams";

const N = 6_000;

/** Every offset of `needle` in `hay`. */
function offsets(hay: Buffer, needle: Buffer): number[] {
  const out: number[] = [];
  for (let at = hay.indexOf(needle); at >= 0 && out.length < 1000; at = hay.indexOf(needle, at + 1)) out.push(at);
  return out;
}

describe("fault scenario 11: a damaged record in the spool is skipped, logged and counted", function () {
  this.timeout(240_000);
  const s = faultScenario(STOCK_FAULT_BROKERS);

  it("skips the damaged last record on restart and sends every other one in order", async () => {
    const { brokers: b, scope } = s;
    const tag = "s11m";
    const topo = makeTopology(11, { m2k: true, k2m: false }, PARTITIONS);
    const m2k = topo.m2k!;
    await createTopics(b, topo);
    const files = scenarioFiles("11-spool-corrupt", topologyConfig(b, topo, keyedRoute(topo)));
    const spoolDir = join(files.dir, "spool");
    rmSync(spoolDir, { recursive: true, force: true });
    const admin = kafkaAdmin(b.kafka.bootstrap);
    await admin.connect();
    scope.add(() => admin.disconnect());
    const start = (label: string) => s.startConnector(files, { label, receiveMaximum: SPOOL_RECEIVE_MAXIMUM, extraArgs: spoolArgs(spoolDir, 256 * 2 ** 20) });

    // 1. Everything goes to the spool: Kafka is down before the stream starts.
    const first = await start("connector #1");
    progress("s11: stopping Kafka, then 6,000 messages at 2,000 msg/s into the spool");
    await b.kafka.stop();
    const load = new MqttLoad({ url: b.mqtt.url, topic: m2k.mqttTopic, topicOf: (seq) => keyTopic(m2k.mqttTopic, seq), tag, count: N, ratePerSec: SPOOL_RATE, clientId: `${topo.id}-load` });
    await load.start();
    scope.add(() => load.stop());
    const stopTicker = ticker(5_000, () => `s11: ${load.describe()} | kafka ${b.kafka.running ? "up" : "DOWN"}`);
    scope.add(stopTicker);
    await waitFor("the stream to be acknowledged by the broker", () => load.acked >= N, 30_000, 100);
    let held = 0;
    const spooled = await pollUntil(async () => {
      const m = await spoolMetrics(first);
      held = m?.records ?? 0;
      return m !== undefined && m.inFlight === 0 && m.records >= N;
    }, 30_000, 250);
    assert.ok(spooled, `all ${N} messages spooled and PUBACKed (spool holds ${held})`);
    const exit1 = await first.terminate();
    note(first, `SIGTERM with ${held} records spooled: exit ${exit1.code}`);
    assert.equal(exit1.code, 0);

    // 2. Damage the last record's value: every copy of its payload in the file (LMDB may keep
    // stale copies in pages it freed; only the live one matters, but which one that is is LMDB's business).
    const file = join(spoolDir, "instance-0", "spool.mdb");
    const bytes = readFileSync(file);
    let last = -1;
    for (let seq = N - 1; seq >= 0 && last < 0; seq--) if (bytes.includes(Buffer.from(`${tag}|${seq}|`))) last = seq;
    assert.equal(last, N - 1, "the last record in the spool is the stream's last message");
    const head = Buffer.from(`${tag}|${last}|`);
    const at = offsets(bytes, head);
    for (const o of at) bytes[o + head.length + 10] = 0x23; // '#' over a '.' of the padding
    writeFileSync(file, bytes);
    progress(`s11: damaged seq ${last}: one byte of its value changed in ${at.length} place(s) of ${file} (${(bytes.length / 2 ** 20).toFixed(1)} MiB)`);

    // 3. Kafka back, the connector again: recovery first, the damaged record skipped.
    await b.kafka.start();
    const second = await start("connector #2");
    const line = "a spooled record did not survive on disk; it is skipped, not sent";
    const emptied = await pollUntil(async () => {
      const m = await spoolMetrics(second);
      return m !== undefined && m.records === 0 && m.spooling === 0;
    }, 60_000, 250);
    assert.ok(emptied, "the spool emptied once Kafka was back");
    const m = await spoolMetrics(second);
    const tally = await keyedKafkaTally(b, admin, m2k.kafkaTopic, tag, N, { minRecords: N - 1, timeoutMs: 60_000 });
    stopTicker();
    const logged = second.output().split("\n").filter((l) => l.includes(line));
    progress(`s11: log: ${logged[0]?.slice(0, 300) ?? "(no line about the damaged record)"}`);
    progress(`s11: dropped_total{reason="spool_corrupt"} ${m?.corrupt}; ${fsyncSummary(m)} (second process)`);
    const exit2 = await second.terminate();
    note(second, `SIGTERM: exit ${exit2.code}; ${second.statsSummary()}`);
    printSummary(11, [{ label: "mqtt->kafka", sent: N, tally }]);
    progress(`s11: ${tally.inversions === 0 ? "each key in order in Kafka (first copies)" : `${tally.inversions} first copies out of order within their key`}`);

    assert.equal(logged.length, 1, "one log line about the damaged record");
    assert.equal(m?.corrupt, 1, 'dropped_total{reason="spool_corrupt"} is 1');
    assert.equal(tally.missing(), String(N - 1), "only the damaged record is missing");
    assert.equal(tally.inversions, 0, "every other record in order");
  });
});
