/**
 * Generates the components' spec args interfaces (components/spec-types.ts) from the config schema,
 * so the schema stays the only list of fields. Generated rather than mapped types because:
 * - every nested field gets a JSDoc comment (from the schema description, allowed values, default);
 * - enums become plain `string`/`number` leaves (no unions in args), checked at runtime by the
 *   connector's own validator;
 * - named interfaces are what Pulumi's multi-language component analyzer understands.
 */
import { RUNTIME_OPTIONS, type OptionSpec } from "../connector/config/runtime-options";
import { KafkaConnectorSpec, KafkaConnectorTopicMapSpec } from "../connector/config/schema";
import { exactlyOneOfKeys, isRecord, plainJson, schemaProperties, schemaRequired, type JsonSchema } from "./schema-json";

interface RootSpec {
  /** Interface name of the root. */
  name: string;
  /** Label for documentation. */
  label: string;
  schema: unknown;
  /** `pulumi.Input` leaves (true) or plain leaves (false, for values that shape the resource graph). */
  inputLeaves: boolean;
  /** Root fields left out of this variant. */
  omit?: string[];
  /** Root fields made optional in this variant (filled in by the component). */
  optional?: Record<string, string>;
  /** Extra doc line for the root interface. */
  doc?: string;
  /** Readable names for nested objects, keyed by the path where the object first appears. */
  names: Record<string, string>;
}

const CONNECTOR_NAMES: Record<string, string> = {
  image: "ConnectorImageArgs",
  kafkaConnection: "KafkaConnectionArgs",
  "kafkaConnection.tls": "TlsArgs",
  "kafkaConnection.authentication": "KafkaAuthenticationArgs",
  "kafkaConnection.authentication.authType": "KafkaAuthTypeArgs",
  "kafkaConnection.authentication.authType.sasl": "SaslArgs",
  "kafkaConnection.authentication.authType.sasl.token": "SaslTokenArgs",
  "kafkaConnection.authentication.authType.sasl.token.keyVault": "SaslKeyVaultArgs",
  "kafkaConnection.authentication.authType.sasl.token.keyVault.vault": "KeyVaultArgs",
  "kafkaConnection.authentication.authType.sasl.token.keyVault.vault.credentials": "KeyVaultCredentialsArgs",
  "kafkaConnection.authentication.authType.sasl.token.keyVault.vaultSecret": "KeyVaultObjectArgs",
  "kafkaConnection.authentication.authType.systemAssignedManagedIdentity": "ManagedIdentityAuthArgs",
  "kafkaConnection.authentication.authType.x509": "KafkaX509Args",
  "kafkaConnection.authentication.authType.x509.keyVault": "X509KeyVaultArgs",
  localBrokerConnection: "LocalBrokerConnectionArgs",
  "localBrokerConnection.authentication": "MqttAuthenticationArgs",
  "localBrokerConnection.authentication.kubernetes": "MqttKubernetesAuthArgs",
  "localBrokerConnection.authentication.x509": "MqttX509Args",
  "localBrokerConnection.authentication.usernamePassword": "MqttUsernamePasswordArgs",
};

const TOPIC_MAP_NAMES: Record<string, string> = {
  batching: "BatchingArgs",
  "routes[]": "RouteArgs",
  "routes[].mqttToKafka": "MqttToKafkaRouteArgs",
  "routes[].mqttToKafka.sharedSubscription": "SharedSubscriptionArgs",
  "routes[].mqttToKafka.deadLetter": "DeadLetterArgs",
  "routes[].kafkaToMqtt": "KafkaToMqttRouteArgs",
};

export const GENERATED_ROOTS: RootSpec[] = [
  {
    name: "KafkaConnectorSpecArgs",
    label: "KafkaConnector spec",
    schema: KafkaConnectorSpec,
    inputLeaves: true,
    names: CONNECTOR_NAMES,
  },
  {
    name: "BridgeConnectorSpecArgs",
    label: "KafkaConnector spec without kafkaConnection",
    schema: KafkaConnectorSpec,
    inputLeaves: true,
    omit: ["kafkaConnection"],
    doc: "The KafkaConnector spec without `kafkaConnection`: MqttKafkaBridge derives the endpoint, TLS and authentication from the Event Hubs namespace it creates.",
    names: CONNECTOR_NAMES,
  },
  {
    name: "KafkaConnectorTopicMapSpecArgs",
    label: "KafkaConnectorTopicMap spec",
    schema: KafkaConnectorTopicMapSpec,
    inputLeaves: false,
    optional: { kafkaConnectorRef: "Defaults to the connector the map is deployed with." },
    doc: "Plain values, not `pulumi.Input`s: the routes decide which event hubs and role assignments exist, so they must be known when the program runs.",
    names: TOPIC_MAP_NAMES,
  },
];

