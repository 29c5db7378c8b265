import { strict as assert } from "node:assert";
import {
  compileTemplate,
  filledMqttTopicProblem,
  kafkaTopicNameProblem,
  parseTemplate,
  renderTemplate,
  TemplateMiss,
  type TemplateContext,
  type TemplateInput,
  type TemplatePart,
} from "../../connector/core/template";
import { producibleTopics, templateCouldMatch } from "../../connector/config/templates";

/** The rendered value, or `miss: <reason>`. */
function fill(context: TemplateContext, source: string, input: TemplateInput): string {
  const t = compileTemplate(source, context);
  const r = renderTemplate(t, input);
  return r instanceof TemplateMiss ? `miss: ${r.reason}` : r;
}

describe("templates: parsing", () => {
  const ok: [TemplateContext, string, TemplatePart[]][] = [
    ["mqttToKafka", "telemetry-${inputTopic.2}", ["telemetry-", { kind: "level", level: 2 }]],
    ["mqttToKafka", "${inputTopic}", [{ kind: "inputTopic" }]],
    ["mqttToKafka", "${inputTopic.1}.${inputTopic.3}", [{ kind: "level", level: 1 }, ".", { kind: "level", level: 3 }]],
    ["mqttToKafka", "${inputTopic.99}", [{ kind: "level", level: 99 }]],
    ["mqttToKafka", "${inputTopic.32768}", [{ kind: "level", level: 32768 }]],
    ["mqttToKafka", "plain-topic", ["plain-topic"]],
    ["kafkaToMqtt", "devices/${key}/commands", ["devices/", { kind: "key" }, "/commands"]],
    ["kafkaToMqtt", "${inputTopic}/${partition}", [{ kind: "inputTopic" }, "/", { kind: "partition" }]],
    ["kafkaToMqtt", "sites/${header.site}/${header.x.y-z}", ["sites/", { kind: "header", name: "site" }, "/", { kind: "header", name: "x.y-z" }]],
    // `$${` is a literal `${`; a lone `$` is literal, and merged with its neighbours.
    ["kafkaToMqtt", "a/$${key}", ["a/${key}"]],
    ["kafkaToMqtt", "$$${key}", ["$${key}"]],
    ["kafkaToMqtt", "cost/$5/${key}", ["cost/$5/", { kind: "key" }]],
    ["kafkaToMqtt", "ünïcødé/${key}/🙂", ["ünïcødé/", { kind: "key" }, "/🙂"]],
  ];
  for (const [context, source, parts] of ok) {
    it(`${context}: ${source}`, () => {
      const r = parseTemplate(source, context);
      assert.equal(r.problem, undefined);
      assert.deepEqual(r.template!.parts, parts);
      assert.equal(r.template!.fixed, parts.every((p) => typeof p === "string"));
    });
  }

  const bad: [TemplateContext, string, string][] = [
    ["mqttToKafka", "t-${inputTopic.0}", "`${inputTopic.0}` at character 3: levels count from 1 (`${inputTopic.1}` is the first level)"],
    ["mqttToKafka", "${inputTopic.007}", "`${inputTopic.007}` at character 1: levels count from 1 (`${inputTopic.1}` is the first level)"],
    ["mqttToKafka", "${inputTopic.-1}", "`${inputTopic.-1}` at character 1: the level must be a number from 1; allowed: ${inputTopic}, ${inputTopic.N}"],
    ["mqttToKafka", "${inputTopic.two}", "`${inputTopic.two}` at character 1: the level must be a number from 1; allowed: ${inputTopic}, ${inputTopic.N}"],
    ["mqttToKafka", "${inputTopic.32769}", "`${inputTopic.32769}` at character 1: an MQTT topic has at most 32768 levels"],
    ["mqttToKafka", "${inputTopic.99999999999999999999}", "`${inputTopic.99999999999999999999}` at character 1: an MQTT topic has at most 32768 levels"],
    ["mqttToKafka", "${key}", "`${key}` at character 1: unknown placeholder; allowed: ${inputTopic}, ${inputTopic.N}"],
    ["mqttToKafka", "${inputtopic}", "`${inputtopic}` at character 1: unknown placeholder; allowed: ${inputTopic}, ${inputTopic.N}"],
    ["mqttToKafka", "a-${}", "`${}` at character 3: unknown placeholder; allowed: ${inputTopic}, ${inputTopic.N}"],
    ["mqttToKafka", "a-${inputTopic", "placeholder at character 3 is not closed with `}` (write `$${` for a literal `${`)"],
    ["kafkaToMqtt", "x/${inputTopic.1}", "`${inputTopic.1}` at character 3: a Kafka topic has no levels; allowed: ${inputTopic}, ${key}, ${header.NAME}, ${partition}"],
    ["kafkaToMqtt", "x/${header.}", "`${header.}` at character 3: the header name is missing (`${header.NAME}`)"],
    ["kafkaToMqtt", "x/${header.a{b}", "`${header.a{b}` at character 3: a header name in a template cannot contain `{` or `$`"],
    ["kafkaToMqtt", "x/${Key}", "`${Key}` at character 3: unknown placeholder; allowed: ${inputTopic}, ${key}, ${header.NAME}, ${partition}"],
    ["kafkaToMqtt", `x/\${${"k".repeat(100)}}`, `\`\${${"k".repeat(37)}...}\` at character 3: unknown placeholder; allowed: \${inputTopic}, \${key}, \${header.NAME}, \${partition}`],
  ];
  for (const [context, source, problem] of bad) {
    it(`${context}: refuses ${source.length > 40 ? source.slice(0, 40) + "…" : source}`, () => {
      assert.equal(parseTemplate(source, context).problem, problem);
      assert.throws(() => compileTemplate(source, context), /invalid template/);
    });
  }

  it("parses hostile sources in linear time: 1 MB of placeholders, a megabyte unclosed", () => {
    const many = "${key}/".repeat(150_000);
    const start = process.hrtime.bigint();
    const r = parseTemplate(many, "kafkaToMqtt");
    assert.equal(r.template!.parts.length, 300_000);
    const unclosed = "${".repeat(500_000);
    assert.match(parseTemplate(unclosed, "kafkaToMqtt").problem!, /^placeholder at character 1 is not closed/);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.ok(ms < 2000, `took ${ms} ms`);
  });

  it("compiles a source once: the same template object comes back from the cache", () => {
    const a = compileTemplate("cache-${inputTopic.1}", "mqttToKafka");
    assert.equal(compileTemplate("cache-${inputTopic.1}", "mqttToKafka"), a);
    assert.notEqual(compileTemplate("cache-${inputTopic.2}", "mqttToKafka"), a);
  });
});

