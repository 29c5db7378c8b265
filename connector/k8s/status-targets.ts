/** What the status writer writes, assembled from the supervisor's view of the resources and the running routes. */
import type { RouteRuntimeState } from "../connector";
import type { LastErrors } from "../lifecycle/last-errors";
import { routeBody } from "../config/routes";
import type { KafkaConnectorTopicMapResource } from "../config/schema";
import type { Supervisor } from "./supervisor";
import type { WatchedObject } from "./list-watch";
import { connectorStatus, topicMapStatus, type Condition, type RouteView } from "./status";
import type { StatusTarget } from "./status-writer";

/** Delivered messages per second per route, between two status writes. */
export class RateMeter {
  private last = new Map<string, { delivered: number; at: number }>();

  rates(states: Record<string, RouteRuntimeState>, now: number): Map<string, number> {
    const out = new Map<string, number>();
    const next = new Map<string, { delivered: number; at: number }>();
    for (const [key, s] of Object.entries(states)) {
      const prev = this.last.get(key);
      out.set(key, prev && now > prev.at ? Math.max(0, ((s.delivered - prev.delivered) * 1000) / (now - prev.at)) : 0);
      next.set(key, { delivered: s.delivered, at: now });
    }
    this.last = next;
    return out;
  }
}

function storedConditions(o: WatchedObject | undefined): Condition[] | undefined {
  const c = (o?.status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(c) ? (c as Condition[]) : undefined;
}

export interface TargetContext {
  supervisor: Supervisor;
  lastErrors: LastErrors;
  rates: RateMeter;
  identity: string;
}

export function statusTargets(ctx: TargetContext, instancesReady: number, previous: (uid: string) => Condition[] | undefined): StatusTarget[] {
  const { supervisor: sup } = ctx;
  const d = sup.desired;
  if (!d) return [];
  const now = new Date().toISOString();
  const states = sup.connector?.routeStates() ?? {};
  const rates = ctx.rates.rates(states, Date.now());
  const out: StatusTarget[] = [];
  const cObj = sup.resources.connector();
  if (cObj?.metadata?.uid && d.connector.generation !== undefined) {
    const uid = cObj.metadata.uid;
    const stored = storedConditions(cObj);
    const instances = d.config?.connector.spec.instances ?? 1;
    const status = connectorStatus(
      { generation: d.connector.generation, problems: d.connector.problems, ...(d.connector.running !== undefined ? { running: d.connector.running } : {}), instances, instancesReady, statusWriter: ctx.identity, ...(sup.connectorError ? { applyError: sup.connectorError } : {}) },
      previous(uid) ?? stored,
      now,
    );
    out.push({ kind: "KafkaConnector", name: sup.resources.ref.name, uid, status: { ...status }, ...(stored ? { stored } : {}) });
  }
  const objects = new Map(sup.resources.maps().map((o) => [o.metadata?.uid ?? "", o]));
  for (const report of d.maps) {
    const a = sup.applied.get(report.uid);
    // Not running yet: show the accepted generation's routes, stopped.
    const runningResource = a?.resource ?? d.accepted.maps.get(report.uid)?.resource;
    const applyError = a?.errorGeneration !== undefined && a.errorGeneration === report.running ? a.error : undefined;
    const routes = runningResource ? routeViews(runningResource, states, rates, ctx.lastErrors) : [];
    const stored = storedConditions(objects.get(report.uid));
    const status = topicMapStatus(
      { report, ...(a?.generation !== undefined ? { running: a.generation } : {}), ...(applyError ? { applyError } : {}), applying: report.running !== undefined && report.running !== a?.generation && !applyError, routes },
      previous(report.uid) ?? stored,
      now,
    );
    out.push({ kind: "KafkaConnectorTopicMap", name: report.name, uid: report.uid, status: { ...status }, ...(stored ? { stored } : {}) });
  }
  return out;
}

function routeViews(map: KafkaConnectorTopicMapResource, states: Record<string, RouteRuntimeState>, rates: Map<string, number>, lastErrors: LastErrors): RouteView[] {
  return map.spec.routes.flatMap((r) => {
    const b = routeBody(r);
    if (!b) return [];
    const key = `${map.metadata.name}/${b.body.name}`;
    const s = states[key];
    const lastError = lastErrors.get(b.body.name);
    return [{ name: b.body.name, direction: b.direction, running: !!s, connected: !!s?.connected, inFlight: s?.inFlight ?? 0, messagesPerSecond: rates.get(key) ?? 0, ...(lastError ? { lastError } : {}) }];
  });
}
