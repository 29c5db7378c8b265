import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..", "..");
const SCRIPT = join(ROOT, "scripts", "ensure-deps.sh");

/** A PATH holding the tools the script itself uses, plus stand-ins for the given commands. */
function fakePath(present: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "mkc-path-"));
  for (const tool of ["bash", "id", "sort", "printf", "mktemp", "tail", "cat", "dirname", "sed", "grep", "tee", "rm", "mkdir", "date", "find", "wc", "mv"]) {
    const real = spawnSync("bash", ["-c", `command -v ${tool}`]).stdout.toString().trim();
    if (real.startsWith("/")) symlinkSync(real, join(dir, tool));
  }
  for (const cmd of present) {
    writeFileSync(join(dir, cmd), "#!/bin/sh\nexit 0\n");
    chmodSync(join(dir, cmd), 0o755);
  }
  return dir;
}

describe("scripts/ensure-deps.sh (what npm test and npm run demo run first)", () => {
  it("names what is missing and the one command that installs it, when it may not install", () => {
    // apt-get is there (a stand-in that would fail the test if it ran), but installing is not allowed.
    const path = fakePath(["mosquitto", "mosquitto_pub", "mosquitto_sub", "mosquitto_passwd", "openssl", "zstd", "java", "mvn"]);
    writeFileSync(join(path, "apt-get"), "#!/bin/sh\necho apt-get ran >&2\nexit 9\n");
    chmodSync(join(path, "apt-get"), 0o755);
    const r = spawnSync(join(path, "bash"), [SCRIPT], { env: { PATH: path, ENSURE_DEPS_NO_INSTALL: "1", HOME: tmpdir() }, encoding: "utf8" });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /ensure-deps: missing: ca-certificates kcat\n/);
    assert.match(r.stderr, /apt-get update && apt-get install -y --no-install-recommends ca-certificates kcat'/);
    assert.doesNotMatch(r.stderr, /apt-get ran/);
  });

  it("is wired before every npm script that starts brokers", () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    for (const s of ["test:faults", "demo", "brokers", "bench"]) assert.equal(scripts[`pre${s}`], "bash scripts/ensure-deps.sh", s);
    // The full test run includes the deployment tests, on engines built once into the cache.
    for (const s of ["test", "test:engines"]) assert.equal(scripts[`pre${s}`], "bash scripts/ensure-deps.sh engines", s);
    assert.match(scripts["test"]!, /mocha --config \.mocharc\.engines\.json/);
    assert.match(readFileSync(join(ROOT, ".ci", "run"), "utf8"), /\nnpm test\n/);
  });
});
