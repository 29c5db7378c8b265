import { strict as assert } from "node:assert";
import { OrderedLedger } from "../../connector/core/ordered-ledger";

describe("OrderedLedger", () => {
  it("releases in add order even when completed out of order", () => {
    const l = new OrderedLedger<string>();
    const a = l.add("a");
    const b = l.add("b");
    const c = l.add("c");
    assert.deepEqual(l.complete(c), []);
    assert.deepEqual(l.complete(b), []);
    assert.equal(l.blocked, 2);
    assert.deepEqual(l.complete(a), ["a", "b", "c"]);
    assert.equal(l.size, 0);
    assert.equal(l.blocked, 0);
  });

  it("ignores double completion and unknown sequence numbers", () => {
    const l = new OrderedLedger<number>();
    const a = l.add(1);
    assert.deepEqual(l.complete(a), [1]);
    assert.deepEqual(l.complete(a), []);
    assert.deepEqual(l.complete(99), []);
    assert.deepEqual(l.complete(-1), []);
  });

  it("after clear(), completions of old entries release nothing and new ones work", () => {
    const l = new OrderedLedger<string>();
    const old1 = l.add("x");
    l.add("y");
    assert.deepEqual(l.clear(), ["x", "y"]);
    const n = l.add("z");
    assert.deepEqual(l.complete(old1), []);
    assert.deepEqual(l.complete(n), ["z"]);
  });

  it("stays correct across compaction with many entries", () => {
    const l = new OrderedLedger<number>();
    const seqs: number[] = [];
    for (let i = 0; i < 5000; i++) seqs.push(l.add(i));
    const released: number[] = [];
    // complete in reverse within blocks of 10 so most completions are held back
    for (let blk = 0; blk < 500; blk++) {
      for (let j = 9; j >= 0; j--) released.push(...l.complete(seqs[blk * 10 + j]!));
    }
    assert.equal(released.length, 5000);
    assert.deepEqual(released, [...Array(5000).keys()]);
    assert.equal(l.size, 0);
  });
});
