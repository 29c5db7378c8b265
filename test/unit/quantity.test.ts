import { strict as assert } from "node:assert";
import { storageBytes } from "../../connector/k8s/quantity";

describe("storage quantities", () => {
  const good: [string, number][] = [
    ["10Gi", 10 * 2 ** 30],
    ["500Mi", 500 * 2 ** 20],
    ["2G", 2e9],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["1e9", 1e9],
    ["4096", 4096],
    ["1Ti", 2 ** 40],
  ];
  for (const [text, bytes] of good) it(`${text} is ${bytes} bytes`, () => assert.equal(storageBytes(text), bytes));

  for (const text of ["", "10GB", "-1Gi", "10 gi", "1m", "Gi", "0", "1.5.2Gi"]) {
    it(`refuses ${JSON.stringify(text)} and says what it got`, () => {
      const r = storageBytes(text);
      assert.equal(typeof r, "object");
      const { problem } = r as { problem: string };
      assert.ok(problem.startsWith(`got ${JSON.stringify(text)}; `), problem);
    });
  }
});
