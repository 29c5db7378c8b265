import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { ConnectorError } from "../../connector/core/errors";
import { openSpool } from "../../connector/lifecycle/spool";
import { ConnectorMetrics } from "../../connector/metrics";

const log = pino({ level: "silent" });

describe("opening the spool", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "spool-open-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const open = (d: string) => openSpool({ dir: d, maxBytes: 2 ** 20, mode: "outage" }, 3, new ConnectorMetrics(), log);

  it("uses a directory per instance, so instances on one machine never share a file", async () => {
    const spool = open(dir);
    await spool.route("m/r").append([{ topic: "t", sourceTopic: "s", key: null, value: Buffer.from("v"), partition: 0, spooledAt: 1 }]);
    await spool.close();
    const again = open(join(dir, "."));
    assert.equal(again.route("m/r").records, 1);
    await again.close();
    assert.throws(() => open(join(dir, "instance-3", "spool.mdb")), ConnectorError, "the file itself is no spool dir");
  });

  it("says which directory it could not use, and what to do with a damaged file", async () => {
    const file = join(dir, "not-a-dir");
    writeFileSync(file, "x");
    assert.throws(() => open(file), (e: Error) => e instanceof ConnectorError && e.code === "SPOOL_UNAVAILABLE" && e.message.includes(`cannot open the spool in ${join(file, "instance-3")}`));
    mkdirSync(join(dir, "bad", "instance-3"), { recursive: true });
    writeFileSync(join(dir, "bad", "instance-3", "spool.mdb"), Buffer.alloc(64 * 1024, 0x5a));
    assert.throws(() => open(join(dir, "bad")), (e: Error) => e instanceof ConnectorError && /not an LMDB file .*spool\.mdb is damaged, move it aside/.test(e.message));
    // A real spool file cut short.
    const good = open(join(dir, "good"));
    await good.route("m/r").append([{ topic: "t", sourceTopic: "s", key: null, value: Buffer.alloc(10_000, 1), partition: 0, spooledAt: 1 }]);
    await good.close();
    const file2 = join(dir, "good", "instance-3", "spool.mdb");
    truncateSync(file2, 5000);
    assert.throws(() => open(join(dir, "good")), (e: Error) => e instanceof ConnectorError && /cut short/.test(e.message));
  });
});
