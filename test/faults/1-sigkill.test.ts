// Scenario 1: SIGKILL the connector three times during a 20,000-message QoS 1
// stream in each direction (both routes in one process); every replacement
// runs with the same connector name and instance index, so it resumes the
// same MQTT sessions and the same Kafka consumer group.
import { strict as assert } from "node:assert";
import type { ConnectorProcess } from "../helpers/connector-process";
import { waitFor } from "../helpers/wait";
import { progress } from "./support/env";
import { faultScenario, note } from "./support/scenario";
import { finishTwoWay, prepareTwoWay, startLoads } from "./support/two-way-streams";

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
  const s = faultScenario();

  it("delivers every message in both directions; duplicates are counted and bounded", async () => {
    const t = await prepareTwoWay(s, 1, "1-sigkill", N);
    const { k2mTally } = t;
    const spawnConnector = (n: number): Promise<ConnectorProcess> =>
      s.startConnector(t.files, { label: `connector #${n}`, receiveMaximum: RECEIVE_MAXIMUM, readyWithinMs: 90_000 });
    let proc = await spawnConnector(1);

    const loads = await startLoads(s, t, RATE, () => `pid ${proc.pid}`);
    const { mLoad, kLoad, inKafka } = loads;

    const kills: string[] = [];
    for (let k = 1; k <= KILLS; k++) {
      const baseM = inKafka.value;
      const baseK = k2mTally.total;
      await waitFor(
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

    const { m2kTally } = await finishTwoWay(s, t, loads, proc, 180_000);
    const sourceK = kLoad.errors ? " (Kafka source had send retries: duplicates may come from the source)" : "";
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
