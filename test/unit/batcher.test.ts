import { strict as assert } from "node:assert";
import { BatchAccumulator } from "../../connector/core/batcher";

describe("BatchAccumulator", () => {
  it("cuts at maxMessages", () => {
    const b = new BatchAccumulator<number>({ maxMessages: 3, maxBytes: 1000, lingerMs: 50 });
    assert.deepEqual(b.add(1, 10, 0), []);
    assert.deepEqual(b.add(2, 10, 1), []);
    const cut = b.add(3, 10, 2);
    assert.equal(cut.length, 1);
    assert.deepEqual(cut[0]!.items, [1, 2, 3]);
    assert.equal(cut[0]!.bytes, 30);
    assert.equal(b.pendingCount, 0);
  });

  it("cuts before an item that would overflow maxBytes", () => {
    const b = new BatchAccumulator<string>({ maxMessages: 100, maxBytes: 100, lingerMs: 50 });
    b.add("a", 60, 0);
    const cut = b.add("b", 50, 1);
    assert.deepEqual(cut.map((x) => x.items), [["a"]]);
    assert.equal(b.pendingBytes, 50);
    assert.deepEqual(b.flush()!.items, ["b"]);
  });

  it("cuts an item that exactly fills the byte limit on its own", () => {
    const b = new BatchAccumulator<string>({ maxMessages: 100, maxBytes: 100, lingerMs: 50 });
    b.add("a", 40, 0);
    const cut = b.add("b", 100, 1);
    assert.deepEqual(cut.map((x) => x.items), [["a"], ["b"]]);
  });

  it("reports the deadline from the first item's arrival", () => {
    const b = new BatchAccumulator<number>({ maxMessages: 10, maxBytes: 1000, lingerMs: 25 });
    assert.equal(b.deadline(), undefined);
    b.add(1, 1, 100);
    b.add(2, 1, 120);
    assert.equal(b.deadline(), 125);
    assert.equal(b.isDue(124), false);
    assert.equal(b.isDue(125), true);
  });

  it("flush returns undefined when empty", () => {
    const b = new BatchAccumulator<number>({ maxMessages: 10, maxBytes: 1000, lingerMs: 0 });
    assert.equal(b.flush(), undefined);
  });
});
