/**
 * CustomResourceDefinitions rendered from the connector's config schema. Pure: the ConnectorCrds
 * component, `npm run gen:crds` (deploy/crds/*.yaml) and the tests all call these functions.
 */
import { Document } from "yaml";
import {
  API_GROUP,
  API_VERSION,
  KafkaConnectorDocument,
  KafkaConnectorTopicMapDocument,
  KAFKA_AUTH_TYPES,
} from "../connector/config/schema";
import { EVENT_HUBS_ENDPOINT_PATTERN } from "../connector/config/endpoints";
import { isRecord, plainJson, schemaProperties, type JsonSchema } from "./schema-json";
import { CONNECTOR_STATUS_SCHEMA, TOPIC_MAP_STATUS_SCHEMA } from "../connector/k8s/status-schema";

export const CONNECTOR_KIND = "KafkaConnector";
export const TOPIC_MAP_KIND = "KafkaConnectorTopicMap";
/** `kubectl get mqtt-kafka-connector` lists both kinds. */
export const CRD_CATEGORY = "mqtt-kafka-connector";

/** A CEL rule as the apiserver takes it in `x-kubernetes-validations`. */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** The apiextensions.k8s.io/v1 CustomResourceDefinition, as plain data. */
export interface CrdObject {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; categories: string[] };
    scope: "Namespaced";
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JsonSchema };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }[];
  };
}

/**
 * Turns a JSON schema into a Kubernetes structural schema:
 * - `additionalProperties: false` next to `properties` is dropped (the apiserver rejects the pair;
 *   it prunes unknown fields instead, and strict field validation reports them);
 * - `additionalProperties: true` without properties becomes `x-kubernetes-preserve-unknown-fields`;
 * - `$id` / `$schema` and TypeBox symbol keys are dropped.
 * `oneOf` lists made only of `required` are structural and are kept.
 */
export function toStructural(schema: unknown): JsonSchema {
  const src = plainJson(schema);
  if (!isRecord(src)) throw new Error(`expected a schema object, got ${JSON.stringify(src)}`);
  return structuralNode(src);
}

/**
 * A `oneOf` of `required` lists (one key of several) as a CEL rule with a message that names the
 * keys: the apiserver reports a failed `oneOf` only as "must validate one and only one schema".
 * A bare `maxProperties: 0` branch makes it "at most one".
 */
function oneOfRule(oneOf: unknown): CelRule | undefined {
  if (!Array.isArray(oneOf)) return undefined;
  const keys = oneOf.flatMap((b) => (isRecord(b) && Array.isArray(b["required"]) ? (b["required"] as string[]) : []));
  const orNone = oneOf.some((b) => isRecord(b) && b["maxProperties"] === 0);
  if (!keys.length || keys.length + (orNone ? 1 : 0) !== oneOf.length) return undefined;
  const count = `[${keys.map((k) => `has(self.${k})`).join(", ")}].filter(x, x).size()`;
  return { rule: orNone ? `${count} <= 1` : `${count} == 1`, message: `set ${orNone ? "at most" : "exactly"} one of ${keys.join(", ")}` };
}

function structuralNode(node: Record<string, unknown>): JsonSchema {
  const out: JsonSchema = {};
  const hasProps = isRecord(node["properties"]);
  const rule = oneOfRule(node["oneOf"]);
  if (rule) out["x-kubernetes-validations"] = [rule];
  for (const [key, value] of Object.entries(node)) {
    if (key === "$id" || key === "$schema" || (key === "oneOf" && rule)) continue;
    if (key === "additionalProperties") {
      if (value === true && !hasProps) out["x-kubernetes-preserve-unknown-fields"] = true;
      else if (isRecord(value)) out[key] = structuralNode(value);
      continue; // `false`, or `true` beside properties: both meaningless to the apiserver
    }
    if (key === "properties" && isRecord(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isRecord(v) ? structuralNode(v) : v]));
      continue;
    }
    if (key === "items" && isRecord(value)) {
      out[key] = structuralNode(value);
      continue;
    }
    out[key] = value;
  }
  return out;
}

// CEL rules mirroring connector/config/validate.ts semanticProblems. The apiserver multiplies a
// rule's estimated cost by list sizes, so `routes` has a maxItems and route names a maxLength;
// rules the connector checks at startup that CEL cannot state cheaply (MQTT filter syntax, a
// dead-letter topic matched by its own filter, a kafkaToMqtt mqttTopic template: up to 65535
// characters in up to 256 routes is more than the apiserver's cost budget for a regex) stay with
// the connector, which reports them with their field paths (and a custom resource source keeps
// running the last accepted generation).
const EVENT_HUBS_HOST = `(?i)${EVENT_HUBS_ENDPOINT_PATTERN}`;

