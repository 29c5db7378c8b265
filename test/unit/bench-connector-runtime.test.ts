import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connectorRuntime, imageNodeFlags, quantityMiB } from "../../bench/connector-runtime";

const REPO = join(__dirname, "..", "..", "..");

describe("bench connector runtime", () => {
  it("takes the node flags from an exec-form ENTRYPOINT, up to the script", () => {
    const flags = imageNodeFlags('FROM x\nENTRYPOINT ["node", "--a", "--b=1", "/app/cli.js", "--not-a-node-flag"]\nCMD []\n');
    assert.deepEqual(flags, ["--a", "--b=1"]);
  });

  it("finds the repository Dockerfile's flags, each a node option", () => {
    const flags = imageNodeFlags(readFileSync(join(REPO, "connector", "Dockerfile"), "utf8"));
    assert.ok(flags.length > 0, "the image passes node flags");
    for (const f of flags) assert.match(f, /^--[a-z-]+(=\S+)?$/);
  });

  it("names what is wrong with an ENTRYPOINT it cannot use", () => {
    assert.throws(() => imageNodeFlags("ENTRYPOINT node cli.js\n"), /no ENTRYPOINT in exec form/);
    assert.throws(() => imageNodeFlags('ENTRYPOINT ["tini", "node"]\n'), /does not start with "node"/);
  });

  it("reads Kubernetes memory quantities as MiB and refuses the rest", () => {
    assert.equal(quantityMiB("512Mi"), 512);
    assert.equal(quantityMiB("2Gi"), 2048);
    assert.equal(quantityMiB("1G"), 953);
    assert.throws(() => quantityMiB("512"), /"512": expected a whole number with Mi, Gi, M or G/);
  });

  it("without a limit runs the connector with just the image's flags", () => {
    const rt = connectorRuntime(REPO, undefined);
    const flags = imageNodeFlags(readFileSync(join(REPO, "connector", "Dockerfile"), "utf8"));
    assert.deepEqual(rt.nodeArgs, flags);
    assert.equal(rt.cgroupDir, undefined);
    assert.match(rt.describe, /no memory limit/);
  });
});
