/**
 * One mqttToKafka route's side of the disk spool. While the route spools, every message it takes is
 * appended here and PUBACKed only once the append is on disk; the route then sends what the spool
 * holds, oldest first, and a record leaves the spool only when Kafka has acknowledged it. Appends
 * made in one event-loop turn share one commit and one fsync.
 */
import type { Logger } from "../logger";
import type { InboundMqttMessage, OutboundRecord } from "../ports/types";
import type { RouteSpool, Spool, SpoolSlot } from "../spool/store";
import type { SpooledRecord } from "../spool/codec";

/** `outage`: spool only while Kafka is unavailable or slower than the input; `always`: every message. */
export type SpoolMode = "off" | "outage" | "always";

/** What the route holds for one message, on the direct path or the spool's. */
export interface HeldMessage {
  record: OutboundRecord;
  bytes: number;
  message: InboundMqttMessage;
  /** Handed to the spool; `slot` is set once it is on disk. */
  admitted?: boolean;
  slot?: SpoolSlot;
  /** A record read back from the spool (its message is a stand-in whose settle() releases it). */
  replay?: boolean;
  /** Its PUBACK went out (or it was given up on); never twice. */
  settled?: boolean;
  /** Kafka has it: a slot it is given later is discarded at once. */
  delivered?: boolean;
  /** Its bytes no longer count as held in memory. */
  unbuffered?: boolean;
}

export interface SpoolPathHooks {
  /** The message is on disk (or was given up on while stopping): it no longer counts as held. */
  stored(p: HeldMessage): void;
  /** Appends finished: something may be there to send. */
  appended(): void;
  /** A record that did not survive on disk was skipped (never sent as garbage). */
  corrupt(seq: number, reason: string): void;
}

export class SpoolPath {
  private queue: HeldMessage[] = [];
  private scheduled = false;
  private chain: Promise<void> = Promise.resolve();
  /** Appends put and waiting for their fsync. */
  private readonly syncing = new Set<Promise<void>>();
  /** Messages appended or waiting to be. */
  private pendingAppends = 0;
  /** Set by settle(true): messages still waiting for room are given up (not PUBACKed; the broker redelivers them). */
  private stopping = false;
  private wakeStop: () => void = () => undefined;
  private readonly stopped = new Promise<void>((r) => (this.wakeStop = r));

  constructor(
    readonly spool: Spool,
    readonly route: RouteSpool,
    readonly mode: Exclude<SpoolMode, "off">,
    /** The route's kafkaTopic, for records that carry no topic of their own. */
    private readonly topic: string,
    private readonly hooks: SpoolPathHooks,
    private readonly log: Logger,
  ) {}

  /** Nothing waits to be appended and the route's spool is empty. */
  get idle(): boolean {
    return this.pendingAppends === 0 && this.route.empty;
  }

  /** Messages waiting for the spool to have room. */
  get waiting(): number {
    return this.pendingAppends;
  }