export const CONNECTOR_CEL_RULES: Record<string, CelRule[]> = {
  "spec.kafkaConnection": [
    {
      rule: `!has(self.authentication) || !self.authentication.enabled || ${KAFKA_AUTH_TYPES.map((k) => `has(self.authentication.authType.${k})`).join(" || ")}`,
      message: `authentication.enabled is true: set one of authType.${KAFKA_AUTH_TYPES.join(", authType.")} (or enabled: false for none)`,
      fieldPath: ".authentication.authType",
    },
    {
      rule: "!has(self.authentication) || !self.authentication.enabled || !has(self.authentication.authType.x509) || self.tls.tlsEnabled",
      message: "x509 authentication requires tls.tlsEnabled: true",
      fieldPath: ".tls.tlsEnabled",
    },
    {
      rule: `self.tls.tlsEnabled || !self.endpoint.matches('${EVENT_HUBS_HOST.replace(/\\/g, "\\\\")}')`,
      message: "Event Hubs accepts only TLS connections; set tls.tlsEnabled: true",
      fieldPath: ".tls.tlsEnabled",
    },
  ],
};

/** A route's name, whichever direction it is. */
const ROUTE_NAME = (v: string) => `(has(${v}.mqttToKafka) ? ${v}.mqttToKafka.name : has(${v}.kafkaToMqtt) ? ${v}.kafkaToMqtt.name : '')`;

/** Text for a single-quoted CEL string literal: backslashes doubled. */
const celString = (s: string): string => s.replace(/\\/g, "\\\\");
/** A templated mqttToKafka kafkaTopic: legal Kafka characters outside `${inputTopic}` and `${inputTopic.N}` placeholders. */
const KAFKA_TOPIC_TEMPLATE_CEL = "^([A-Za-z0-9._-]|\\$\\{inputTopic(\\.[1-9][0-9]{0,4})?\\})+$";
/** A kafkaKey after `$${` escapes are replaced: every other `${` opens an mqttToKafka placeholder. */
const KAFKA_KEY_TEMPLATE_CEL = "^([^$]|\\$[^{]|\\$$|\\$\\{inputTopic(\\.[1-9][0-9]{0,4})?\\})*$";

export const TOPIC_MAP_CEL_RULES: Record<string, CelRule[]> = {
  "spec.routes[].mqttToKafka": [
    {
      rule: `self.kafkaTopic.matches('${celString(KAFKA_TOPIC_TEMPLATE_CEL)}')`,
      message: "kafkaTopic: a template may use only ${inputTopic} and ${inputTopic.N} (levels count from 1), and outside them only letters, digits, '.', '_' and '-'",
      fieldPath: ".kafkaTopic",
    },
    {
      rule: "!has(self.kafkaTopics) || self.kafkaTopic.contains('${')",
      message: "kafkaTopics is only used with a templated kafkaTopic (one with ${inputTopic} or ${inputTopic.N})",
      fieldPath: ".kafkaTopics",
    },
    {
      rule: `!has(self.kafkaKey) || self.kafkaKey.replace('$\${', '_').matches('${celString(KAFKA_KEY_TEMPLATE_CEL)}')`,
      message: "kafkaKey: a template may use only ${inputTopic} and ${inputTopic.N} (levels count from 1); write $${ for a literal ${",
      fieldPath: ".kafkaKey",
    },
  ],
  spec: [
    {
      rule: `self.routes.all(r, self.routes.exists_one(q, ${ROUTE_NAME("q")} == ${ROUTE_NAME("r")}))`,
      message: "route names must be unique within a topic map (mqttToKafka.name and kafkaToMqtt.name alike)",
      fieldPath: ".routes",
    },
    {
      rule: "(has(self.partitionStrategy) && self.partitionStrategy == 'property') == has(self.partitionKeyProperty)",
      message: "partitionKeyProperty is required when partitionStrategy is property, and only allowed then",
      fieldPath: ".partitionKeyProperty",
    },
    {
      rule: "!has(self.partitionStrategy) || self.partitionStrategy == 'default' || self.routes.all(r, !has(r.mqttToKafka) || !has(r.mqttToKafka.kafkaKey))",
      message: "mqttToKafka.kafkaKey sets the record key and so the partition; it combines only with partitionStrategy default",
      fieldPath: ".routes",
    },
  ],
};

/** The Event Hubs host pattern used in the CEL rule, as a JS RegExp (for tests). */
export const EVENT_HUBS_HOST_PATTERN = new RegExp(EVENT_HUBS_HOST.replace("(?i)", ""), "i");

