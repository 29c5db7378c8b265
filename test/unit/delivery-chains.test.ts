import { strict as assert } from "node:assert";
import { DeliveryChains } from "../../connector/core/delivery-chains";

/** A promise settled by the test. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function recorder() {
  const events: string[] = [];
  const chains = new DeliveryChains({
    delivered: (p, last) => events.push(`delivered ${p}:${last}`),
    failed: (p, first, e) => events.push(`failed ${p}:${first} ${(e as Error).message}`),
  });
  return { events, chains };
}

describe("DeliveryChains", () => {
  it("reports a partition's deliveries in hand-off order, even when a later batch settles first", async () => {
    const { events, chains } = recorder();
    const b1 = deferred();
    const b2 = deferred();
    const other = deferred();
    chains.add(0, "0", "9", b1.promise);
    chains.add(0, "10", "19", b2.promise);
    chains.add(1, "0", "4", other.promise);
    b2.resolve();
    other.resolve();
    await flush();
    assert.deepEqual(events, ["delivered 1:4"], "partition 0 waits for its first batch; partition 1 does not");
    assert.equal(chains.outstanding, 2);
    b1.resolve();
    await flush();
    assert.deepEqual(events, ["delivered 1:4", "delivered 0:9", "delivered 0:19"]);
    assert.equal(chains.outstanding, 0);
  });

  it("on a failure reports the batch's first offset once, starts a new epoch, and ignores the old epoch's later batches", async () => {
    const { events, chains } = recorder();
    const b1 = deferred();
    const b2 = deferred();
    const b3 = deferred();
    chains.add(0, "0", "9", b1.promise);
    chains.add(0, "10", "19", b2.promise);
    chains.add(0, "20", "29", b3.promise);
    assert.equal(chains.epoch(0), 0);
    b3.reject(new Error("late failure")); // rejected before anyone awaits it: must not be unhandled
    b2.reject(new Error("connection lost"));
    b1.resolve();
    await flush();
    assert.deepEqual(events, ["delivered 0:9", "failed 0:10 connection lost"]);
    assert.equal(chains.epoch(0), 1);
    const again = deferred();
    chains.add(0, "10", "29", again.promise);
    again.resolve();
    await flush();
    assert.deepEqual(events, ["delivered 0:9", "failed 0:10 connection lost", "delivered 0:29"]);
  });

  it("after invalidate(), deliveries of the old assignment are not reported", async () => {
    const { events, chains } = recorder();
    const b1 = deferred();
    chains.add(3, "5", "8", b1.promise);
    chains.invalidate();
    b1.resolve();
    await flush();
    assert.deepEqual(events, []);
    assert.equal(chains.outstanding, 0);
  });

  it("settled() waits for every outstanding batch, or gives up after the timeout", async () => {
    const { chains } = recorder();
    assert.equal(await chains.settled(10), true, "nothing outstanding");
    const b1 = deferred();
    chains.add(0, "0", "0", b1.promise);
    assert.equal(await chains.settled(20), false, "still outstanding after 20 ms");
    const waiting = chains.settled(Infinity);
    b1.resolve();
    assert.equal(await waiting, true);
  });
});
