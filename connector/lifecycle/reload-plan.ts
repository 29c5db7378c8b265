/**
 * What a reload does to the running routes, decided from what runs and what the new topic maps ask
 * for. Pure, so the decision has its own table of tests (test/unit/reload-plan.test.ts).
 */

/** What decides whether a running route must be restarted, and whether it must leave its subscription. */
export interface RouteState {
  /** Everything that shapes the route's behaviour; any change restarts it. */
  fingerprint: string;
  /** The MQTT filter an mqttToKafka route's clients subscribe to; undefined for kafkaToMqtt. */
  filter?: string;
}

export interface ReloadPlan {
  /** New routes: started. */
  added: string[];
  /** Routes no map names any more: drained, stopped, their sessions ended. */
  removed: string[];
  /** Routes whose definition changed: drained and stopped, then started again with the same client IDs. */
  changed: string[];
  /** Left running untouched. */
  unchanged: string[];
  /**
   * Of removed and changed: those that must give up their subscription before they stop (removed,
   * or a changed filter), so the session does not keep queueing for a filter nobody reads. A
   * changed route with the same filter keeps it, and what the broker queues meanwhile carries over.
   */
  leave: string[];
}

export function planReload(running: ReadonlyMap<string, RouteState>, wanted: ReadonlyMap<string, RouteState>): ReloadPlan {
  const removed = [...running.keys()].filter((k) => !wanted.has(k));
  const added = [...wanted.keys()].filter((k) => !running.has(k));
  const changed = [...wanted.keys()].filter((k) => running.has(k) && running.get(k)!.fingerprint !== wanted.get(k)!.fingerprint);
  const unchanged = [...wanted.keys()].filter((k) => running.has(k) && !changed.includes(k));
  const leave = [...removed, ...changed.filter((k) => running.get(k)!.filter !== wanted.get(k)!.filter)];
  return { added, removed, changed, unchanged, leave };
}
