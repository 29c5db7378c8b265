import { strict as assert } from "node:assert";
import { planReload, type ReloadPlan, type RouteState } from "../../connector/lifecycle/reload-plan";

const m = (entries: Record<string, RouteState>) => new Map(Object.entries(entries));

describe("reload plan", () => {
  const cases: { what: string; running: Record<string, RouteState>; wanted: Record<string, RouteState>; plan: ReloadPlan }[] = [
    {
      what: "nothing changed: everything keeps running",
      running: { "m/a": { fingerprint: "1", filter: "x/#" }, "m/b": { fingerprint: "2" } },
      wanted: { "m/a": { fingerprint: "1", filter: "x/#" }, "m/b": { fingerprint: "2" } },
      plan: { added: [], removed: [], changed: [], unchanged: ["m/a", "m/b"], leave: [] },
    },
    {
      what: "a new route is added, a missing one removed (and leaves its subscription)",
      running: { "m/a": { fingerprint: "1", filter: "x/#" } },
      wanted: { "m/b": { fingerprint: "2", filter: "y" } },
      plan: { added: ["m/b"], removed: ["m/a"], changed: [], unchanged: [], leave: ["m/a"] },
    },
    {
      what: "a changed route with the same filter keeps its subscription (what the broker queues meanwhile carries over)",
      running: { "m/a": { fingerprint: "1", filter: "x/#" } },
      wanted: { "m/a": { fingerprint: "1b", filter: "x/#" } },
      plan: { added: [], removed: [], changed: ["m/a"], unchanged: [], leave: [] },
    },
    {
      what: "a changed filter leaves the old subscription",
      running: { "m/a": { fingerprint: "1", filter: "x/#" } },
      wanted: { "m/a": { fingerprint: "1c", filter: "$share/g/x/#" } },
      plan: { added: [], removed: [], changed: ["m/a"], unchanged: [], leave: ["m/a"] },
    },
    {
      what: "kafkaToMqtt routes have no filter: a change never leaves",
      running: { "m/k": { fingerprint: "1" }, "m/gone": { fingerprint: "9" } },
      wanted: { "m/k": { fingerprint: "2" } },
      plan: { added: [], removed: ["m/gone"], changed: ["m/k"], unchanged: [], leave: ["m/gone"] },
    },
    {
      what: "the same route name in another topic map is another route",
      running: { "m1/r": { fingerprint: "1", filter: "a" } },
      wanted: { "m2/r": { fingerprint: "1", filter: "a" } },
      plan: { added: ["m2/r"], removed: ["m1/r"], changed: [], unchanged: [], leave: ["m1/r"] },
    },
  ];
  for (const c of cases) it(c.what, () => assert.deepEqual(planReload(m(c.running), m(c.wanted)), c.plan));
});
