/**
 * The spool on disk: an LMDB environment per connector instance, a database per route, records
 * keyed by a sequence number so they come back in the order they went in. LMDB commits are
 * atomic (copy-on-write pages, two meta pages), so a crash mid-write leaves the previous commit;
 * `append` resolves only once the commit is flushed to disk. Writes from one event-loop turn share
 * one commit and one fsync, which is what makes a durable write per message affordable.
 */
import { mkdirSync } from "node:fs";
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

export class Spool {
  private readonly routes = new Map<string, RouteSpool>();
  /** Bytes held by every route (records plus overhead). */
  bytes = 0;

  private constructor(
    private readonly root: RootDatabase<Buffer, number>,
    readonly o: SpoolOptions,
  ) {}

  static open(o: SpoolOptions): Spool {
    mkdirSync(o.dir, { recursive: true });
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

  /** The spool of one route; what it holds from an earlier run is counted now. */
  route(key: string): RouteSpool {
    let r = this.routes.get(key);
    if (!r) {
      r = new RouteSpool(this, this.root.openDB<Buffer, number>({ name: key, encoding: "binary", keyEncoding: "ordered-binary" }), key, this.root);
      this.routes.set(key, r);
    }
    return r;
  }

  /** Routes that have records on disk (from an earlier run, say), by key. */
  storedRoutes(): string[] {
    return [...this.root.getKeys({})].map(String).filter((k) => !this.routes.has(k) || this.routes.get(k)!.records > 0);
  }

  async close(): Promise<void> {
    await this.root.flushed;
    await this.root.close();
  }
}

export class RouteSpool {
  records = 0;
  bytes = 0;
  private lastSeq = 0;
  /** The highest sequence number handed out by next(). */
  private cursor = 0;
  private readonly outstanding = new Map<number, number>();

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
    if (this.records) spool.o.log.info({ route: key, records: this.records, bytes: this.bytes }, "spool holds records from an earlier run; they are sent first");
  }

  private add(n: number): void {
    this.bytes += n + RECORD_OVERHEAD;
    this.spool.bytes += n + RECORD_OVERHEAD;
  }

  /** Stores the records in order; resolves once they are on disk. */
  async append(records: SpooledRecord[]): Promise<void> {
    const started = process.hrtime.bigint();
    for (const r of records) {
      const value = encodeRecord(r);
      void this.db.put(++this.lastSeq, value);
      this.records++;
      this.add(value.length);
    }
    await this.root.flushed;
    this.spool.o.onFlush?.(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Up to `limit` records after those already handed out, oldest first. */
  next(limit: number): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    for (const { key, value } of this.db.getRange({ start: this.cursor + 1, limit })) {
      const seq = Number(key);
      this.cursor = seq;
      this.outstanding.set(seq, value.length);
      try {
        out.push({ seq, bytes: value.length, record: decodeRecord(value) });
      } catch (e) {
        if (!(e instanceof SpoolCorruption)) throw e;
        out.push({ seq, bytes: value.length, corrupt: e.message });
      }
    }
    return out;
  }

  /** Forgets records Kafka has (or that were given up on). No fsync: a crash now only repeats them. */
  async release(seqs: number[]): Promise<void> {
    for (const seq of seqs) {
      const size = this.outstanding.get(seq);
      if (size === undefined) continue;
      this.outstanding.delete(seq);
      void this.db.remove(seq);
      this.records--;
      this.bytes -= size + RECORD_OVERHEAD;
      this.spool.bytes -= size + RECORD_OVERHEAD;
    }
    await this.db.committed;
  }

  /** Hands out again what was handed out and not released (a send that will be retried from the spool). */
  rewind(): void {
    this.cursor = this.outstanding.size ? Math.min(...this.outstanding.keys()) - 1 : this.cursor;
    this.outstanding.clear();
  }

  /** When the oldest record still held was spooled. */
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
