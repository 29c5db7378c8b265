/**
 * The spool on disk: an LMDB environment per connector instance, a database per route, records
 * keyed by a sequence number so they come back in the order they went in. LMDB commits are
 * atomic (copy-on-write pages, two meta pages), so a crash mid-write leaves the previous commit;
 * `append` resolves only once the commit is flushed to disk. Writes from one event-loop turn share
 * one commit and one fsync, which is what makes a durable write per message affordable.
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import type { Database, RootDatabase } from "lmdb";
import type { Logger } from "../logger";
import { decodeRecord, encodeRecord, SpoolCorruption, type SpooledRecord } from "./codec";

export interface SpoolOptions {
  /** Directory of this instance's environment (created). */
  dir: string;
  /** Appends wait (the route stops taking messages) while the records held use this much. */
  maxBytes: number;
  log: Logger;
  /** Called with each append's time to durability, in seconds. */
  onFlush?: (seconds: number) => void;
}

/** Per-record bytes LMDB spends besides the value (node header, key, page slack): for the budget, not exact. */
const RECORD_OVERHEAD = 32;

export interface SpoolEntry {
  seq: number;
  bytes: number;
  /** Undefined when the record did not survive: `corrupt` says why. */
  record?: SpooledRecord;
  corrupt?: string;
}

/** Where an appended record went: its sequence number and its size on disk. */
export interface SpoolSlot {
  seq: number;
  size: number;
}

export class Spool {
  private readonly routes = new Map<string, RouteSpool>();
  /** Bytes held by every route (records plus overhead). */
  bytes = 0;
  private roomWaiters: (() => void)[] = [];
  /** After close(): late releases (a send that finished after its route stopped) are ignored; the records are sent again. */
  closed = false;
  private wasFull = false;

  private constructor(
    private readonly root: RootDatabase<Buffer, number>,
    readonly o: SpoolOptions,
  ) {}

  static open(o: SpoolOptions): Spool {
    mkdirSync(o.dir, { recursive: true });
    checkHeader(join(o.dir, "spool.mdb"));
    // Loaded here so a connector without a spool never loads the native binding.
    const { open } = require("lmdb") as typeof import("lmdb");
    const root = open<Buffer, number>({
      path: join(o.dir, "spool.mdb"),
      encoding: "binary",
      compression: false,
      // Room for the budget twice over: LMDB frees pages only after the readers that saw them move on.
      mapSize: Math.max(64 * 2 ** 20, o.maxBytes * 2 + 64 * 2 ** 20),
      maxDbs: 1024,
      noSubdir: true,
    });
    return new Spool(root, o);
  }

  get full(): boolean {
    return this.bytes >= this.o.maxBytes;
  }

  /** Resolves once the spool has room again (at once when it has). */
  room(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((r) => this.roomWaiters.push(r));
  }

  /** Keeps the byte count, and says so when the budget fills or frees. */
  change(delta: number): void {
    this.bytes += delta;
    const full = this.full;
    if (full === this.wasFull) return;
    this.wasFull = full;
    if (full) {
      this.o.log.warn({ bytes: this.bytes, maxBytes: this.o.maxBytes }, "spool full: routes take no new MQTT messages (no PUBACK, the broker keeps them) until Kafka takes spooled ones");
      return;
    }
    this.o.log.info({ bytes: this.bytes, maxBytes: this.o.maxBytes }, "spool has room again");
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }

  /** The spool of one route; what it holds from an earlier run is counted now. */
  route(key: string): RouteSpool {
    let r = this.routes.get(key);
    if (!r) {
      r = new RouteSpool(this, this.root.openDB<Buffer, number>({ name: key, encoding: "binary", keyEncoding: "ordered-binary" }), key, this.root);
      this.routes.set(key, r);
    }
    return r;
  }

  /** Routes with records on disk that no running route has opened (say, removed from the topic maps): key and count. */
  strandedRoutes(): { route: string; records: number }[] {
    const out: { route: string; records: number }[] = [];
    for (const k of this.root.getKeys({})) {
      const key = String(k);
      if (this.routes.has(key)) continue;
      const db = this.root.openDB<Buffer, number>({ name: key, encoding: "binary", keyEncoding: "ordered-binary" });
      const records = db.getCount();
      if (records > 0) out.push({ route: key, records });
    }
    return out;
  }

  /** Logs records no running route will send: they wait for their route to come back. */
  warnStranded(): void {
    for (const s of this.strandedRoutes()) {
      this.o.log.warn({ route: s.route, records: s.records }, "the spool holds records of a route that is not configured; they are kept and sent if the route returns");
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.root.flushed;
    await this.root.close();
  }
}

// LMDB writes two meta pages first, each with this magic after a 24-byte page header.
const LMDB_MAGIC = 0xbeefc0de;
const META_MAGIC_AT = 24;
const PAGE = 4096;

/**
 * The native binding trusts the file: a damaged one can crash the process. What is plainly no
 * LMDB file (garbage, cut short) is refused here with a message instead.
 */
function checkHeader(file: string): void {
  if (!existsSync(file)) return;
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(2 * PAGE);
    const n = readSync(fd, head, 0, head.length, 0);
    if (n === 0) return; // created and never written: LMDB initialises it
    const ok = n === head.length && head.readUInt32LE(META_MAGIC_AT) === LMDB_MAGIC && head.readUInt32LE(PAGE + META_MAGIC_AT) === LMDB_MAGIC;
    if (!ok) throw new Error(`${file} is not an LMDB file or is cut short (its meta pages are missing)`);
  } finally {
    closeSync(fd);
  }
}

