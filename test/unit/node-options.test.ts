import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { NODE_OPTIONS } from "../../connector/node-options";

const ROOT = join(__dirname, "..", "..", "..");

describe("connector heap limits (NODE_OPTIONS)", () => {
  it("the image sets exactly the options the benchmark measures with", () => {
    const dockerfile = readFileSync(join(ROOT, "connector", "Dockerfile"), "utf8");
    const m = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile);
    assert.ok(m, "connector/Dockerfile has no ENV NODE_OPTIONS line");
    assert.equal(m[1], NODE_OPTIONS);
  });

  it("node accepts them and caps the heap near 128 MB", () => {
    const out = execFileSync(process.execPath, ["-e", "process.stdout.write(String(require('v8').getHeapStatistics().heap_size_limit))"], {
      env: { ...process.env, NODE_OPTIONS },
    }).toString();
    const limitMb = Number(out) / 1024 / 1024;
    // old space 128 MB plus the young generation (three semi-spaces of 4 MB)
    assert.ok(limitMb >= 128 && limitMb <= 150, `heap_size_limit ${limitMb.toFixed(1)} MB`);
  });
});