/** PascalCase of a path such as `routes[].mqttToKafka`, for objects without a readable name. */
function autoName(path: string): string {
  return (
    path
      .replace(/\[\]/g, "Item")
      .split(".")
      .map((s) => s.charAt(0).toUpperCase() + s.slice(1))
      .join("") + "Args"
  );
}

function isObjectSchema(s: JsonSchema): boolean {
  return s["type"] === "object" && isRecord(s["properties"]);
}

function leafType(s: JsonSchema, where: string): string {
  const t = s["type"];
  if (t === "string") return "string";
  if (t === "integer" || t === "number") return "number";
  if (t === "boolean") return "boolean";
  throw new Error(`args codegen: unsupported schema type ${JSON.stringify(t)} at ${where}`);
}

/** JSDoc body for a field: description plus the constraints a user needs to get it right. */
export function fieldDoc(s: JsonSchema, extra?: string): string[] {
  const lines: string[] = [];
  const description = typeof s["description"] === "string" ? (s["description"] as string) : "";
  if (description) lines.push(description);
  if (extra) lines.push(extra);
  const facts: string[] = [];
  if (Array.isArray(s["enum"])) facts.push(`One of: ${(s["enum"] as unknown[]).map((v) => `\`${String(v)}\``).join(", ")}.`);
  if (typeof s["minimum"] === "number" || typeof s["maximum"] === "number") {
    facts.push(`Range: ${s["minimum"] ?? "-∞"}..${s["maximum"] ?? "∞"}.`);
  }
  if (typeof s["pattern"] === "string") facts.push(`Must match \`${s["pattern"] as string}\`.`);
  if (typeof s["minItems"] === "number") facts.push(`At least ${s["minItems"] as number} item(s).`);
  const oneOf = exactlyOneOfKeys(s);
  const orNone = Array.isArray(s["oneOf"]) && (s["oneOf"] as unknown[]).some((b) => isRecord(b) && b["maxProperties"] === 0);
  if (oneOf.length) facts.push(`Set ${orNone ? "at most" : "exactly"} one of: ${oneOf.map((k) => `\`${k}\``).join(", ")}.`);
  if (s["default"] !== undefined) facts.push(`Default: \`${JSON.stringify(s["default"])}\`.`);
  if (facts.length) lines.push(facts.join(" "));
  return lines;
}

function jsdoc(lines: string[], indent: string): string {
  const safe = lines.map((l) => l.replace(/\*\//g, "*\\/"));
  if (safe.length === 1) return `${indent}/** ${safe[0]} */\n`;
  return `${indent}/**\n${safe.map((l) => `${indent} * ${l}`).join("\n")}\n${indent} */\n`;
}

/** The connector's runtime options (config/runtime-options.ts) as typed component args, plain values. */
function generateRuntimeArgs(): string {
  let body = "";
  for (const [name, o] of Object.entries(RUNTIME_OPTIONS) as [string, OptionSpec][]) {
    if (o.podManaged) continue;
    const type = o.kind === "int" ? "number" : o.kind === "flag" ? "boolean" : "string";
    const facts = [`Environment variable \`${o.env}\`, flag \`--${o.flag}\`.`];
    if (o.kind === "enum") facts.push(`One of: ${o.values.map((v) => `\`${v}\``).join(", ")}.`);
    if (o.kind === "int") facts.push(`At least ${o.min}.`);
    facts.push(`Default: \`${String(o.default)}\`.`);
    body += jsdoc([`${o.help.charAt(0).toUpperCase()}${o.help.slice(1)}.`, facts.join(" ")], "  ");
    body += `  ${name}?: ${type};\n`;
  }
  const doc = ["Runtime options of the connector process, set as its environment.", "Generated from connector/config/runtime-options.ts; values are checked with the CLI's own bounds."];
  return `${jsdoc(doc, "")}export interface ConnectorRuntimeArgs {\n${body}}\n`;
}

/** Enum names by the field whose values they are; other enum fields get PascalCase(field). */
const ENUM_NAMES: Record<string, string> = { pullPolicy: "ImagePullPolicy", saslType: "SaslType", kafkaAcks: "KafkaAcks" };

const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * A string enum as a const object and a type of its values, the form Pulumi's analyzer turns into
 * an enum of the multi-language schema (a TypeScript `enum` would make string literals unassignable).
 */