describe("templates: filling from an MQTT message (mqttToKafka)", () => {
  // Longer than MQTT allows (65535 bytes): the renderer must not care.
  const longTopic = Array.from({ length: 40_000 }, (_, i) => `l${i}`).join("/");
  const shortTopic = Array.from({ length: 20_000 }, (_, i) => `l${i}`).join("/");
  const cases: [string, string, string][] = [
    ["telemetry-${inputTopic.2}", "factory/berlin/press/telemetry", "telemetry-berlin"],
    ["${inputTopic.1}.${inputTopic.3}", "factory/berlin/press/telemetry", "factory.press"],
    ["${inputTopic}", "single", "single"],
    ["k-${inputTopic.2}", "a//b", "k-"], // an empty level is substituted as it is
    ["t-${inputTopic.3}", "a/b", "miss: ${inputTopic.3}: the topic \"a/b\" has 2 levels"],
    ["t-${inputTopic.99}", "factory/berlin/press", "miss: ${inputTopic.99}: the topic \"factory/berlin/press\" has 3 levels"],
    ["t-${inputTopic.2}", "x", "miss: ${inputTopic.2}: the topic \"x\" has 1 level"],
    ["t-${inputTopic.1}", "café/x", "t-café"],
    ["${inputTopic.32768}", longTopic, "l32767"],
    ["${inputTopic.32768}", shortTopic, `miss: \${inputTopic.32768}: the topic ${JSON.stringify(shortTopic).slice(0, 117)}..." has 20000 levels`],
  ];
  for (const [source, topic, expected] of cases) {
    it(`${source} over ${topic.length > 40 ? `a topic of ${topic.length} characters` : topic} -> ${expected.length > 60 ? expected.slice(0, 60) + "…" : expected}`, () => {
      // The levels are split once and shared by the route's templates.
      const input: TemplateInput = { inputTopic: topic };
      assert.equal(fill("mqttToKafka", source, input), expected);
      if (source.includes(".")) assert.ok(input.levels, "levels kept for the next template");
    });
  }

  const names: [string, string | undefined][] = [
    ["telemetry-berlin", undefined],
    ["", "a Kafka topic name cannot be empty"],
    ["t-café", "a Kafka topic name may contain only letters, digits, `.`, `_` and `-`"],
    ["t x", "a Kafka topic name may contain only letters, digits, `.`, `_` and `-`"],
    ["a/b", "a Kafka topic name may contain only letters, digits, `.`, `_` and `-`"],
    [".", "`.` and `..` are not Kafka topic names"],
    ["..", "`.` and `..` are not Kafka topic names"],
    ["...", undefined],
    ["x".repeat(249), undefined],
    ["x".repeat(250), "a Kafka topic name has at most 249 characters, this one 250"],
    ["x".repeat(70_000), "a Kafka topic name has at most 249 characters, this one 70000"],
  ];
  for (const [name, problem] of names) {
    it(`Kafka topic name ${JSON.stringify(name.length > 20 ? name.slice(0, 20) + "…" : name)}: ${problem ?? "legal"}`, () => {
      assert.equal(kafkaTopicNameProblem(name), problem);
    });
  }
});

