// Helpers for the connector-on-custom-resources tests: resources as typed objects, kubectl
// reads of their status, and connector processes that read them through a kubeconfig.
import { hostname } from "node:os";
import { API_VERSION_FULL, type KafkaConnectorSpecInput, type KafkaConnectorTopicMapSpecInput } from "../../connector/config/schema";
import { waitFor, type LocalCluster } from "../../scripts/local-cluster";
import { ConnectorProcess } from "../helpers/connector-process";

export type Doc = Record<string, unknown>;
export type RouteSpec = KafkaConnectorTopicMapSpecInput["routes"][number];

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface MapStatus {
  observedGeneration?: number;
  runningGeneration?: number;
  readyRoutes?: string;
  conditions?: Condition[];
  routes?: { name: string; state: string; messagesPerSecond?: number; lastError?: string }[];
}

export interface ConnectorStatus {
  observedGeneration?: number;
  runningGeneration?: number;
  instancesReady?: number;
  statusWriter?: string;
  conditions?: Condition[];
}

export const connectorDoc = (ns: string, name: string, spec: Partial<KafkaConnectorSpecInput> & Pick<KafkaConnectorSpecInput, "kafkaConnection">): Doc => ({
  apiVersion: API_VERSION_FULL,
  kind: "KafkaConnector",
  metadata: { name, namespace: ns },
  spec: { image: {}, instances: 1, logLevel: "info", ...spec },
});

export const mapDoc = (ns: string, name: string, connector: string, routes: RouteSpec[]): Doc => ({
  apiVersion: API_VERSION_FULL,
  kind: "KafkaConnectorTopicMap",
  metadata: { name, namespace: ns },
  spec: { kafkaConnectorRef: connector, routes },
});

export const m2k = (name: string, mqttTopic: string, kafkaTopic: string): RouteSpec => ({ mqttToKafka: { name, mqttTopic, kafkaTopic } });
export const k2m = (name: string, kafkaTopic: string, mqttTopic: string): RouteSpec => ({ kafkaToMqtt: { name, kafkaTopic, mqttTopic } });

export const cond = (s: { conditions?: Condition[] } | undefined, type: string): Condition | undefined => s?.conditions?.find((c) => c.type === type);

export class CrClient {
  constructor(
    readonly cluster: LocalCluster,
    readonly ns: string,
  ) {}

  async apply(...docs: Doc[]): Promise<string> {
    return this.cluster.kubectl(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: docs }) });
  }

  async get<T>(resource: string, name: string): Promise<T & { metadata: { generation: number }; status?: Doc }> {
    return JSON.parse(await this.cluster.kubectl(["-n", this.ns, "get", resource, name, "-o", "json"])) as T & { metadata: { generation: number } };
  }

  async mapStatus(name: string): Promise<{ generation: number; status: MapStatus }> {
    const o = await this.get<{ status?: MapStatus }>("kafkaconnectortopicmap", name);
    return { generation: o.metadata.generation, status: (o.status ?? {}) as MapStatus };
  }

  async connectorStatus(name: string): Promise<{ generation: number; status: ConnectorStatus }> {
    const o = await this.get<{ status?: ConnectorStatus }>("kafkaconnector", name);
    return { generation: o.metadata.generation, status: (o.status ?? {}) as ConnectorStatus };
  }

  /** Polls until `check` returns undefined (no complaint); the last complaint is in the error. */
  async until<T>(what: string, read: () => Promise<T>, check: (v: T) => string | undefined, timeoutMs = 45_000): Promise<T> {
    let last: T | undefined;
    await waitFor(what, timeoutMs, async () => {
      last = await read();
      const complaint = check(last);
      if (complaint) throw new Error(`${complaint}: ${JSON.stringify(last)}`);
    });
    return last!;
  }

  async leaseHolder(name: string): Promise<string> {
    return this.cluster.kubectl(["-n", this.ns, "get", "lease", name, "-o", "jsonpath={.spec.holderIdentity}"]);
  }

  async table(): Promise<string> {
    return this.cluster.kubectl(["-n", this.ns, "get", "kafkaconnectors,kafkaconnectortopicmaps"]);
  }
}

/** The connector as a local process reading k8s://ns/name through the cluster's kubeconfig. */
export async function crConnector(cluster: LocalCluster, ns: string, name: string, o: { instance?: number; label?: string; logFile?: string } = {}): Promise<ConnectorProcess> {
  return ConnectorProcess.serve({
    config: `k8s://${ns}/${name}`,
    env: { KUBECONFIG: cluster.kubeconfig },
    hardLimitMs: 900_000,
    drainTimeoutS: 20,
    label: o.label ?? `connector ${name}${o.instance !== undefined ? `#${o.instance}` : ""}`,
    ...(o.instance !== undefined ? { instance: o.instance } : {}),
    ...(o.logFile ? { logFile: o.logFile } : {}),
  });
}

/** The status writer identity a connector process uses (connector/k8s/run.ts). */
export function identityOf(p: ConnectorProcess): string {
  return `${hostname()}-${p.pid}`;
}

/** The parsed JSON log lines of a process with this message. */
export function logLines(p: ConnectorProcess, msg: string): Doc[] {
  return p
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{") && l.includes(`"msg":${JSON.stringify(msg)}`))
    .map((l) => JSON.parse(l) as Doc);
}
