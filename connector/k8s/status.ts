/**
 * The status the connector writes on its custom resources, as pure functions of what it knows:
 * which generation runs, why a newer one does not, and how each route is doing. Conditions follow
 * the Kubernetes convention (type, status, reason, message, lastTransitionTime, observedGeneration).
 */
import type { ConfigProblem } from "../core/errors";
import type { Direction } from "../config/routes";
import type { MapReport } from "./desired";

export type ConditionType = "Ready" | "ConfigValid" | "Degraded";

export interface Condition {
  type: ConditionType;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

export interface RouteStatus {
  name: string;
  direction: Direction;
  /** Running: connected and moving messages; NotReady: started, a connection is down; Stopped: not running. */
  state: "Running" | "NotReady" | "Stopped";
  /** Messages delivered per second since the previous status write. */
  messagesPerSecond: number;
  inFlight: number;
  lastError?: string;
  lastErrorTime?: string;
}

export interface TopicMapStatus {
  observedGeneration: number;
  /** The generation whose routes run (older than observedGeneration while the newest is rejected). */
  runningGeneration?: number;
  /** `<running and connected>/<routes>`, for `kubectl get`. */
  readyRoutes: string;
  conditions: Condition[];
  routes: RouteStatus[];
}

export interface ConnectorStatus {
  observedGeneration: number;
  runningGeneration?: number;
  instances: number;
  instancesReady: number;
  /** The instance that writes status. */
  statusWriter: string;
  conditions: Condition[];
}

type Draft = Omit<Condition, "lastTransitionTime" | "observedGeneration">;

/** Keeps lastTransitionTime where the status did not change, so it says when it last flipped. */
export function withTransitions(drafts: Draft[], previous: readonly Condition[] | undefined, generation: number, now: string): Condition[] {
  return drafts.map((d) => {
    const prev = previous?.find((p) => p.type === d.type);
    return { ...d, observedGeneration: generation, lastTransitionTime: prev && prev.status === d.status ? prev.lastTransitionTime : now };
  });
}

const MAX_MESSAGE = 1024;

export function problemsMessage(problems: readonly ConfigProblem[]): string {
  const text = problems.map((p) => `${p.path || "(document)"}: ${p.message}`).join("; ");
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
}

export interface RouteView {
  name: string;
  direction: Direction;
  running: boolean;
  connected: boolean;
  inFlight: number;
  messagesPerSecond: number;
  lastError?: { message: string; at: string };
}

export interface MapInputs {
  /** The newest generation and why it is rejected, if it is. */
  report: Pick<MapReport, "generation" | "problems">;
  /** The generation the connector runs. */
  running?: number;
  /** The newest accepted generation could not be applied: why. */
  applyError?: string;
  /** An accepted generation is on its way to the connector. */
  applying: boolean;
  /** Routes of the running generation. */
  routes: RouteView[];
}

export function topicMapConditions(i: MapInputs): Draft[] {
  const { report } = i;
  const invalid = report.problems.length > 0;
  const clash = report.problems.some((p) => p.message.includes("must be unique per connector"));
  const valid: Draft = invalid
    ? { type: "ConfigValid", status: "False", reason: clash ? "DuplicateRouteName" : "InvalidSpec", message: problemsMessage(report.problems) }
    : { type: "ConfigValid", status: "True", reason: "Valid", message: `generation ${report.generation} passed validation` };
  const down = i.routes.filter((r) => !r.running || !r.connected);
  let ready: Draft;
  if (i.applyError) ready = { type: "Ready", status: "False", reason: "ReloadFailed", message: i.applyError };
  else if (i.applying) ready = { type: "Ready", status: "False", reason: "Applying", message: "the newest accepted generation is being applied" };
  else if (i.running === undefined) ready = { type: "Ready", status: "False", reason: "NotRunning", message: invalid ? "no valid generation of this topic map has been accepted" : "waiting for the connector to start" };
  else if (down.length) ready = { type: "Ready", status: "False", reason: "RoutesNotReady", message: down.map(routeProblem).join("; ") };
  else ready = { type: "Ready", status: "True", reason: "RoutesRunning", message: `${i.routes.length} route(s) of generation ${i.running} running` };
  let degraded: Draft = { type: "Degraded", status: "False", reason: "AsExpected", message: "" };
  const why = invalid ? "was rejected" : i.applyError ? "could not be applied" : undefined;
  if (i.running !== undefined && i.running !== report.generation && why) {
    degraded = { type: "Degraded", status: "True", reason: "RunningPreviousGeneration", message: `generation ${report.generation} ${why}; generation ${i.running} keeps running` };
  } else if (down.length && down.length < i.routes.length) {
    degraded = { type: "Degraded", status: "True", reason: "RoutesNotReady", message: `${down.length} of ${i.routes.length} routes not ready` };
  }
  return [ready, valid, degraded];
}

function routeProblem(r: RouteView): string {
  const what = r.running ? "a connection is down" : "not running";
  return `route ${r.name}: ${what}${r.lastError ? ` (last error: ${r.lastError.message})` : ""}`;
}

export function topicMapStatus(i: MapInputs, previous: readonly Condition[] | undefined, now: string): TopicMapStatus {
  const routes: RouteStatus[] = i.routes.map((r) => ({
    name: r.name,
    direction: r.direction,
    state: !r.running ? "Stopped" : r.connected ? "Running" : "NotReady",
    messagesPerSecond: Math.round(r.messagesPerSecond * 10) / 10,
    inFlight: r.inFlight,
    ...(r.lastError ? { lastError: r.lastError.message, lastErrorTime: r.lastError.at } : {}),
  }));
  const up = routes.filter((r) => r.state === "Running").length;
  return {
    observedGeneration: i.report.generation,
    ...(i.running !== undefined ? { runningGeneration: i.running } : {}),
    readyRoutes: `${up}/${routes.length}`,
    conditions: withTransitions(topicMapConditions(i), previous, i.report.generation, now),
    routes,
  };
}

export interface ConnectorInputs {
  generation: number;
  problems: ConfigProblem[];
  running?: number;
  instances: number;
  instancesReady: number;
  statusWriter: string;
  /** Reconnecting with a changed KafkaConnector failed: why. */
  applyError?: string;
}

export function connectorStatus(i: ConnectorInputs, previous: readonly Condition[] | undefined, now: string): ConnectorStatus {
  const valid: Draft = i.problems.length
    ? { type: "ConfigValid", status: "False", reason: "InvalidSpec", message: problemsMessage(i.problems) }
    : { type: "ConfigValid", status: "True", reason: "Valid", message: `generation ${i.generation} passed validation` };
  const all = i.instancesReady >= i.instances;
  const ready: Draft = i.applyError
    ? { type: "Ready", status: "False", reason: "ReconnectFailed", message: i.applyError }
    : { type: "Ready", status: all ? "True" : "False", reason: all ? "InstancesReady" : "InstancesNotReady", message: `${i.instancesReady}/${i.instances} instances ready` };
  const older = i.running !== undefined && i.running !== i.generation;
  const degraded: Draft = older
    ? { type: "Degraded", status: "True", reason: "RunningPreviousGeneration", message: `generation ${i.generation} was rejected; generation ${i.running} keeps running` }
    : i.instancesReady > 0 && !all
      ? { type: "Degraded", status: "True", reason: "InstancesNotReady", message: `${i.instancesReady}/${i.instances} instances ready` }
      : { type: "Degraded", status: "False", reason: "AsExpected", message: "" };
  return {
    observedGeneration: i.generation,
    ...(i.running !== undefined ? { runningGeneration: i.running } : {}),
    instances: i.instances,
    instancesReady: i.instancesReady,
    statusWriter: i.statusWriter,
    conditions: withTransitions([ready, valid, degraded], previous, i.generation, now),
  };
}