  /** Queues a message for the next append; its PUBACK follows once it is on disk. */
  admit(p: HeldMessage): void {
    p.admitted = true;
    this.queue.push(p);
    this.pendingAppends++;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.queue;
      this.queue = [];
      this.chain = this.chain.then(() => this.append(batch));
    });
  }

  private async append(batch: HeldMessage[]): Promise<void> {
    let rest = batch;
    while (rest.length) {
      // A full spool takes nothing: these stay un-PUBACKed, so the broker stops sending and keeps the rest.
      await Promise.race([this.spool.room(), this.stopped]);
      if (this.stopping && this.spool.full) return this.giveUp(rest);
      // Only what fits, so the budget holds to within one record.
      let room = this.spool.o.maxBytes - this.spool.bytes;
      let n = 0;
      while (n < rest.length && (n === 0 || room > 0)) room -= estimate(rest[n++]!);
      await this.write(rest.slice(0, n));
      rest = rest.slice(n);
    }
  }

  /** Puts the records now (in order, behind earlier ones); their PUBACKs follow once they are on disk. */
  private async write(part: HeldMessage[]): Promise<void> {
    let put: { slots: SpoolSlot[]; durable: Promise<void> };
    try {
      put = this.route.put(part.map((p) => toSpooled(p, this.topic)));
    } catch (e) {
      return this.failed(part, e);
    }
    // Not awaited: the next batch's puts go in while this one's fsync runs.
    const done = put.durable.then(
      () => this.stored(part, put.slots),
      (e: unknown) => this.failed(part, e),
    );
    this.syncing.add(done);
    void done.finally(() => this.syncing.delete(done));
  }

  private stored(part: HeldMessage[], slots: SpoolSlot[]): void {
    const late: SpoolSlot[] = [];
    part.forEach((p, i) => {
      p.slot = slots[i]!;
      if (p.delivered) late.push(p.slot); // its direct send finished first: Kafka has it already
      if (!p.settled) {
        p.settled = true;
        p.message.settle();
      }
      this.hooks.stored(p);
    });
    if (late.length) this.route.discard(late);
    this.pendingAppends -= part.length;
    this.hooks.appended();
  }

  private failed(part: HeldMessage[], e: unknown): void {
    // The disk refused (full filesystem, I/O error): nothing was PUBACKed, so the broker redelivers.
    this.log.error({ err: (e as Error).message, records: part.length }, "spool append failed; these messages are not acknowledged and will be redelivered");
    this.giveUp(part);
  }

  /** Not stored and not PUBACKed: the broker delivers these again. */
  private giveUp(part: HeldMessage[]): void {
    for (const p of part) this.hooks.stored(p);
    this.pendingAppends -= part.length;
  }

  /** The next records to send, as held messages whose settle() releases them from the spool. */
  nextBatch(maxMessages: number, maxBytes: number): HeldMessage[] {
    const out: HeldMessage[] = [];
    for (const e of this.route.next(maxMessages, maxBytes)) {
      if (!e.record) {
        this.route.release([e.seq]);
        this.hooks.corrupt(e.seq, e.corrupt ?? "unreadable");
        continue;
      }
      const r = e.record;
      const record: OutboundRecord = { topic: r.topic, key: r.key, value: r.value, partition: r.partition, ...(r.headers ? { headers: r.headers } : {}), ...(r.timestamp ? { timestamp: r.timestamp } : {}) };
      const seq = e.seq;
      const message: InboundMqttMessage = { topic: r.sourceTopic, payload: r.value, qos: 1, properties: {}, receivedAt: r.spooledAt, settle: () => this.route.release([seq]) };
      out.push({ record, bytes: e.bytes, message, replay: true, unbuffered: true });
    }
    return out;
  }

  /** Waits for appends so far; with `giveUpWaiting`, messages still waiting for room are not appended. */
  async settle(giveUpWaiting: boolean): Promise<void> {
    if (giveUpWaiting) {
      this.stopping = true;
      this.wakeStop();
    }
    await new Promise<void>((r) => setImmediate(r));
    await this.chain;
    await Promise.all([...this.syncing]);
  }

  /** The oldest record's age in seconds, or 0. */
  oldestAgeSeconds(now = Date.now()): number {
    const at = this.route.oldestAt();
    return at === undefined ? 0 : Math.max(0, (now - at) / 1000);
  }
}

/** A record's size on disk, near enough for the budget. */
function estimate(p: HeldMessage): number {
  return p.bytes + p.message.topic.length + 64;
}

function toSpooled(p: HeldMessage, routeTopic: string): SpooledRecord {
  const r = p.record;
  return {
    topic: r.topic ?? routeTopic,
    sourceTopic: p.message.topic,
    key: r.key,
    value: r.value,
    partition: r.partition,
    spooledAt: p.message.receivedAt,
    ...(r.headers ? { headers: r.headers } : {}),
    ...(r.timestamp ? { timestamp: r.timestamp } : {}),
  };
}