function enumSource(name: string, values: string[], doc: string[]): string {
  const members = values.map((v) => `  ${pascal(v.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase()))}: ${JSON.stringify(v)},`).join("\n");
  return `${jsdoc(doc, "")}export const ${name} = {\n${members}\n} as const;\nexport type ${name} = (typeof ${name})[keyof typeof ${name}];\n`;
}

/** Generates the TypeScript source of components/spec-types.ts. */
export function generateSpecTypes(roots: RootSpec[] = GENERATED_ROOTS): string {
  const emitted: string[] = [];
  const used = new Set<string>(roots.map((r) => r.name));
  const enums = new Map<string, string>(); // name -> values key
  const enumOf = (s: JsonSchema, path: string): string | undefined => {
    if (s["type"] !== "string" || !Array.isArray(s["enum"])) return undefined;
    const values = s["enum"] as string[];
    const field = path.split(".").pop()!.replace(/\[\]$/, "");
    const name = ENUM_NAMES[field] ?? pascal(field);
    const key = values.join("|");
    if (!enums.has(name)) {
      enums.set(name, key);
      emitted.push(enumSource(name, values, [typeof s["description"] === "string" ? (s["description"] as string) : name]));
    } else if (enums.get(name) !== key) throw new Error(`args codegen: enum ${name} at ${path} has other values than before`);
    return name;
  };
  // A definition reused in the schema (one TypeBox `properties` object, e.g. Tls or Vault) gets one
  // interface per leaf mode. `raw` below is always the TypeBox node, whose identity survives the
  // shallow copies withDefault makes.
  const named = new Map<string, Map<unknown, string>>();

  const emitObject = (schema: JsonSchema, raw: unknown, path: string, root: RootSpec): string => {
    const mode = root.inputLeaves ? "input" : "plain";
    const identity = isRecord(raw) ? raw["properties"] : undefined;
    if (!named.has(mode)) named.set(mode, new Map());
    const seen = identity === undefined ? undefined : named.get(mode)!.get(identity);
    if (seen) return seen;
    let name = root.names[path] ?? autoName(path);
    for (let i = 2; used.has(name); i++) name = autoName(path).replace(/Args$/, `${i}Args`);
    used.add(name);
    if (identity !== undefined) named.get(mode)!.set(identity, name);
    const slot = emitted.push("") - 1; // parents before children in the generated file
    const body = fieldsSource(schema, raw, path, root, [], {});
    emitted[slot] = `${jsdoc(fieldDoc(schema), "")}export interface ${name} {\n${body}}\n`;
    return name;
  };

  const typeOf = (s: JsonSchema, raw: unknown, path: string, root: RootSpec): string => {
    if (s["type"] === "array") {
      const items = s["items"];
      if (!isRecord(items)) throw new Error(`args codegen: array without items at ${path}`);
      return `${typeOf(items as JsonSchema, isRecord(raw) ? raw["items"] : undefined, `${path}[]`, root)}[]`;
    }
    if (isObjectSchema(s)) return emitObject(s, raw, path, root);
    const leaf = enumOf(s, path) ?? leafType(s, path);
    return root.inputLeaves ? `pulumi.Input<${leaf}>` : leaf;
  };

  const fieldsSource = (
    schema: JsonSchema,
    raw: unknown,
    path: string,
    root: RootSpec,
    omit: string[],
    optional: Record<string, string>,
  ): string => {
    const required = new Set(schemaRequired(schema));
    const rawProps = isRecord(raw) && isRecord(raw["properties"]) ? raw["properties"] : {};
    let out = "";
    for (const [field, sub] of Object.entries(schemaProperties(schema))) {
      if (omit.includes(field)) continue;
      const isOptional = !required.has(field) || field in optional;
      out += jsdoc(fieldDoc(sub, optional[field]), "  ");
      out += `  ${field}${isOptional ? "?" : ""}: ${typeOf(sub, rawProps[field], path ? `${path}.${field}` : field, root)};\n`;
    }
    return out;
  };

  const rootSources = roots.map((root) => {
    const schema = plainJson(root.schema) as JsonSchema;
    const body = fieldsSource(schema, root.schema, "", root, root.omit ?? [], root.optional ?? {});
    const doc = [...fieldDoc(schema), `Generated from the ${root.label} schema.`, ...(root.doc ? [root.doc] : [])];
    return `${jsdoc(doc, "")}export interface ${root.name} {\n${body}}\n`;
  });

  const header =
    "// Generated from connector/config/schema.ts and runtime-options.ts by `npm run gen:crds`. Do not edit.\n" +
    "// test/components/crds.test.ts fails when this file drifts from the schema.\n" +
    'import type * as pulumi from "@pulumi/pulumi";\n';
  return [header, ...rootSources, ...emitted, generateRuntimeArgs()].join("\n");
}