describe("templates: filling from a Kafka record (kafkaToMqtt)", () => {
  const rec = (over: Partial<TemplateInput> = {}): TemplateInput => ({ inputTopic: "commands", key: Buffer.from("dev-1"), headers: {}, partition: 3, ...over });
  const cases: [string, TemplateInput, string][] = [
    ["devices/${key}/commands", rec(), "devices/dev-1/commands"],
    ["${inputTopic}/${partition}", rec(), "commands/3"],
    ["sites/${header.site}", rec({ headers: { site: "s1" } }), "sites/s1"],
    ["sites/${header.site}", rec({ headers: { site: Buffer.from("s2") } }), "sites/s2"],
    // Repeated headers: the last value, as Java's Headers.lastHeader.
    ["sites/${header.site}", rec({ headers: { site: ["first", Buffer.from("last")] } }), "sites/last"],
    ["sites/${header.site}", rec({ headers: {} }), "miss: ${header.site}: the record has no header \"site\""],
    ["sites/${header.site}", rec({ headers: { site: Buffer.from([0xc3, 0x28]) } }), "miss: ${header.site}: the header value is not valid UTF-8"],
    ["devices/${key}/commands", rec({ key: null }), "miss: ${key}: the record has no key (null)"],
    ["devices/${key}/commands", rec({ key: Buffer.from([0xff, 0xfe]) }), "miss: ${key}: the record key is not valid UTF-8"],
    ["devices/${key}/commands", rec({ key: Buffer.from("pump/7") }), "devices/pump/7/commands"], // substituted literally
    ["devices/${key}/commands", rec({ key: Buffer.from("🙂") }), "devices/🙂/commands"],
    ["devices/${key}/commands", rec({ key: Buffer.alloc(0) }), "devices//commands"],
  ];
  for (const [source, input, expected] of cases) {
    it(`${source} -> ${expected}`, () => assert.equal(fill("kafkaToMqtt", source, input), expected));
  }

  const topics: [string, string, string | undefined][] = [
    ["devices/${key}/commands", "devices/dev-1/commands", undefined],
    ["devices/${key}/commands", "devices//commands", "the MQTT topic has an empty level"],
    ["devices/${key}/commands", "devices/a//commands", "the MQTT topic has an empty level"],
    ["${key}", "", "the MQTT topic is empty"],
    ["${key}/x", "/x", "the MQTT topic has an empty level"],
    ["devices/${key}/commands", "devices/+/commands", "the MQTT topic contains a wildcard (`+` or `#`)"],
    ["devices/${key}", "devices/#", "the MQTT topic contains a wildcard (`+` or `#`)"],
    ["devices/${key}", "devices/a\u0000b", "the MQTT topic contains a NUL character"],
    ["${key}/x", "$SYS/x", "the MQTT topic starts with `$`, which is reserved for the broker"],
    ["$app/${key}", "$app/x", undefined], // the template wrote the `$` itself
    // Empty levels the template writes itself are kept, as a fixed topic's are.
    ["/devices/${key}", "/devices/x", undefined],
    ["/devices/${key}", "/devices/", "the MQTT topic has an empty level"],
    ["a//${key}", "a//x", undefined],
    ["devices/${key}", `devices/${"é".repeat(32_764)}`, "the MQTT topic is longer than 65535 bytes"],
    ["devices/${key}", `devices/${"é".repeat(32_763)}`, undefined],
  ];
  for (const [source, topic, problem] of topics) {
    it(`${source} filled as ${JSON.stringify(topic.length > 30 ? topic.slice(0, 30) + "…" : topic)}: ${problem ?? "publishable"}`, () => {
      assert.equal(filledMqttTopicProblem(topic, compileTemplate(source, "kafkaToMqtt")), problem);
    });
  }
});

