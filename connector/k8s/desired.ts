/**
 * What the connector should run, given the custom resources it sees and what it accepted before.
 * A resource that fails validation does not stop anything: its last accepted version keeps
 * running (or, if it never had one, it is left out), and its problems go to its status.
 */
import type { ConfigProblem } from "../core/errors";
import { compressionProblems } from "../config/endpoints";
import type { ConnectorConfig } from "../config/load";
import type { KafkaConnectorResource, KafkaConnectorTopicMapResource } from "../config/schema";
import { validateDocument } from "../config/validate";
import { routeBody } from "../config/routes";
import { asConfigDocument } from "./kube";
import type { WatchedObject } from "./list-watch";

export interface AcceptedVersion<R> {
  generation: number;
  resource: R;
}

/** The versions last accepted, by object uid: the fallback when a newer one is invalid. */
export interface Accepted {
  connector?: AcceptedVersion<KafkaConnectorResource>;
  maps: Map<string, AcceptedVersion<KafkaConnectorTopicMapResource>>;
}

export interface MapReport {
  name: string;
  uid: string;
  generation: number;
  /** Why the newest generation is not (all) running; empty when it is accepted. */
  problems: ConfigProblem[];
  /** The generation that runs: the newest, an older accepted one, or none. */
  running?: number;
}

export interface Desired {
  /** What to run; undefined while no valid KafkaConnector was ever seen. */
  config?: ConnectorConfig;
  connector: { generation?: number; problems: ConfigProblem[]; running?: number };
  maps: MapReport[];
  accepted: Accepted;
}

const generationOf = (o: WatchedObject): number => o.metadata?.generation ?? 0;
const uidOf = (o: WatchedObject): string => o.metadata?.uid ?? `${o.metadata?.namespace}/${o.metadata?.name}`;

function validate<R>(o: WatchedObject): { resource?: R; problems: ConfigProblem[] } {
  const res = validateDocument(asConfigDocument(o));
  return res.problems.length || !res.resource ? { problems: res.problems } : { resource: res.resource as R, problems: [] };
}

function refersTo(o: WatchedObject, connectorName: string): boolean {
  const spec = o.spec as { kafkaConnectorRef?: unknown } | undefined;
  return spec?.kafkaConnectorRef === connectorName;
}

function routeNames(m: KafkaConnectorTopicMapResource): string[] {
  return m.spec.routes.map((r) => routeBody(r)?.body.name ?? "");
}

export function resolveDesired(connectorName: string, connectorObj: WatchedObject | undefined, mapObjs: readonly WatchedObject[], prev: Accepted): Desired {
  const accepted: Accepted = { maps: new Map() };
  const connector: Desired["connector"] = { problems: [] };
  if (connectorObj) {
    connector.generation = generationOf(connectorObj);
    const v = validate<KafkaConnectorResource>(connectorObj);
    connector.problems = v.problems;
    accepted.connector = v.resource ? { generation: connector.generation, resource: v.resource } : prev.connector;
  } else {
    accepted.connector = prev.connector;
  }
  connector.running = accepted.connector?.generation;
  const endpoint = accepted.connector?.resource.spec.kafkaConnection.endpoint ?? "";

  // Already-accepted versions claim their route names first, so a newcomer cannot displace them.
  const mine = mapObjs.filter((o) => refersTo(o, connectorName));
  const candidates = mine.map((o) => {
    const uid = uidOf(o);
    const v = validate<KafkaConnectorTopicMapResource>(o);
    const problems = v.resource ? compressionProblems(endpoint, [v.resource]) : v.problems;
    const fresh = problems.length ? undefined : v.resource;
    return { o, uid, problems, fresh, fallback: prev.maps.get(uid) };
  });
  const order = (c: (typeof candidates)[number]) => (c.fallback?.generation === generationOf(c.o) ? 0 : 1);
  candidates.sort((a, b) => order(a) - order(b) || String(a.o.metadata?.creationTimestamp ?? "").localeCompare(String(b.o.metadata?.creationTimestamp ?? "")) || (a.o.metadata?.name ?? "").localeCompare(b.o.metadata?.name ?? ""));

  const owner = new Map<string, string>();
  const reports: MapReport[] = [];
  for (const c of candidates) {
    const name = c.o.metadata?.name ?? "";
    const report: MapReport = { name, uid: c.uid, generation: generationOf(c.o), problems: c.problems };
    const tryUse = (version: AcceptedVersion<KafkaConnectorTopicMapResource>): ConfigProblem[] => {
      const clashes = routeNames(version.resource).flatMap((r, i) => {
        const other = owner.get(r);
        return other && other !== name ? [{ document: `KafkaConnectorTopicMap/${name}`, path: `spec.routes[${i}]`, message: `route name ${JSON.stringify(r)} is also used by KafkaConnectorTopicMap/${other}; route names must be unique per connector` }] : [];
      });
      if (clashes.length) return clashes;
      for (const r of routeNames(version.resource)) owner.set(r, name);
      accepted.maps.set(c.uid, version);
      report.running = version.generation;
      return [];
    };
    if (c.fresh) {
      report.problems = tryUse({ generation: report.generation, resource: c.fresh });
      if (report.problems.length && c.fallback) tryUse(c.fallback);
    } else if (c.fallback) {
      tryUse(c.fallback);
    }
    reports.push(report);
  }
  reports.sort((a, b) => a.name.localeCompare(b.name));
  const maps = [...accepted.maps.values()].map((v) => v.resource).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return { ...(accepted.connector ? { config: { connector: accepted.connector.resource, topicMaps: maps } } : {}), connector, maps: reports, accepted };
}
