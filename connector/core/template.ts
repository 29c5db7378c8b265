/**
 * Topic and key templates: `telemetry-${inputTopic.2}`, `devices/${key}/commands`. A small parser
 * (no library: the syntax is four placeholders and one escape) that compiles a template once into a
 * list of parts, and a renderer that fills them from one message without parsing anything again.
 *
 * Syntax:
 *   `${NAME}`  a placeholder; which names a template may use depends on where it is (below)
 *   `$${`      a literal `${` (only MQTT topics and keys can hold `$` at all)
 *   anything else is literal, and substituted values are inserted literally (no escaping, no trimming).
 *
 * mqttToKafka (`kafkaTopic`, `kafkaKey`): `${inputTopic}` the MQTT topic, `${inputTopic.N}` its N-th
 * level counting from 1. kafkaToMqtt (`mqttTopic`): `${inputTopic}` the Kafka topic, `${key}` the
 * record key, `${header.NAME}` a header's value (the last one when repeated), `${partition}`.
 */
import { isUtf8 } from "node:buffer";
import type { KafkaHeaders } from "./properties";

export type TemplateContext = "mqttToKafka" | "kafkaToMqtt";

export type Placeholder =
  | { kind: "inputTopic" }
  | { kind: "level"; level: number }
  | { kind: "key" }
  | { kind: "partition" }
  | { kind: "header"; name: string };

export type TemplatePart = string | Placeholder;

/** Highest level `${inputTopic.N}` may name: an MQTT topic of 65535 bytes has at most 32768 levels. */
export const MAX_TEMPLATE_LEVEL = 32768;

export interface Template {
  readonly source: string;
  /** Literal strings and placeholders, in order; adjacent literals are merged. */
  readonly parts: readonly TemplatePart[];
  /** No placeholder at all: the template is its own (unescaped) value. */
  readonly fixed: boolean;
  /** The highest `${inputTopic.N}` it uses; 0 when it uses none. */
  readonly maxLevel: number;
  /** Empty levels the template writes itself (`a//b`, a leading or trailing `/`); a filled MQTT topic may have no more. */
  readonly emptyLevels: number;
}

/** What a message offers a template. */
export interface TemplateInput {
  /** The MQTT topic (mqttToKafka) or the Kafka topic (kafkaToMqtt). */
  inputTopic: string;
  /** `inputTopic` split at `/`; filled in on first use and shared by the route's templates. */
  levels?: string[];
  key?: Buffer | null;
  headers?: KafkaHeaders;
  partition?: number;
}

/** A template that could not be filled for one message, and why (it becomes the dead letter's reason). */
export class TemplateMiss {
  constructor(readonly reason: string) {}
}

const PLACEHOLDERS: Record<TemplateContext, string> = {
  mqttToKafka: "${inputTopic}, ${inputTopic.N}",
  kafkaToMqtt: "${inputTopic}, ${key}, ${header.NAME}, ${partition}",
};

/** The placeholders allowed in a context, for error messages. */
export function allowedPlaceholders(context: TemplateContext): string {
  return PLACEHOLDERS[context];
}

/** True when `source` holds a placeholder or escape, i.e. is read as a template rather than as a plain value. */
export function looksTemplated(source: string): boolean {
  return source.includes("${");
}

/** Parses `source`; a problem names what is wrong and where, in the words a config error uses. */
export function parseTemplate(source: string, context: TemplateContext): { template: Template; problem?: undefined } | { template?: undefined; problem: string } {
  const parts: TemplatePart[] = [];
  let literal = "";
  let maxLevel = 0;
  let i = 0;
  while (i < source.length) {
    if (source.startsWith("$${", i)) {
      literal += "${";
      i += 3;
      continue;
    }
    if (!source.startsWith("${", i)) {
      literal += source[i];
      i++;
      continue;
    }
    const end = source.indexOf("}", i + 2);
    if (end < 0) return { problem: `placeholder at character ${i + 1} is not closed with \`}\` (write \`$\${\` for a literal \`\${\`)` };
    const name = source.slice(i + 2, end);
    const p = placeholder(name, context);
    if (typeof p === "string") return { problem: `\`\${${clip(name)}}\` at character ${i + 1}: ${p}` };
    if (literal) parts.push(literal);
    literal = "";
    parts.push(p);
    if (p.kind === "level") maxLevel = Math.max(maxLevel, p.level);
    i = end + 1;
  }
  if (literal) parts.push(literal);
  const fixed = parts.every((p) => typeof p === "string");
  const emptyLevels = templateLevels({ parts }).filter((l) => l.kind === "literal" && l.text === "").length;
  return { template: { source, parts, fixed, maxLevel, emptyLevels } };
}

/** One level of a topic a template produces: literal text, any single level, or (key, header) any number of levels. */
export type LevelShape = { kind: "literal"; text: string } | { kind: "any" } | { kind: "multi" };

/** The level structure of a kafkaToMqtt topic template. `${key}` and headers may hold `/`, so they may span levels. */
export function templateLevels(t: Pick<Template, "parts">): LevelShape[] {
  const levels: { text: string; variable: boolean; multi: boolean }[] = [{ text: "", variable: false, multi: false }];
  const add = (p: TemplatePart) => {
    const cur = levels[levels.length - 1]!;
    if (typeof p === "string") {
      const pieces = p.split("/");
      cur.text += pieces[0];
      for (const piece of pieces.slice(1)) levels.push({ text: piece, variable: false, multi: false });
      return;
    }
    cur.variable = true;
    if (p.kind === "key" || p.kind === "header") cur.multi = true;
  };
  t.parts.forEach(add);
  return levels.map((l) => (l.multi ? { kind: "multi" } : l.variable ? { kind: "any" } : { kind: "literal", text: l.text }));
}

