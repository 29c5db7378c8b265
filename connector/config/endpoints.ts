/**
 * Facts about endpoints and where things are mounted, shared by the connector, its CRDs and the
 * Pulumi components.
 */
import type { Compression, KafkaConnectorTopicMapResource } from "./schema";
import type { ConfigProblem } from "../core/errors";

/** Event Hubs' Kafka endpoint host names, in the public and the sovereign clouds. */
const EVENT_HUBS_DOMAINS = ["servicebus\\.windows\\.net", "servicebus\\.chinacloudapi\\.cn", "servicebus\\.usgovcloudapi\\.net"];

/**
 * The Event Hubs host test as regex source, for a `host` or a `host:port` list: a JavaScript
 * RegExp with the `i` flag, and (with `(?i)` in front) the RE2 that CEL's `matches` takes.
 */
export const EVENT_HUBS_ENDPOINT_PATTERN = `\\.(${EVENT_HUBS_DOMAINS.join("|")})(:|,|$)`;
const EVENT_HUBS_ENDPOINT = new RegExp(EVENT_HUBS_ENDPOINT_PATTERN, "i");

/** `a:9092, b:9092` → `["a:9092", "b:9092"]`. */
export function splitEndpoints(endpoint: string): string[] {
  return endpoint
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
}

/** Whether a bootstrap list points at Event Hubs, which changes limits, timeouts and allowed codecs. */
export function isEventHubs(endpoint: string): boolean {
  return splitEndpoints(endpoint).some((e) => EVENT_HUBS_ENDPOINT.test(e));
}

/**
 * Event Hubs accepts produce requests uncompressed or gzip, and gzip only on the Premium and
 * Dedicated tiers. `premium` undefined: the tier is not known here (the connector at run time).
 * Returns why the combination is refused, or undefined.
 */
export function eventHubsCompressionProblem(compression: Compression, premium?: boolean): string | undefined {
  if (compression === "snappy" || compression === "lz4") {
    return `got ${JSON.stringify(compression)}; Event Hubs accepts only none or gzip (gzip on Premium and Dedicated tiers)`;
  }
  if (compression === "gzip" && premium === false) return "gzip needs the Premium tier (or Dedicated) on Event Hubs; use a Premium namespace, or none";
  return undefined;
}

/** Topic maps whose compression Event Hubs at `endpoint` refuses, as config problems (none for other Kafka). */
export function compressionProblems(endpoint: string, maps: readonly KafkaConnectorTopicMapResource[], premium?: boolean): ConfigProblem[] {
  if (!isEventHubs(endpoint)) return [];
  return maps.flatMap((m) => {
    const problem = eventHubsCompressionProblem(m.spec.compression, premium);
    return problem ? [{ document: `KafkaConnectorTopicMap/${m.metadata.name}`, path: "spec.compression", message: problem }] : [];
  });
}

/** Where Secrets and ConfigMaps are mounted, as `<dir>/<name>/<key>`, unless `--secrets-dir` says otherwise. */
export const DEFAULT_SECRETS_DIR = "/var/run/secrets/mqtt-kafka-connector";
/** The projected service account token for K8S-SAT, unless the resource or `$MQTT_SAT_TOKEN_PATH` says otherwise. */
export const DEFAULT_SAT_TOKEN_PATH = "/var/run/secrets/tokens/mqtt-client-token";
