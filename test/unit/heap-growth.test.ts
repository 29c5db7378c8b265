import { strict as assert } from "node:assert";
import { applyHeapGrowth } from "../../connector/heap-growth";

describe("heap growth flag", () => {
  it("leaves an explicit --heap-growing-percent on node's command line alone", () => {
    assert.equal(applyHeapGrowth(["--enable-source-maps", "--heap-growing-percent=100"]), false);
    assert.equal(applyHeapGrowth(["--heap_growing_percent=50"]), false);
  });

  it("sets it when node was started without it", () => {
    assert.equal(applyHeapGrowth(["--enable-source-maps"]), true);
  });
});
