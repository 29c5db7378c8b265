import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { closest, distance } from "fastest-levenshtein";
import {
  KafkaConnectorDocument,
  KafkaConnectorTopicMapDocument,
  API_VERSION_FULL,
  KAFKA_AUTH_TYPES,
  type KafkaConnectorResource,
  type KafkaConnectorTopicMapResource,
} from "./schema";
import type { ConfigProblem } from "../core/errors";
import { topicFilterProblem, topicNameProblem, topicMatches } from "../core/topic-filter";
import { kafkaToMqttTemplateProblems, mqttToKafkaTemplateProblems } from "./templates";
import { isEventHubs } from "./endpoints";
import { duplicateNames, routeBody } from "./routes";

export type ConfigResource = KafkaConnectorResource | KafkaConnectorTopicMapResource;

const KINDS = ["KafkaConnector", "KafkaConnectorTopicMap"] as const;

// allErrors so one run reports every problem; useDefaults so validated documents are fully resolved.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const validators: Record<(typeof KINDS)[number], ValidateFunction> = {
  KafkaConnector: ajv.compile(KafkaConnectorDocument),
  KafkaConnectorTopicMap: ajv.compile(KafkaConnectorTopicMapDocument),
};

export function documentLabel(doc: unknown, source?: string): string {
  const rec = isRecord(doc) ? doc : {};
  const kind = typeof rec["kind"] === "string" ? rec["kind"] : "<no kind>";
  const meta = isRecord(rec["metadata"]) ? rec["metadata"] : {};
  const name = typeof meta["name"] === "string" ? meta["name"] : "<no name>";
  return source ? `${source} ${kind}/${name}` : `${kind}/${name}`;
}

/**
 * Validates one parsed YAML document and fills in defaults (mutating it).
 * Returns the typed resource, or the problems found.
 */
export function validateDocument(doc: unknown, source?: string): { resource?: ConfigResource; problems: ConfigProblem[] } {
  const label = documentLabel(doc, source);
  const problem = (path: string, message: string): ConfigProblem => ({ document: label, path, message });
  if (!isRecord(doc)) return { problems: [problem("", `expected a mapping with apiVersion, kind, metadata and spec; got ${show(doc)}`)] };

  const kind = doc["kind"];
  if (typeof kind !== "string" || !(KINDS as readonly string[]).includes(kind)) {
    return { problems: [problem("kind", `got ${show(kind)}; allowed: ${KINDS.join(", ")}`)] };
  }
  if (doc["apiVersion"] !== API_VERSION_FULL) {
    return { problems: [problem("apiVersion", `got ${show(doc["apiVersion"])}; allowed: ${API_VERSION_FULL}`)] };
  }
  const validate = validators[kind as (typeof KINDS)[number]];
  if (!validate(doc)) {
    return { problems: (validate.errors ?? []).filter(isReportable).map((e) => describeAjvError(e, doc, label)) };
  }
  const resource = doc as unknown as ConfigResource;
  return { resource, problems: semanticProblems(resource, label) };
}

