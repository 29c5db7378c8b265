import { strict as assert } from "node:assert";
import { RepeatLimiter } from "../../connector/core/repeat-limiter";

describe("RepeatLimiter", () => {
  it("logs the first of each distinct error, counts repeats within the window, and reports them with the next logged one", () => {
    let now = 0;
    const l = new RepeatLimiter(60_000, () => now);
    assert.deepEqual(l.check("135:not authorized"), { log: true, repeated: 0 });
    now += 2_000;
    assert.deepEqual(l.check("135:not authorized"), { log: false, repeated: 0 });
    assert.deepEqual(l.check("ECONNREFUSED"), { log: true, repeated: 0 }, "another error is news");
    now += 10_000;
    assert.deepEqual(l.check("135:not authorized"), { log: false, repeated: 0 });
    now += 50_000;
    assert.deepEqual(l.check("135:not authorized"), { log: true, repeated: 2 });
    assert.deepEqual(l.check("135:not authorized"), { log: false, repeated: 0 });
  });

  it("forgets the oldest error beyond its key limit", () => {
    const l = new RepeatLimiter(60_000, () => 0, 2);
    l.check("a");
    l.check("b");
    l.check("c");
    assert.equal(l.check("a").log, true, "a was forgotten");
    assert.equal(l.check("c").log, false);
  });
});
