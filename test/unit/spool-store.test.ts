import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { decodeRecord, encodeRecord, SpoolCorruption, type SpooledRecord } from "../../connector/spool/codec";
import { Spool } from "../../connector/spool/store";

const log = pino({ level: "silent" });
const rec = (i: number, extra: Partial<SpooledRecord> = {}): SpooledRecord => ({ topic: "t", sourceTopic: `site/${i}`, key: Buffer.from(`k${i % 3}`), value: Buffer.from(`value-${i}`), partition: i % 2, spooledAt: 1_700_000_000_000 + i, ...extra });

describe("spool: record codec", () => {
  it("round-trips keys, null keys, empty values, repeated headers and timestamps", () => {
    const cases: SpooledRecord[] = [
      rec(1),
      rec(2, { key: null, value: Buffer.alloc(0) }),
      rec(3, { headers: { a: "1", b: [Buffer.from("x"), "y"], skip: undefined }, timestamp: "1700000000123", topic: "ünïcode-topic" }),
    ];
    for (const r of cases) {
      const back = decodeRecord(encodeRecord(r));
      assert.equal(back.topic, r.topic);
      assert.equal(back.sourceTopic, r.sourceTopic);
      assert.deepEqual(back.key, r.key);
      assert.deepEqual(back.value, r.value);
      assert.equal(back.partition, r.partition);
      assert.equal(back.spooledAt, r.spooledAt);
      assert.equal(back.timestamp, r.timestamp);
    }
    const h = decodeRecord(encodeRecord(cases[2]!)).headers!;
    assert.deepEqual(h["a"], Buffer.from("1"));
    assert.deepEqual(h["b"], [Buffer.from("x"), Buffer.from("y")]);
    assert.equal("skip" in h, false);
  });

  it("a flipped bit, a cut record or trailing bytes is SpoolCorruption, never a record", () => {
    const b = encodeRecord(rec(7, { headers: { h: "v" } }));
    for (let i = 5; i < b.length; i += 7) {
      const bad = Buffer.from(b);
      bad[i] = bad[i]! ^ 0x10;
      assert.throws(() => decodeRecord(bad), SpoolCorruption, `byte ${i}`);
    }
    assert.throws(() => decodeRecord(b.subarray(0, b.length - 3)), SpoolCorruption);
    assert.throws(() => decodeRecord(Buffer.concat([b, Buffer.from([0])])), SpoolCorruption);
    assert.throws(() => decodeRecord(Buffer.alloc(0)), SpoolCorruption);
  });
});

describe("spool: the store", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "spool-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("hands records back in order, forgets released ones, and keeps the rest across a reopen", async () => {
    let spool = Spool.open({ dir, maxBytes: 10 * 2 ** 20, log });
    const r = spool.route("map/route");
    await r.append(Array.from({ length: 10 }, (_, i) => rec(i)));
    assert.equal(r.records, 10);
    const first = r.next(4);
    assert.deepEqual(first.map((e) => e.record!.value.toString()), ["value-0", "value-1", "value-2", "value-3"]);
    assert.deepEqual(r.next(2).map((e) => e.record!.value.toString()), ["value-4", "value-5"]);
    r.release(first.map((e) => e.seq));
    assert.equal(r.records, 6);
    await spool.close();

    spool = Spool.open({ dir, maxBytes: 10 * 2 ** 20, log });
    const again = spool.route("map/route");
    assert.equal(again.records, 6);
    assert.deepEqual(again.next(100).map((e) => e.record!.value.toString()), ["value-4", "value-5", "value-6", "value-7", "value-8", "value-9"]);
    await again.append([rec(10)]);
    assert.equal(again.next(100)[0]!.record!.value.toString(), "value-10", "new records go after the recovered ones");
    await spool.close();
  });

  it("rewind hands out again what was not released", async () => {
    const spool = Spool.open({ dir, maxBytes: 2 ** 20, log });
    const r = spool.route("m/r");
    await r.append([rec(0), rec(1), rec(2)]);
    const a = r.next(2);
    r.release([a[0]!.seq]);
    r.rewind();
    assert.deepEqual(r.next(10).map((e) => e.record!.value.toString()), ["value-1", "value-2"]);
    await spool.close();
  });

  it("discard forgets a record once, whether next() has handed it out or not, so a release after it changes nothing", async () => {
    const spool = Spool.open({ dir, maxBytes: 2 ** 20, log });
    const r = spool.route("m/r");
    const slots = await r.append([rec(0), rec(1), rec(2), rec(3)]);
    r.discard([slots[1]!]); // before next() reached it: next() must not return it, even before the removal commits
    const handed = r.next(2);
    assert.deepEqual(handed.map((e) => e.record!.value.toString()), ["value-0", "value-2"]);
    r.discard([slots[2]!]); // handed out and discarded: the release that follows is a no-op
    r.release(handed.map((e) => e.seq));
    assert.equal(r.records, 1);
    assert.equal(spool.bytes, r.bytes);
    r.discard([slots[0]!]); // released already
    assert.equal(r.records, 1);
    assert.deepEqual(r.next(10).map((e) => e.record!.value.toString()), ["value-3"]);
    await spool.close();
  });

  it("counts bytes against the budget across routes", async () => {
    const spool = Spool.open({ dir, maxBytes: 3_500, log });
    const big = (i: number) => rec(i, { value: Buffer.alloc(900, 1) });
    await spool.route("m/a").append([big(0), big(1)]);
    assert.equal(spool.full, false);
    await spool.route("m/b").append([big(2), big(3)]);
    assert.equal(spool.full, true);
    const b = spool.route("m/b");
    b.release(b.next(10).map((e) => e.seq));
    assert.equal(spool.full, false);
    await spool.close();
  });

  it("a record damaged on disk comes back as corrupt, and the records around it intact", async () => {
    let spool = Spool.open({ dir, maxBytes: 2 ** 20, log });
    await spool.route("m/r").append([rec(0, { value: Buffer.from("AAAA-intact") }), rec(1, { value: Buffer.from("ZZZZ-to-damage") }), rec(2, { value: Buffer.from("BBBB-intact") })]);
    await spool.close();
    const file = join(dir, "spool.mdb");
    const bytes = readFileSync(file);
    const at = bytes.indexOf("ZZZZ-to-damage");
    assert.ok(at > 0, "the value is in the file");
    bytes[at + 2] = 0x59;
    writeFileSync(file, bytes);
    spool = Spool.open({ dir, maxBytes: 2 ** 20, log });
    const entries = spool.route("m/r").next(10);
    assert.deepEqual(entries.map((e) => e.record?.value.toString() ?? `corrupt: ${e.corrupt}`), ["AAAA-intact", "corrupt: checksum mismatch", "BBBB-intact"]);
    await spool.close();
  });
});
