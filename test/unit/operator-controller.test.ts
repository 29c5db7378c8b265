import { strict as assert } from "node:assert";
import { createLogger } from "../../connector/logger";
import { Controller } from "../../connector/operator/controller";
import { connectorObject, DEFAULTS, FakeReporter as Fake } from "./operator-fixtures";
import type { ConnectorObject } from "../../connector/operator/reconcile";
import type { OperatorStatus } from "../../connector/operator/report";


const log = createLogger("fatal");
const withGen = (generation: number, spec: Record<string, unknown> = {}, status?: unknown): ConnectorObject => ({ ...connectorObject(spec, { generation }), ...(status ? { status } : {}) });
const invalidSpec = { localBrokerConnection: { endpoint: "m:1883", tls: { tlsEnabled: false }, authentication: { x509: { secretName: "c" } } } };

describe("operator: the reconcile loop", () => {
  let fake: Fake;
  let c: Controller;
  beforeEach(() => {
    fake = new Fake();
    c = new Controller({ applier: fake.applier, reporter: fake, defaults: DEFAULTS, log, retryBaseMs: 20 });
  });
  afterEach(() => c.stop());

  it("applies a new connector, skips events of the same generation, applies a new one and every resync", async () => {
    assert.equal(await c.reconcile(withGen(1), false), "applied");
    assert.equal(fake.applied.length, 1);
    assert.deepEqual(fake.statuses[0], { observedGeneration: 1, reason: "Applied", message: "applied generation 1: 6 objects, StatefulSet line1 with 2 replicas", statefulSet: "line1" });
    assert.equal(await c.reconcile(withGen(1), false), "skipped", "a status change keeps the generation");
    assert.equal(await c.reconcile(withGen(1), true), "applied", "a resync applies anyway");
    assert.equal(await c.reconcile(withGen(2, { instances: 3 }), false), "applied");
    assert.equal((fake.applied[2]!.find((o) => o.kind === "StatefulSet")!.spec as { replicas: number }).replicas, 3);
    assert.deepEqual(fake.events.map((e) => e.reason), ["Applied", "Applied"], "one Event per generation, none for the resync");
  });

  it("does not write status.operator when it already says the same", async () => {
    const same: OperatorStatus = { observedGeneration: 1, reason: "Applied", message: "applied generation 1: 6 objects, StatefulSet line1 with 2 replicas", statefulSet: "line1" };
    await c.reconcile(withGen(1, {}, { conditions: [], operator: same }), false);
    assert.equal(fake.applied.length, 1);
    assert.equal(fake.statuses.length, 0);
  });

  it("reports an invalid generation once, applies nothing and keeps the last StatefulSet in status", async () => {
    await c.reconcile(withGen(1), false);
    assert.equal(await c.reconcile(withGen(2, invalidSpec), false), "invalid");
    assert.equal(fake.applied.length, 1, "nothing applied");
    const s = fake.statuses.at(-1)!;
    assert.equal(s.reason, "InvalidSpec");
    assert.equal(s.observedGeneration, 2);
    assert.equal(s.statefulSet, "line1");
    assert.match(s.message, /^invalid spec: spec\.localBrokerConnection\.tls\.tlsEnabled: got false; x509 authentication requires tlsEnabled: true; StatefulSet line1 and its objects are left as last applied$/);
    assert.equal(await c.reconcile(withGen(2, invalidSpec), false), "skipped");
    assert.equal(await c.reconcile(withGen(2, invalidSpec), true), "invalid");
    assert.deepEqual(fake.events.map((e) => `${e.type} ${e.reason}`), ["Normal Applied", "Warning InvalidSpec"], "the resync repeats no Event");
  });

  it("retries a failed apply with backoff, using the newest version, and ignores status events meanwhile", async () => {
    fake.failWith = Object.assign(new Error("boom"), { code: 500 });
    assert.equal(await c.reconcile(withGen(1), false), "failed");
    assert.equal(fake.statuses.at(-1)!.reason, "ApplyFailed");
    assert.match(fake.statuses.at(-1)!.message, /^apply StatefulSet\/line1: boom; retrying$/);
    assert.equal(fake.events.at(-1)!.type, "Warning");
    assert.equal(await c.reconcile(withGen(1), false), "skipped", "a status-only event does not bypass the backoff");
    c.upsert(withGen(2, { instances: 4 })); // fails too; the retry must apply this newest version
    await c.idle();
    assert.equal(fake.statuses.at(-1)!.reason, "ApplyFailed");
    fake.failWith = undefined;
    const deadline = Date.now() + 3000;
    while (fake.statuses.at(-1)?.reason !== "Applied" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(fake.statuses.at(-1)?.reason, "Applied", "retried without any new event");
    assert.equal(fake.statuses.at(-1)?.observedGeneration, 2);
    assert.equal((fake.applied.at(-1)!.find((o) => o.kind === "StatefulSet")!.spec as { replicas: number }).replicas, 4);
  });

  it("forgets a deleted connector: the same name created again is applied as new", async () => {
    await c.reconcile(withGen(1), false);
    c.deleted(withGen(1));
    assert.equal(await c.reconcile({ ...connectorObject({}, { uid: "u-2", generation: 1 }) }, false), "applied");
    assert.equal(fake.applied.at(-1)![0]!.metadata.ownerReferences[0]!.uid, "u-2");
  });

  it("queues per connector: a burst of events applies the newest version, not every one", async () => {
    for (let g = 1; g <= 5; g++) c.upsert(withGen(g, { instances: g }));
    await c.idle();
    const replicas = fake.applied.map((b) => (b.find((o) => o.kind === "StatefulSet")!.spec as { replicas: number }).replicas);
    assert.equal(replicas.at(-1), 5);
    assert.ok(replicas.length <= 2, `applied ${replicas.join(",")}`);
  });
});
