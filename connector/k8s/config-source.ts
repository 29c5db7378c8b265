/**
 * `--config k8s://<namespace>/<name>`: the KafkaConnector of that name and every
 * KafkaConnectorTopicMap in its namespace whose kafkaConnectorRef names it, read from the API and
 * followed with watches.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { ConfigError } from "../core/errors";
import type { ConnectorConfig } from "../config/load";
import type { Logger } from "../logger";
import { loadKubeConfig } from "./kube";
import { ResourceWatch, type WatchedObject } from "./list-watch";
import { resolveDesired, type Desired } from "./desired";

export const K8S_SCHEME = "k8s://";

export interface ResourceRef {
  namespace: string;
  name: string;
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function isK8sSource(value: string): boolean {
  return value.startsWith(K8S_SCHEME);
}

/** `k8s://ns/name`, or `k8s://name` inside a pod (POD_NAMESPACE). Throws naming the expected form. */
export function parseK8sSource(value: string, env: NodeJS.ProcessEnv = process.env): ResourceRef {
  const parts = value.slice(K8S_SCHEME.length).split("/");
  const [namespace, name] = parts.length === 1 && env["POD_NAMESPACE"] ? [env["POD_NAMESPACE"], parts[0]] : parts;
  if (parts.length > 2 || !namespace || !name || !DNS_NAME.test(namespace) || !DNS_NAME.test(name)) {
    throw new ConfigError([{ document: "--config", path: "", message: `got ${JSON.stringify(value)}; expected k8s://<namespace>/<KafkaConnector name>, e.g. k8s://azure-iot-operations/my-connector` }]);
  }
  return { namespace, name };
}

export class CustomResources {
  readonly connectorWatch: ResourceWatch;
  readonly mapWatch: ResourceWatch;

  constructor(
    readonly kc: KubeConfig,
    readonly ref: ResourceRef,
    log: Logger,
    onChange: () => void,
  ) {
    this.connectorWatch = new ResourceWatch(kc, "KafkaConnector", ref.namespace, log, onChange, `metadata.name=${ref.name}`);
    this.mapWatch = new ResourceWatch(kc, "KafkaConnectorTopicMap", ref.namespace, log, onChange);
  }

  start(): Promise<void> {
    this.connectorWatch.start();
    this.mapWatch.start();
    return Promise.all([this.connectorWatch.synced, this.mapWatch.synced]).then(() => undefined);
  }

  connector(): WatchedObject | undefined {
    return this.connectorWatch.objects().find((o) => o.metadata?.name === this.ref.name);
  }

  maps(): readonly WatchedObject[] {
    return this.mapWatch.objects();
  }

  stop(): void {
    this.connectorWatch.stop();
    this.mapWatch.stop();
  }
}

/**
 * One read, no watch: for `check` and `--validate`. Throws ConfigError with every problem found,
 * the way a file configuration reports them.
 */
export async function readConnectorConfig(ref: ResourceRef, log: Logger, timeoutMs = 30_000): Promise<ConnectorConfig> {
  const resources = new CustomResources(loadKubeConfig(), ref, log, () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    if ((await Promise.race([resources.start(), timedOut])) === "timeout") {
      throw new ConfigError([{ document: `${K8S_SCHEME}${ref.namespace}/${ref.name}`, path: "", message: `could not list the custom resources within ${timeoutMs / 1000} s (see the log for the API's answers)` }]);
    }
    return configOrThrow(ref, resolveDesired(ref.name, resources.connector(), resources.maps(), { maps: new Map() }), !!resources.connector());
  } finally {
    clearTimeout(timer);
    resources.stop();
  }
}

function configOrThrow(ref: ResourceRef, d: Desired, found: boolean): ConnectorConfig {
  const problems = [...d.connector.problems, ...d.maps.flatMap((m) => m.problems)];
  if (!found) problems.unshift({ document: `KafkaConnector/${ref.name}`, path: "", message: `not found in namespace ${ref.namespace}` });
  if (problems.length || !d.config) throw new ConfigError(problems);
  return d.config;
}
