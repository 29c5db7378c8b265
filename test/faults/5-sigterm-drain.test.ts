// Scenario 5: SIGTERM to the connector under load in both directions. The
// drain must complete (exit code 0): intake stops, accepted MQTT messages are
// sent to Kafka and PUBACKed, published Kafka records are PUBACKed and their
// offsets committed. A replacement with the same identity then takes the rest
// of the stream. Nothing may be lost and — since nothing crashed — nothing
// may arrive twice.
import { strict as assert } from "node:assert";
import { waitFor } from "../helpers/wait";
import { faultScenario, note } from "./support/scenario";
import { finishTwoWay, prepareTwoWay, startLoads } from "./support/two-way-streams";

const N = 10_000;
const RATE = 500;
const DRAIN_TIMEOUT_S = 30;

describe("fault scenario 5: SIGTERM under load, both directions", function () {
  this.timeout(240_000);
  const s = faultScenario();

  it("drains with exit code 0; nothing lost, nothing duplicated", async () => {
    const streams = await prepareTwoWay(s, 5, "5-sigterm-drain", N);
    const { k2mTally } = streams;

    const first = await s.startConnector(streams.files, { label: "connector #1", drainTimeoutS: DRAIN_TIMEOUT_S });

    const loads = await startLoads(s, streams, RATE);
    const { mLoad, kLoad, inKafka } = loads;

    await waitFor("40% of the stream through, both ways", () => inKafka.value >= 0.4 * N && k2mTally.total >= 0.4 * N, 60_000);
    note(first, `SIGTERM under load (mqtt→kafka in Kafka ${inKafka.value}, kafka→mqtt received ${k2mTally.total})`);
    const t = Date.now();
    const exit = await first.terminate((DRAIN_TIMEOUT_S + 15) * 1000);
    note(first, `exited with code ${exit.code} ${Date.now() - t} ms after the SIGTERM; ${first.statsSummary()}`);

    const second = await s.startConnector(streams.files, { label: "connector #2", drainTimeoutS: DRAIN_TIMEOUT_S });
    note(second, `ready ${((Date.now() - t) / 1000).toFixed(1)} s after the SIGTERM`);

    const { m2kTally, exit: exit2 } = await finishTwoWay(s, streams, loads, second);
    assert.equal(exit.signal, null, "the first connector exited by itself, not by our SIGKILL fallback");
    assert.equal(exit.code, 0, `drain under load: exit code ${exit.code} (1 = drain timed out)`);
    assert.equal(m2kTally.lost, 0, `mqtt->kafka lost ${m2kTally.lost}: ${m2kTally.missing()}`);
    assert.equal(k2mTally.lost, 0, `kafka->mqtt lost ${k2mTally.lost}: ${k2mTally.missing()}`);
    assert.equal(mLoad.errors + kLoad.errors, 0, "the sources never retried, so any duplicate is the connector's");
    assert.equal(m2kTally.duplicates, 0, `mqtt->kafka duplicates: ${m2kTally.duplicated()}`);
    assert.equal(k2mTally.duplicates, 0, `kafka->mqtt duplicates: ${k2mTally.duplicated()}`);
    assert.equal(exit2.code, 0, "the replacement drained too");
  });
});