/** Rules JSON Schema cannot state well. The CRD carries the same rules as CEL validations. */
export function semanticProblems(resource: ConfigResource, label: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const problem = (path: string, message: string) => out.push({ document: label, path, message });
  if (resource.kind === "KafkaConnector") {
    const auth = resource.spec.kafkaConnection.authentication;
    const host = resource.spec.kafkaConnection.endpoint;
    if (auth?.enabled && auth.authType.x509 && !resource.spec.kafkaConnection.tls.tlsEnabled) {
      problem("spec.kafkaConnection.tls.tlsEnabled", "got false; x509 authentication requires tlsEnabled: true");
    }
    if (auth?.enabled && !KAFKA_AUTH_TYPES.some((k) => auth.authType[k])) {
      problem("spec.kafkaConnection.authentication.authType", `set exactly one of ${KAFKA_AUTH_TYPES.join(", ")}; found none (authentication is enabled; set enabled: false for none)`);
    }
    if (isEventHubs(host) && !resource.spec.kafkaConnection.tls.tlsEnabled) {
      problem("spec.kafkaConnection.tls.tlsEnabled", "got false; Event Hubs accepts only TLS connections, set tlsEnabled: true");
    }
    const mqtt = resource.spec.localBrokerConnection;
    if (mqtt.authentication?.x509 && !mqtt.tls.tlsEnabled) {
      problem("spec.localBrokerConnection.tls.tlsEnabled", "got false; x509 authentication requires tlsEnabled: true");
    }
    return out;
  }
  const spec = resource.spec;
  if (spec.partitionStrategy === "property" && !spec.partitionKeyProperty) {
    problem("spec.partitionKeyProperty", "required when partitionStrategy is `property`");
  }
  if (spec.partitionStrategy !== "property" && spec.partitionKeyProperty) {
    problem("spec.partitionKeyProperty", `is only used with partitionStrategy \`property\`; got partitionStrategy \`${spec.partitionStrategy}\``);
  }
  const duplicates = new Map(duplicateNames(spec.routes.map((r) => routeBody(r)?.body.name)).map(([i, , first]) => [i, first]));
  spec.routes.forEach((route, i) => {
    const b = routeBody(route);
    if (!b) return;
    const r = b.body;
    const base = `spec.routes[${i}].${b.direction}`;
    const first = duplicates.get(i);
    if (first !== undefined) problem(`${base}.name`, `got ${show(r.name)}; route names must be unique, already used by spec.routes[${first}]`);
    if (b.direction === "mqttToKafka") {
      const filterProblem = topicFilterProblem(r.mqttTopic);
      if (filterProblem) problem(`${base}.mqttTopic`, `got ${show(r.mqttTopic)}; ${filterProblem}`);
      else for (const p of mqttToKafkaTemplateProblems(b.body, spec.partitionStrategy, spec.partitionKeyProperty)) problem(`${base}.${p.field}`, p.message);
    } else {
      for (const p of kafkaToMqttTemplateProblems(b.body)) problem(`${base}.${p.field}`, p.message);
    }
    if (r.kafkaTopic === "." || r.kafkaTopic === "..") problem(`${base}.kafkaTopic`, `got ${show(r.kafkaTopic)}; not a valid Kafka topic name`);
    const dl = r.deadLetter;
    if (dl?.mqttTopic !== undefined) {
      const p = topicNameProblem(dl.mqttTopic);
      if (p) problem(`${base}.deadLetter.mqttTopic`, `got ${show(dl.mqttTopic)}; ${p}`);
      else if (b.direction === "mqttToKafka" && topicMatches(r.mqttTopic, dl.mqttTopic)) {
        problem(`${base}.deadLetter.mqttTopic`, `got ${show(dl.mqttTopic)}; it matches the route's own filter ${show(r.mqttTopic)}, so dead letters would loop`);
      }
    }
    if (dl?.kafkaTopic !== undefined && dl.kafkaTopic === r.kafkaTopic) {
      problem(`${base}.deadLetter.kafkaTopic`, `got ${show(dl.kafkaTopic)}; the dead-letter topic must differ from the route's kafkaTopic`);
    } else if (dl?.kafkaTopic !== undefined && r.kafkaTopics?.includes(dl.kafkaTopic)) {
      problem(`${base}.deadLetter.kafkaTopic`, `got ${show(dl.kafkaTopic)}; the dead-letter topic must differ from the route's kafkaTopics`);
    }
  });
  return out;
}

// Ajv reports each `oneOf` branch's failed `required` too; the `oneOf` error itself says it better.
function isReportable(e: ErrorObject): boolean {
  return !/\/oneOf\/\d+\/required$/.test(e.schemaPath);
}

function describeAjvError(e: ErrorObject, doc: Record<string, unknown>, label: string): ConfigProblem {
  const base = toDotted(e.instancePath);
  const value = valueAt(doc, e.instancePath);
  const join = (field: string) => (base ? `${base}.${field}` : field);
  const params = e.params as Record<string, unknown>;
  const schema = (e.parentSchema ?? {}) as { description?: string; properties?: Record<string, unknown>; oneOf?: { required?: string[] }[] };
  let path = base;
  let message: string;
  switch (e.keyword) {
    case "additionalProperties": {
      const field = String(params["additionalProperty"]);
      path = join(field);
      const allowed = Object.keys(schema.properties ?? {});
      const guess = allowed.length ? closest(field, allowed) : undefined;
      const similar = guess && similarEnough(field, guess);
      message = `unknown field${similar ? `; did you mean \`${guess}\`?` : ""} (allowed: ${allowed.join(", ") || "none"})`;
      break;
    }
    case "required":
      path = join(String(params["missingProperty"]));
      message = "required field is missing";
      break;
    case "enum":
      message = `got ${show(value)}; allowed: ${(params["allowedValues"] as unknown[]).map((v) => String(v)).join(", ")}`;
      break;
    case "type":
      message = `got ${show(value)}; expected ${String(params["type"])}`;
      break;
    case "pattern":
      message = `got ${show(value)}; must match ${String(params["pattern"])}${schema.description ? ` (${lowerFirst(schema.description)})` : ""}`;
      break;
    case "oneOf": {
      const keys = (schema.oneOf ?? []).flatMap((b) => b.required ?? []);
      const present = isRecord(value) ? keys.filter((k) => k in value) : [];
      message = `set exactly one of ${keys.join(", ")}; found ${present.length ? present.join(", ") : "none"}`;
      break;
    }
    default:
      message = `got ${show(value)}; ${e.message ?? "is invalid"}`;
  }
  return { document: label, path, message };
}

function similarEnough(a: string, b: string): boolean {
  return distance(a.toLowerCase(), b.toLowerCase()) <= Math.max(2, Math.floor(a.length / 3));
}

function toDotted(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

function valueAt(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const seg of pointer.split("/").slice(1)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isRecord(cur)) cur = cur[seg.replace(/~1/g, "/").replace(/~0/g, "~")];
    else return undefined;
  }
  return cur;
}

export function show(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}

function lowerFirst(s: string): string {
  const t = s.replace(/\.$/, "");
  return t.charAt(0).toLowerCase() + t.slice(1);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
