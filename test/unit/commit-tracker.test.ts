import { strict as assert } from "node:assert";
import { CommitTracker } from "../../connector/core/commit-tracker";

describe("CommitTracker", () => {
  it("commits the offset after the last delivered one, once per take, per partition", () => {
    const t = new CommitTracker();
    t.resolved("a", 0, "4");
    t.resolved("a", 0, "9");
    t.resolved("a", 1, "99999999999999999"); // beyond 2^53: offsets are int64
    assert.deepEqual(t.take(), [
      { topic: "a", partition: 0, offset: "10" },
      { topic: "a", partition: 1, offset: "100000000000000000" },
    ]);
    assert.deepEqual(t.take(), [], "nothing new, nothing to commit");
  });

  it("restores a failed commit without overwriting a newer offset", () => {
    const t = new CommitTracker();
    t.resolved("a", 0, "1");
    t.resolved("a", 1, "1");
    const failed = t.take();
    t.resolved("a", 0, "5");
    t.restore(failed);
    assert.deepEqual(t.take(), [
      { topic: "a", partition: 0, offset: "6" },
      { topic: "a", partition: 1, offset: "2" },
    ]);
  });

  it("forgets partitions that a rebalance took away", () => {
    const t = new CommitTracker();
    t.resolved("a", 0, "1");
    t.resolved("a", 1, "1");
    t.resolved("b", 0, "1");
    t.retain([{ topic: "a", partitions: [1] }]);
    assert.deepEqual(t.take(), [{ topic: "a", partition: 1, offset: "2" }]);
  });
});