export class RouteSpool {
  records = 0;
  bytes = 0;
  private lastSeq = 0;
  /** The highest sequence number handed out by next(). */
  private cursor = 0;
  /** Handed out by next() and not released yet: sequence number to size. */
  private readonly outstanding = new Map<number, number>();
  /** Discarded before next() reached them; until their removal commits, a read may still return them. */
  private readonly discarded = new Set<number>();

  constructor(
    private readonly spool: Spool,
    private readonly db: Database<Buffer, number>,
    readonly key: string,
    private readonly root: RootDatabase<Buffer, number>,
  ) {
    // Count what an earlier run left, so the budget and the metrics start right.
    for (const { key: seq, value } of db.getRange({})) {
      this.records++;
      this.add(value.length);
      this.lastSeq = Math.max(this.lastSeq, Number(seq));
    }
    if (this.records) spool.o.log.warn({ route: key, records: this.records, bytes: this.bytes }, "spool holds records from an earlier run; they are sent before new messages");
  }

  private add(n: number): void {
    this.bytes += n + RECORD_OVERHEAD;
    this.spool.change(n + RECORD_OVERHEAD);
  }

  private remove(seq: number, size: number): void {
    void this.db.remove(seq);
    this.records--;
    this.bytes -= size + RECORD_OVERHEAD;
    this.spool.change(-(size + RECORD_OVERHEAD));
  }

  /**
   * Stores the records in order and returns their slots at once; `durable` resolves once they are
   * on disk. Puts made before an earlier append is durable join the next commit, so fsyncs overlap
   * instead of queueing.
   */
  put(records: SpooledRecord[]): { slots: SpoolSlot[]; durable: Promise<void> } {
    const started = process.hrtime.bigint();
    const slots: SpoolSlot[] = [];
    for (const r of records) {
      const value = encodeRecord(r);
      const seq = ++this.lastSeq;
      void this.db.put(seq, value);
      this.records++;
      this.add(value.length);
      slots.push({ seq, size: value.length });
    }
    const durable = this.root.flushed.then(() => this.spool.o.onFlush?.(Number(process.hrtime.bigint() - started) / 1e9));
    return { slots, durable };
  }

  /** Stores the records in order; resolves with their slots once they are on disk. */
  async append(records: SpooledRecord[]): Promise<SpoolSlot[]> {
    const { slots, durable } = this.put(records);
    await durable;
    return slots;
  }

  /** Records after those already handed out, oldest first: up to `limit`, and `maxBytes` unless the first alone is larger. */
  next(limit: number, maxBytes = Infinity): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    let total = 0;
    // Discarded records may still be read (their removal not yet committed): skip them without counting.
    for (const { key, value } of this.db.getRange({ start: this.cursor + 1, limit: limit + this.discarded.size })) {
      if (out.length >= limit) break;
      const seq = Number(key);
      if (this.discarded.has(seq)) {
        this.cursor = seq;
        continue;
      }
      if (out.length && total + value.length > maxBytes) break;
      total += value.length;
      this.cursor = seq;
      this.outstanding.set(seq, value.length);
      try {
        out.push({ seq, bytes: value.length, record: decodeRecord(value) });
      } catch (e) {
        if (!(e instanceof SpoolCorruption)) throw e;
        out.push({ seq, bytes: value.length, corrupt: e.message });
      }
    }
    for (const seq of this.discarded) if (seq <= this.cursor) this.discarded.delete(seq);
    return out;
  }

  /** Forgets records handed out by next() that Kafka has (or that were given up on). No fsync: a crash now only repeats them. */
  release(seqs: readonly number[]): void {
    if (this.spool.closed) return;
    for (const seq of seqs) {
      const size = this.outstanding.get(seq);
      if (size === undefined) continue;
      this.outstanding.delete(seq);
      this.remove(seq, size);
    }
  }

  /** Forgets appended records that reached Kafka another way (a send that was in flight when they were spooled). */
  discard(slots: readonly SpoolSlot[]): void {
    if (this.spool.closed) return;
    for (const s of slots) {
      if (this.outstanding.delete(s.seq)) {
        this.remove(s.seq, s.size);
        continue;
      }
      if (s.seq <= this.cursor || this.discarded.has(s.seq)) continue; // released already
      this.discarded.add(s.seq);
      this.remove(s.seq, s.size);
    }
  }

  /** Resolves once removals so far are committed, so next() no longer sees them. */
  committed(): Promise<unknown> {
    return this.db.committed;
  }

  /** Hands out again what was handed out and not released (a send given up at a stop). */
  rewind(): void {
    if (this.outstanding.size) this.cursor = Math.min(...this.outstanding.keys()) - 1;
    this.outstanding.clear();
  }

  /** When the oldest record still held was received. */
  oldestAt(): number | undefined {
    for (const { value } of this.db.getRange({ limit: 1 })) {
      try {
        return decodeRecord(value).spooledAt;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  get empty(): boolean {
    return this.records === 0;
  }
}