function attachRules(root: JsonSchema, rules: Record<string, CelRule[]>): void {
  for (const [path, list] of Object.entries(rules)) {
    let node: JsonSchema = root;
    for (const segment of path.split(".")) {
      // `name[]`: the items of the array `name`.
      const field = segment.replace(/\[\]$/, "");
      let next: JsonSchema | undefined = schemaProperties(node)[field];
      if (next && segment !== field) next = isRecord(next["items"]) ? (next["items"] as JsonSchema) : undefined;
      if (!next) throw new Error(`CEL rule path ${path}: no property ${segment} in the schema`);
      node = next;
    }
    node["x-kubernetes-validations"] = [...((node["x-kubernetes-validations"] as CelRule[] | undefined) ?? []), ...list.map((r) => ({ ...r }))];
  }
}

function openApiSchema(document: unknown, kind: string, rules: Record<string, CelRule[]>, status: JsonSchema): JsonSchema {
  const props = schemaProperties(plainJson(document) as JsonSchema);
  const spec = props["spec"];
  if (!spec) throw new Error(`${kind} document schema has no spec`);
  const root: JsonSchema = {
    type: "object",
    description: `${kind} (${API_GROUP}/${API_VERSION}). Fields are described in connector/config/schema.ts.`,
    required: ["spec"],
    properties: {
      apiVersion: { type: "string", description: "API version of the object." },
      kind: { type: "string", description: "Kind of the object." },
      // Only name/generateName may be constrained under metadata; the apiserver validates the rest.
      metadata: { type: "object" },
      spec: toStructural(spec),
      status,
    },
  };
  attachRules(root, rules);
  return root;
}

function crd(kind: string, plural: string, schema: JsonSchema, columns: PrinterColumn[]): CrdObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${plural}.${API_GROUP}`,
      labels: { "app.kubernetes.io/part-of": "mqtt-kafka-connector" },
    },
    spec: {
      group: API_GROUP,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), categories: [CRD_CATEGORY] },
      scope: "Namespaced",
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: schema },
          subresources: { status: {} },
          additionalPrinterColumns: columns,
        },
      ],
    },
  };
}

const AGE: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

export function renderConnectorCrd(): CrdObject {
  return crd(CONNECTOR_KIND, "kafkaconnectors", openApiSchema(KafkaConnectorDocument, CONNECTOR_KIND, CONNECTOR_CEL_RULES, CONNECTOR_STATUS_SCHEMA as JsonSchema), [
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: "All instances ready." },
    { name: "Instances", type: "integer", jsonPath: ".spec.instances", description: "StatefulSet replicas." },
    { name: "Up", type: "integer", jsonPath: ".status.instancesReady", description: "Instances ready." },
    { name: "Kafka", type: "string", jsonPath: ".spec.kafkaConnection.endpoint", description: "Bootstrap servers." },
    { name: "MQTT", type: "string", jsonPath: ".spec.localBrokerConnection.endpoint", description: "MQTT broker.", priority: 1 },
    { name: "Image", type: "string", jsonPath: ".spec.image.tag", description: "Image tag.", priority: 1 },
    { name: "Log", type: "string", jsonPath: ".spec.logLevel", description: "Log level.", priority: 1 },
    AGE,
  ]);
}

export function renderTopicMapCrd(): CrdObject {
  return crd(TOPIC_MAP_KIND, "kafkaconnectortopicmaps", openApiSchema(KafkaConnectorTopicMapDocument, TOPIC_MAP_KIND, TOPIC_MAP_CEL_RULES, TOPIC_MAP_STATUS_SCHEMA as JsonSchema), [
    { name: "Connector", type: "string", jsonPath: ".spec.kafkaConnectorRef", description: "KafkaConnector this map belongs to." },
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: "Every route of the running generation is running." },
    { name: "Routes", type: "string", jsonPath: ".status.readyRoutes", description: "Running routes / routes." },
    { name: "Compression", type: "string", jsonPath: ".spec.compression", priority: 1 },
    { name: "Partitioning", type: "string", jsonPath: ".spec.partitionStrategy", priority: 1 },
    { name: "Batching", type: "boolean", jsonPath: ".spec.batching.enabled", priority: 1 },
    AGE,
  ]);
}

export function renderCrds(): CrdObject[] {
  return [renderConnectorCrd(), renderTopicMapCrd()];
}

/** File name under deploy/crds/ for a CRD. */
export function crdFileName(c: CrdObject): string {
  return `${c.metadata.name}.yaml`;
}

export function crdYaml(c: CrdObject): string {
  const doc = new Document(c);
  doc.commentBefore = " Generated from connector/config/schema.ts by `npm run gen:crds`. Do not edit.";
  return doc.toString({ lineWidth: 0 });
}