/** Empty levels in a topic. */
export function emptyLevels(topic: string): number {
  let n = 0;
  let start = 0;
  for (let i = 0; i <= topic.length; i++) {
    if (i === topic.length || topic.charCodeAt(i) === 47 /* / */) {
      if (i === start) n++;
      start = i + 1;
    }
  }
  return n;
}

function placeholder(name: string, context: TemplateContext): Placeholder | string {
  const allowed = `allowed: ${PLACEHOLDERS[context]}`;
  if (name === "inputTopic") return { kind: "inputTopic" };
  if (name.startsWith("inputTopic.")) {
    if (context !== "mqttToKafka") return `a Kafka topic has no levels; ${allowed}`;
    const n = name.slice("inputTopic.".length);
    if (!/^[0-9]+$/.test(n)) return `the level must be a number from 1; ${allowed}`;
    const level = Number(n);
    if (level < 1 || n.startsWith("0")) return "levels count from 1 (`${inputTopic.1}` is the first level)";
    if (level > MAX_TEMPLATE_LEVEL) return `an MQTT topic has at most ${MAX_TEMPLATE_LEVEL} levels`;
    return { kind: "level", level };
  }
  if (context === "kafkaToMqtt") {
    if (name === "key") return { kind: "key" };
    if (name === "partition") return { kind: "partition" };
    if (name.startsWith("header.")) {
      const header = name.slice("header.".length);
      if (!header) return "the header name is missing (`${header.NAME}`)";
      if (header.includes("{") || header.includes("$")) return "a header name in a template cannot contain `{` or `$`";
      return { kind: "header", name: header };
    }
  }
  return `unknown placeholder; ${allowed}`;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

const templates = new Map<string, Template>();
const CACHE_LIMIT = 4096;

/**
 * The compiled template for a source already validated (routes are built from validated maps), from
 * a process-wide cache: a reload that keeps a template does not parse it again. Throws on a bad template.
 */
export function compileTemplate(source: string, context: TemplateContext): Template {
  const id = `${context}\u0000${source}`;
  let t = templates.get(id);
  if (t) return t;
  const r = parseTemplate(source, context);
  if (!r.template) throw new Error(`invalid template ${JSON.stringify(source)}: ${r.problem}`);
  if (templates.size >= CACHE_LIMIT) templates.clear();
  templates.set(id, (t = r.template));
  return t;
}

/** Fills the template from one message: the value, or a TemplateMiss saying which placeholder could not be filled. */
export function renderTemplate(t: Template, input: TemplateInput): string | TemplateMiss {
  let out = "";
  for (const p of t.parts) {
    if (typeof p === "string") {
      out += p;
      continue;
    }
    switch (p.kind) {
      case "inputTopic":
        out += input.inputTopic;
        break;
      case "level": {
        const levels = (input.levels ??= input.inputTopic.split("/"));
        const v = levels[p.level - 1];
        if (v === undefined) return new TemplateMiss(`\${inputTopic.${p.level}}: the topic ${show(input.inputTopic)} has ${levels.length} level${levels.length === 1 ? "" : "s"}`);
        out += v;
        break;
      }
      case "key": {
        const k = input.key;
        if (k === null || k === undefined) return new TemplateMiss("${key}: the record has no key (null)");
        if (!isUtf8(k)) return new TemplateMiss("${key}: the record key is not valid UTF-8");
        out += k.toString("utf8");
        break;
      }
      case "partition":
        out += String(input.partition ?? "");
        break;
      case "header": {
        const raw = input.headers?.[p.name];
        const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
        if (v === undefined || v === null) return new TemplateMiss(`\${header.${p.name}}: the record has no header ${show(p.name)}`);
        if (typeof v === "string") out += v;
        else if (!isUtf8(v)) return new TemplateMiss(`\${header.${p.name}}: the header value is not valid UTF-8`);
        else out += v.toString("utf8");
        break;
      }
    }
  }
  return out;
}

/** Kafka's own rule for topic names: 1-249 of letters, digits, `.`, `_`, `-`, and not `.` or `..`. */
export function kafkaTopicNameProblem(name: string): string | undefined {
  if (name.length === 0) return "a Kafka topic name cannot be empty";
  if (name.length > 249) return `a Kafka topic name has at most 249 characters, this one ${name.length}`;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return "a Kafka topic name may contain only letters, digits, `.`, `_` and `-`";
  if (name === "." || name === "..") return "`.` and `..` are not Kafka topic names";
  return undefined;
}

/**
 * Why a filled MQTT topic cannot be published to: wildcards, an empty level, a leading `$` the
 * template did not write, a NUL, more than 65535 bytes. `template` is the source, for the `$` rule.
 */
export function filledMqttTopicProblem(topic: string, template: Template): string | undefined {
  if (topic.length === 0) return "the MQTT topic is empty";
  if (topic.includes("+") || topic.includes("#")) return "the MQTT topic contains a wildcard (`+` or `#`)";
  if (topic.includes("\u0000")) return "the MQTT topic contains a NUL character";
  if (emptyLevels(topic) > template.emptyLevels) return "the MQTT topic has an empty level";
  if (topic.startsWith("$") && !(typeof template.parts[0] === "string" && template.parts[0].startsWith("$"))) {
    return "the MQTT topic starts with `$`, which is reserved for the broker";
  }
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so only long strings need counting.
  if (topic.length > 21845 && Buffer.byteLength(topic, "utf8") > 65535) return "the MQTT topic is longer than 65535 bytes";
  return undefined;
}

/** A value for a message in error text: JSON, cut to 120 characters. */
export function show(v: string): string {
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}..."` : s;
}