describe("templates: what a template can produce and match", () => {
  const producible: [string, string, string, boolean][] = [
    ["telemetry-${inputTopic.2}", "factory/+/+/telemetry", "telemetry-berlin", true],
    ["telemetry-${inputTopic.2}", "factory/+/+/telemetry", "alerts-berlin", false],
    ["telemetry-${inputTopic.1}", "factory/+/+/telemetry", "telemetry-factory", true], // a literal level of the filter
    ["telemetry-${inputTopic.1}", "factory/+/+/telemetry", "telemetry-plant", false],
    ["t.${inputTopic}", "single", "t.single", true],
    ["t.${inputTopic}", "single", "t.other", false],
    ["t.${inputTopic.3}", "a/#", "t.anything", true],
    ["t.${inputTopic.3}", "a/#", "t.", true],
  ];
  for (const [source, filter, topic, expected] of producible) {
    it(`${source} over ${filter} ${expected ? "can" : "cannot"} produce ${topic}`, () => {
      assert.equal(producibleTopics(compileTemplate(source, "mqttToKafka"), filter).test(topic), expected);
    });
  }

  const match: [string, string, boolean][] = [
    ["devices/${key}/commands", "devices/+/commands", true],
    ["devices/${key}/commands", "devices/#", true],
    ["devices/${key}/commands", "other/#", false],
    ["devices/${key}/commands", "#", true],
    // A key may hold `/`: devices/a/b/commands matches devices/+/+/commands.
    ["devices/${key}/commands", "devices/+/+/commands", true],
    ["devices/${partition}/commands", "devices/+/+/commands", false],
    ["devices/${partition}/commands", "devices/+/commands", true],
    ["cmd/${inputTopic}", "cmd/+", true],
    ["cmd/${inputTopic}", "cmd", false],
    ["cmd/${inputTopic}", "cmd/a/b", false],
    ["cmd/x-${partition}", "cmd/y", true], // conservative: a level with a placeholder may be anything
    ["fixed/topic", "fixed/+", true],
    ["fixed/topic", "fixed/other", false],
  ];
  for (const [source, filter, expected] of match) {
    it(`${source} ${expected ? "could" : "can never"} match ${filter}`, () => {
      assert.equal(templateCouldMatch(compileTemplate(source, "kafkaToMqtt"), filter), expected);
    });
  }
});
