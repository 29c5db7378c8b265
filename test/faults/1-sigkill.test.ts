// Scenario 1: SIGKILL the connector three times during a 20,000-message QoS 1
// stream in each direction (both routes in one process); every replacement
// runs with the same connector name and instance index, so it resumes the
// same MQTT sessions and the same Kafka consumer group.
import { strict as assert } from "node:assert";
import { ensureRunning, faultBrokers, type FaultBrokers } from "./support/brokers";
import { ConnectorProcess, note } from "./support/connector-process";
import { progress, Scope, waitUntil } from "./support/env";
import { printSummary } from "./support/streams";
import { awaitBothWays, prepareTwoWay, startLoads } from "./support/two-way-streams";

const N = 20_000;
/** Per direction. Slow enough that the stream outlasts three kills and their restarts. */
const RATE = 200;
const KILLS = 3;
/** Messages each direction must move through the current process before it is killed. */
const PROGRESS_BEFORE_KILL = 1_500;
/** Passed to the connector; a SIGKILL can duplicate at most this many MQTT→Kafka messages (unacked in flight). */
const RECEIVE_MAXIMUM = 1_000;

describe("fault scenario 1: SIGKILL x3 during a 20,000-message QoS 1 stream, both directions", function () {
  this.timeout(300_000);
  const scope = new Scope();
  let b: FaultBrokers;

  before(async () => {
    b = await faultBrokers();
    await ensureRunning(b);
  });
  after(() => scope.dispose());

  it("delivers every message in both directions; duplicates are counted and bounded", async () => {
    const t = await prepareTwoWay(b, scope, 1, "1-sigkill", N);
    const { configDir, logFile, k2mTally } = t;
    const spawnConnector = async (n: number): Promise<ConnectorProcess> => {
      const p = await ConnectorProcess.start({ configDir, logFile, instance: 0, label: `connector #${n}`, receiveMaximum: RECEIVE_MAXIMUM });
      scope.add(() => p.kill());
      const t = Date.now();
      await p.waitReady(90_000);
      note(p, `ready after ${((Date.now() - t) / 1000).toFixed(1)} s`);
      return p;
    };
    let proc = await spawnConnector(1);

    const { mLoad, kLoad, inKafka, stopTicker } = await startLoads(b, scope, t, RATE, () => `pid ${proc.pid}`);

    const kills: string[] = [];
    for (let k = 1; k <= KILLS; k++) {
      const baseM = inKafka.value;
      const baseK = k2mTally.total;
      await waitUntil(
        `both directions to move ${PROGRESS_BEFORE_KILL} messages through connector #${k}`,
        () => inKafka.value >= Math.min(N, baseM + PROGRESS_BEFORE_KILL) && k2mTally.total >= Math.min(N, baseK + PROGRESS_BEFORE_KILL),
        120_000,
      );
      const at = `mqtt→kafka in Kafka ${inKafka.value}/${N}, kafka→mqtt received ${k2mTally.total}/${N}`;
      if (mLoad.acked >= N || kLoad.produced >= N) progress(`warning: kill #${k} comes after a stream finished; slow the rate`);
      note(proc, `SIGKILL #${k} (${at})`);
      const exit = await proc.kill();
      assert.equal(exit.signal, "SIGKILL");
      kills.push(at);
      proc = await spawnConnector(k + 1);
    }

    await waitUntil("both load generators to finish", () => mLoad.acked >= N && kLoad.produced >= N, 180_000, 250);
    progress(`s1: streams sent (${mLoad.describe()}; ${kLoad.describe()}); waiting for delivery`);
    const m2kTally = await awaitBothWays(b, t);
    stopTicker();
    const exit = await proc.terminate();
    note(proc, `SIGTERM: exit ${exit.code}; ${proc.statsSummary()}`);
    const sourceK = kLoad.errors ? " (Kafka source had send retries: duplicates may come from the source)" : "";

    printSummary(1, [
      { label: "mqtt->kafka", sent: N, tally: m2kTally },
      { label: "kafka->mqtt", sent: N, tally: k2mTally },
    ]);
    progress(`s1: kills at: ${kills.join(" | ")}${sourceK}`);
    assert.equal(m2kTally.lost, 0, `mqtt->kafka lost ${m2kTally.lost}: ${m2kTally.missing()}`);
    assert.equal(k2mTally.lost, 0, `kafka->mqtt lost ${k2mTally.lost}: ${k2mTally.missing()}`);
    assert.equal(mLoad.errors, 0, "the MQTT source never had to republish, so every mqtt->kafka duplicate is the connector's");
    assert.ok(
      m2kTally.duplicates <= KILLS * RECEIVE_MAXIMUM,
      `mqtt->kafka duplicates ${m2kTally.duplicates} exceed ${KILLS} kills x Receive Maximum ${RECEIVE_MAXIMUM}`,
    );
  });
});
