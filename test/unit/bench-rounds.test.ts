import { strict as assert } from "node:assert";
import { judgeRounds, roundRatios } from "../../bench/rounds";

describe("bench throughput rounds", () => {
  it("takes each side's better round, against the lower of the better ceilings", () => {
    // Round 2 of ceiling 1 was disturbed (9,525); its better round (21,314) still stands.
    const v = judgeRounds({ connector: [17_579, 17_993], ceiling1: [21_314, 9_525], ceiling2: [40_771, 36_561] });
    assert.equal(v.best, 1);
    assert.equal(v.ceiling, 1);
    assert.equal(v.ceilingRound, 0);
    assert.equal(v.ceilingRate, 21_314);
    assert.equal(v.ratio.toFixed(3), (17_993 / 21_314).toFixed(3));
  });

  it("judges against ceiling 2 when the raw producer is the lower one", () => {
    const v = judgeRounds({ connector: [3_855, 5_195], ceiling1: [12_216, 13_043], ceiling2: [4_721, 5_495] });
    assert.equal(v.ceiling, 2);
    assert.equal(v.ceilingRound, 1);
    assert.equal(v.ceilingRate, 5_495);
    assert.equal(v.ratio.toFixed(3), (5_195 / 5_495).toFixed(3));
  });

  it("reports each round against that round's own ceilings", () => {
    const r = roundRatios({ connector: [24_185, 21_713], ceiling1: [13_282, 23_408], ceiling2: [49_979, 61_812] });
    assert.deepEqual(r.map((x) => x.toFixed(2)), ["1.82", "0.93"]);
  });

  it("names a missing measurement instead of dividing by nothing", () => {
    assert.throws(() => judgeRounds({ connector: [], ceiling1: [1], ceiling2: [1] }), /no connector rounds/);
    assert.throws(() => roundRatios({ connector: [1, 2], ceiling1: [1], ceiling2: [1] }), /round 2 has no ceiling measured/);
  });
});
