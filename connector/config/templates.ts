/**
 * What can be known about a route's templates before any message: the configuration errors
 * (validate.ts), which listed topics a template can produce, and which MQTT filters a templated
 * kafkaToMqtt topic could land under (loop prevention). Pure; the per-message part is core/template.ts.
 */
import { kafkaTopicNameProblem, looksTemplated, parseTemplate, templateLevels, type Template } from "../core/template";
import { topicNameProblem } from "../core/topic-filter";
import type { KafkaToMqttRoute, MqttToKafkaRoute, PartitionStrategy } from "./schema";
import { isTopicTemplate } from "./routes";

export interface FieldProblem {
  /** Relative to the route body, e.g. `kafkaTopics[2]`. */
  field: string;
  message: string;
}

/** Fewest and most levels of a topic that `filter` matches (`#` also matches its parent level). */
export function filterDepth(filter: string): { min: number; max: number } {
  const levels = filter.split("/");
  if (levels[levels.length - 1] === "#") return { min: Math.max(1, levels.length - 1), max: Infinity };
  return { min: levels.length, max: levels.length };
}

/** The filter's literal level at 1-based `level`, when every matching topic has exactly that level there. */
function literalLevel(filter: string, level: number): string | undefined {
  const levels = filter.split("/");
  const l = levels[level - 1];
  if (l === undefined || l === "+" || l === "#") return undefined;
  return l;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const KAFKA_CHARS = "[A-Za-z0-9._-]*";

/** A regular expression of every Kafka topic `t` can produce from topics matching `filter` (before the legality check). */
export function producibleTopics(t: Template, filter: string): RegExp {
  const wild = filter.includes("+") || filter.includes("#");
  const body = t.parts
    .map((p) => {
      if (typeof p === "string") return escapeRegExp(p);
      if (p.kind === "inputTopic") return wild ? KAFKA_CHARS : escapeRegExp(filter);
      if (p.kind === "level") {
        const lit = literalLevel(filter, p.level);
        return lit !== undefined ? escapeRegExp(lit) : KAFKA_CHARS;
      }
      return KAFKA_CHARS;
    })
    .join("");
  return new RegExp(`^${body}$`);
}

/** A placeholder of `t` names a level no topic matching `filter` has, or a whole topic that always holds a `/`. */
function levelProblem(t: Template, filter: string, what: string): string | undefined {
  const { min, max } = filterDepth(filter);
  if (t.maxLevel > max) return `\${inputTopic.${t.maxLevel}} names level ${t.maxLevel}, but topics matching ${JSON.stringify(filter)} have ${max} level${max === 1 ? "" : "s"}`;
  if (what === "kafkaTopic" && min >= 2 && t.parts.some((p) => typeof p !== "string" && p.kind === "inputTopic")) {
    return `\${inputTopic} is the whole MQTT topic, and every topic matching ${JSON.stringify(filter)} holds a \`/\`, which a Kafka topic name cannot; use \${inputTopic.N} for one level`;
  }
  return undefined;
}

/** Configuration errors of an mqttToKafka route's kafkaTopic, kafkaTopics and kafkaKey. */
export function mqttToKafkaTemplateProblems(r: MqttToKafkaRoute, strategy: PartitionStrategy, keyProperty: string | undefined): FieldProblem[] {
  const out: FieldProblem[] = [];
  const add = (field: string, message: string) => out.push({ field, message });
  const got = (v: string) => `got ${JSON.stringify(v).length > 80 ? JSON.stringify(v).slice(0, 77) + "..." : JSON.stringify(v)}`;
  if (isTopicTemplate(r.kafkaTopic)) {
    const parsed = parseTemplate(r.kafkaTopic, "mqttToKafka");
    if (!parsed.template) add("kafkaTopic", `${got(r.kafkaTopic)}; ${parsed.problem}`);
    else {
      const t = parsed.template;
      const literal = t.parts.filter((p): p is string => typeof p === "string").join("");
      const lp = levelProblem(t, r.mqttTopic, "kafkaTopic");
      if (t.fixed || !/^[A-Za-z0-9._-]*$/.test(literal)) add("kafkaTopic", `${got(r.kafkaTopic)}; outside placeholders a Kafka topic name may contain only letters, digits, \`.\`, \`_\` and \`-\``);
      else if (lp) add("kafkaTopic", `${got(r.kafkaTopic)}; ${lp}`);
      else if (r.kafkaTopics) {
        const can = producibleTopics(t, r.mqttTopic);
        r.kafkaTopics.forEach((topic, j) => {
          if (!can.test(topic)) add(`kafkaTopics[${j}]`, `${got(topic)}; the template ${JSON.stringify(r.kafkaTopic)} can never produce it from topics matching ${JSON.stringify(r.mqttTopic)}`);
        });
      }
    }
  } else if (r.kafkaTopics) {
    add("kafkaTopics", `is only used with a templated kafkaTopic (one with \${inputTopic} or \${inputTopic.N}); kafkaTopic ${JSON.stringify(r.kafkaTopic)} is a topic name`);
  }
  out.push(...listProblems(r.kafkaTopics));
  if (r.kafkaKey !== undefined) {
    const parsed = parseTemplate(r.kafkaKey, "mqttToKafka");
    const lp = parsed.template && levelProblem(parsed.template, r.mqttTopic, "kafkaKey");
    if (!parsed.template) add("kafkaKey", `${got(r.kafkaKey)}; ${parsed.problem}`);
    else if (lp) add("kafkaKey", `${got(r.kafkaKey)}; ${lp}`);
    if (strategy !== "default") {
      const why: Record<Exclude<PartitionStrategy, "default">, string> = {
        static: "picks the partition by instance and writes no key",
        topic: "makes the MQTT topic the key (kafkaKey: ${inputTopic} with partitionStrategy default is the same)",
        property: `takes the key from the user property ${JSON.stringify(keyProperty ?? "")}`,
      };
      add("kafkaKey", `sets the record key and, by its hash, the partition, so it combines only with partitionStrategy \`default\`; partitionStrategy \`${strategy}\` ${why[strategy]}. Put the route in a topic map with partitionStrategy default`);
    }
  }
  return out;
}

/** `.`/`..` and duplicates in a topic list (the schema checks each name's characters). */
function listProblems(list: readonly string[] | undefined): FieldProblem[] {
  const out: FieldProblem[] = [];
  const seen = new Map<string, number>();
  (list ?? []).forEach((topic, j) => {
    const p = kafkaTopicNameProblem(topic);
    if (p) out.push({ field: `kafkaTopics[${j}]`, message: `got ${JSON.stringify(topic)}; ${p}` });
    const first = seen.get(topic);
    if (first !== undefined) out.push({ field: `kafkaTopics[${j}]`, message: `got ${JSON.stringify(topic)}; already listed at kafkaTopics[${first}]` });
    else seen.set(topic, j);
  });
  return out;
}

/** Configuration errors of a kafkaToMqtt route's kafkaTopics and templated mqttTopic. */
export function kafkaToMqttTemplateProblems(r: KafkaToMqttRoute): FieldProblem[] {
  const out = listProblems(r.kafkaTopics);
  const got = `got ${JSON.stringify(r.mqttTopic).length > 80 ? JSON.stringify(r.mqttTopic).slice(0, 77) + "..." : JSON.stringify(r.mqttTopic)}`;
  if (!looksTemplated(r.mqttTopic)) {
    const p = topicNameProblem(r.mqttTopic);
    if (p) out.push({ field: "mqttTopic", message: `${got}; ${p}` });
    return out;
  }
  const parsed = parseTemplate(r.mqttTopic, "kafkaToMqtt");
  if (!parsed.template) {
    out.push({ field: "mqttTopic", message: `${got}; ${parsed.problem}` });
    return out;
  }
  const literal = parsed.template.parts.filter((p): p is string => typeof p === "string").join("");
  const p = literal ? topicNameProblem(literal) : undefined;
  if (p && !/empty/.test(p)) out.push({ field: "mqttTopic", message: `${got}; ${p}` });
  return out;
}

/**
 * Could a topic this template produces match `filter`? Conservative: true unless no filling can
 * match (a literal level differs, or the level counts cannot agree). Decides which of the
 * connector's mqttToKafka filters a templated kafkaToMqtt route checks each filled topic against.
 */
export function templateCouldMatch(t: Template, filter: string): boolean {
  const shape = templateLevels(t);
  const f = filter.split("/");
  for (let i = 0; ; i++) {
    const fl = f[i];
    const tl = shape[i];
    if (fl === "#") return true;
    if (tl?.kind === "multi") return true;
    if (fl === undefined || tl === undefined) return fl === undefined && tl === undefined;
    if (fl === "+" || tl.kind === "any") continue;
    if (fl !== tl.text) return false;
  }
}
