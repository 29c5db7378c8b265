// Templates and topic lists in the configuration: what is refused and how it is worded, what the
// derived facts (topics to check, hubs, loop marking, reload fingerprints) make of them.
import { strict as assert } from "node:assert";
import { parseConfigText } from "../../connector/config/load";
import { formatProblem } from "../../connector/core/errors";
import { connectorTopics, kafkaTopicUsage, needsProducer, openTemplateRoutes, producedTopics } from "../../connector/config/routes";
import { loopMarkings } from "../../connector/routes/loop-guard";
import { routeDefs } from "../../connector/lifecycle/route-defs";
import { planReload } from "../../connector/lifecycle/reload-plan";
import { hubsFromRoutes } from "../../components/hubs";
import type { KafkaConnectorResource, KafkaConnectorTopicMapResource } from "../../connector/config/schema";

const HEADER = "apiVersion: mq.iotoperations.azure.com/v1beta1";
const mapText = (routes: string, extra = "") => `${HEADER}\nkind: KafkaConnectorTopicMap\nmetadata: {name: m}\nspec:\n  kafkaConnectorRef: c\n${extra}  routes:\n${routes}`;

function problems(routes: string, extra = ""): string[] {
  return parseConfigText(mapText(routes, extra), "f.yaml").problems.map((p) => formatProblem(p).replace("f.yaml#1 KafkaConnectorTopicMap/m: ", ""));
}

function maps(routes: string, extra = ""): KafkaConnectorTopicMapResource[] {
  const { resources, problems: p } = parseConfigText(mapText(routes, extra), "f.yaml");
  assert.deepEqual(p.map(formatProblem), []);
  return resources as KafkaConnectorTopicMapResource[];
}

const connector = { apiVersion: "mq.iotoperations.azure.com/v1beta1", kind: "KafkaConnector", metadata: { name: "c" }, spec: { instances: 1 } } as unknown as KafkaConnectorResource;

describe("dynamic routing: configuration", () => {
  it("accepts the issue's examples, and every resource that was valid before keeps its fields", () => {
    const m = maps(
      [
        '    - mqttToKafka: {name: fan, mqttTopic: "factory/+/+/telemetry", kafkaTopic: "telemetry-${inputTopic.2}", kafkaTopics: [telemetry-berlin, telemetry-paris], kafkaKey: "${inputTopic.3}"}',
        '    - mqttToKafka: {name: open, mqttTopic: "plant/#", kafkaTopic: "plant-${inputTopic.2}"}',
        '    - kafkaToMqtt: {name: cmd, kafkaTopics: [commands-a, commands-b], mqttTopic: "devices/${key}/commands"}',
        '    - kafkaToMqtt: {name: by-header, kafkaTopic: alerts, mqttTopic: "sites/${header.site}/alerts/${partition}"}',
        "    - kafkaToMqtt: {name: old, kafkaTopic: plain, mqttTopic: plain/topic}",
      ].join("\n"),
    );
    const routes = m[0]!.spec.routes;
    assert.deepEqual(routes[0]!.mqttToKafka!.kafkaTopics, ["telemetry-berlin", "telemetry-paris"]);
    assert.deepEqual(routes[4]!.kafkaToMqtt, { name: "old", kafkaTopic: "plain", mqttTopic: "plain/topic", qos: 1 });
  });

  const refused: [what: string, routes: string, extra: string, expected: string[]][] = [
    [
      "an unknown placeholder in kafkaTopic",
      '    - mqttToKafka: {name: r, mqttTopic: "a/+", kafkaTopic: "t-${inputTopc.2}"}',
      "",
      ['spec.routes[0].mqttToKafka.kafkaTopic: got "t-${inputTopc.2}"; `${inputTopc.2}` at character 3: unknown placeholder; allowed: ${inputTopic}, ${inputTopic.N}'],
    ],
    [
      "level 0",
      '    - mqttToKafka: {name: r, mqttTopic: "a/+", kafkaTopic: "t-${inputTopic.0}"}',
      "",
      ['spec.routes[0].mqttToKafka.kafkaTopic: got "t-${inputTopic.0}"; `${inputTopic.0}` at character 3: levels count from 1 (`${inputTopic.1}` is the first level)'],
    ],
    [
      "a level the filter's topics never have",
      '    - mqttToKafka: {name: r, mqttTopic: "factory/+/+/telemetry", kafkaTopic: "t-${inputTopic.99}", kafkaKey: "${inputTopic.5}"}',
      "",
      [
        'spec.routes[0].mqttToKafka.kafkaTopic: got "t-${inputTopic.99}"; ${inputTopic.99} names level 99, but topics matching "factory/+/+/telemetry" have 4 levels',
        'spec.routes[0].mqttToKafka.kafkaKey: got "${inputTopic.5}"; ${inputTopic.5} names level 5, but topics matching "factory/+/+/telemetry" have 4 levels',
      ],
    ],
    [
      "the whole MQTT topic as a Kafka topic when it always holds a `/`",
      '    - mqttToKafka: {name: r, mqttTopic: "a/+", kafkaTopic: "t-${inputTopic}"}',
      "",
      ['spec.routes[0].mqttToKafka.kafkaTopic: got "t-${inputTopic}"; ${inputTopic} is the whole MQTT topic, and every topic matching "a/+" holds a `/`, which a Kafka topic name cannot; use ${inputTopic.N} for one level'],
    ],
    [
      "characters a Kafka topic cannot hold outside placeholders",
      '    - mqttToKafka: {name: r, mqttTopic: "a/+", kafkaTopic: "t/${inputTopic.2}"}',
      "",
      ['spec.routes[0].mqttToKafka.kafkaTopic: got "t/${inputTopic.2}"; must match ^(?:[A-Za-z0-9._-]|\\$\\{[^{}]*\\})+$ (kafka topic (event hub) to produce to, or a template of one over the MQTT topic: `${inputTopic}`, `${inputTopic.N}` (its N-th level from 1))'],
    ],
    [
      "kafkaTopics beside a plain kafkaTopic",
      "    - mqttToKafka: {name: r, mqttTopic: a/+, kafkaTopic: t, kafkaTopics: [t]}",
      "",
      ['spec.routes[0].mqttToKafka.kafkaTopics: is only used with a templated kafkaTopic (one with ${inputTopic} or ${inputTopic.N}); kafkaTopic "t" is a topic name'],
    ],
    [
      "listed topics the template can never produce, twice listed, and `..`",
      '    - mqttToKafka: {name: r, mqttTopic: "site/+", kafkaTopic: "t-${inputTopic.2}", kafkaTopics: [t-a, other, t-a, ".."]}',
      "",
      [
        'spec.routes[0].mqttToKafka.kafkaTopics[1]: got "other"; the template "t-${inputTopic.2}" can never produce it from topics matching "site/+"',
        'spec.routes[0].mqttToKafka.kafkaTopics[3]: got ".."; the template "t-${inputTopic.2}" can never produce it from topics matching "site/+"',
        'spec.routes[0].mqttToKafka.kafkaTopics[2]: got "t-a"; already listed at kafkaTopics[0]',
        'spec.routes[0].mqttToKafka.kafkaTopics[3]: got ".."; `.` and `..` are not Kafka topic names',
      ],
    ],
    [
      "a dead-letter topic among the listed ones",
      '    - mqttToKafka: {name: r, mqttTopic: "site/+", kafkaTopic: "t-${inputTopic.2}", kafkaTopics: [t-a, t-dlq], deadLetter: {kafkaTopic: t-dlq}}',
      "",
      ['spec.routes[0].mqttToKafka.deadLetter.kafkaTopic: got "t-dlq"; the dead-letter topic must differ from the route\'s kafkaTopics'],
    ],
    [
      "kafkaKey with partitionStrategy topic",
      '    - mqttToKafka: {name: r, mqttTopic: "site/+", kafkaTopic: t, kafkaKey: "${inputTopic.2}"}',
      "  partitionStrategy: topic\n",
      ["spec.routes[0].mqttToKafka.kafkaKey: sets the record key and, by its hash, the partition, so it combines only with partitionStrategy `default`; partitionStrategy `topic` makes the MQTT topic the key (kafkaKey: ${inputTopic} with partitionStrategy default is the same). Put the route in a topic map with partitionStrategy default"],
    ],
    [
      "kafkaKey with partitionStrategy property",
      '    - mqttToKafka: {name: r, mqttTopic: "site/+", kafkaTopic: t, kafkaKey: "${inputTopic.2}"}',
      "  partitionStrategy: property\n  partitionKeyProperty: device\n",
      ['spec.routes[0].mqttToKafka.kafkaKey: sets the record key and, by its hash, the partition, so it combines only with partitionStrategy `default`; partitionStrategy `property` takes the key from the user property "device". Put the route in a topic map with partitionStrategy default'],
    ],
    [
      "kafkaKey with partitionStrategy static",
      '    - mqttToKafka: {name: r, mqttTopic: "site/+", kafkaTopic: t, kafkaKey: "k-${inputTopic.2}"}',
      "  partitionStrategy: static\n",
      ["spec.routes[0].mqttToKafka.kafkaKey: sets the record key and, by its hash, the partition, so it combines only with partitionStrategy `default`; partitionStrategy `static` picks the partition by instance and writes no key. Put the route in a topic map with partitionStrategy default"],
    ],
    [
      "a kafkaToMqtt route with both kafkaTopic and kafkaTopics, and one with neither",
      "    - kafkaToMqtt: {name: a, kafkaTopic: t, kafkaTopics: [u], mqttTopic: x}\n    - kafkaToMqtt: {name: b, mqttTopic: x}",
      "",
      ["spec.routes[0].kafkaToMqtt: set exactly one of kafkaTopic, kafkaTopics; found kafkaTopic, kafkaTopics", "spec.routes[1].kafkaToMqtt: set exactly one of kafkaTopic, kafkaTopics; found none"],
    ],
    [
      "duplicate source topics",
      "    - kafkaToMqtt: {name: a, kafkaTopics: [t, u, t], mqttTopic: x}",
      "",
      ['spec.routes[0].kafkaToMqtt.kafkaTopics[2]: got "t"; already listed at kafkaTopics[0]'],
    ],
    [
      "a dead-letter topic the route consumes",
      "    - kafkaToMqtt: {name: a, kafkaTopics: [t, u], mqttTopic: x, deadLetter: {kafkaTopic: u}}",
      "",
      ['spec.routes[0].kafkaToMqtt.deadLetter.kafkaTopic: got "u"; the dead-letter topic must differ from the route\'s kafkaTopics'],
    ],
    [
      "a misspelt placeholder and a wildcard in a templated MQTT topic",
      '    - kafkaToMqtt: {name: a, kafkaTopic: t, mqttTopic: "devices/${kye}"}\n    - kafkaToMqtt: {name: b, kafkaTopic: t, mqttTopic: "devices/+/${key}"}\n    - kafkaToMqtt: {name: c, kafkaTopic: t, mqttTopic: "devices/${header.site"}',
      "",
      [
        'spec.routes[0].kafkaToMqtt.mqttTopic: got "devices/${kye}"; `${kye}` at character 9: unknown placeholder; allowed: ${inputTopic}, ${key}, ${header.NAME}, ${partition}',
        'spec.routes[1].kafkaToMqtt.mqttTopic: got "devices/+/${key}"; a topic to publish to cannot contain the wildcards `+` or `#`',
        'spec.routes[2].kafkaToMqtt.mqttTopic: got "devices/${header.site"; placeholder at character 9 is not closed with `}` (write `$${` for a literal `${`)',
      ],
    ],
  ];
  for (const [what, routes, extra, expected] of refused) {
    it(`refuses ${what}, naming the field`, () => assert.deepEqual(problems(routes, extra), expected));
  }

  it("reads `$${` as a literal `${` in a kafkaToMqtt mqttTopic", () => {
    assert.deepEqual(problems('    - kafkaToMqtt: {name: a, kafkaTopic: t, mqttTopic: "price/$${amount}"}'), []);
    assert.deepEqual(problems('    - kafkaToMqtt: {name: a, kafkaTopic: t, mqttTopic: "price/$${amount}/+"}'), ['spec.routes[0].kafkaToMqtt.mqttTopic: got "price/$${amount}/+"; a topic to publish to cannot contain the wildcards `+` or `#`']);
  });

  it("names the listed topics among those that must exist, and none for a template without a list", () => {
    const m = maps(
      [
        '    - mqttToKafka: {name: fan, mqttTopic: "f/+", kafkaTopic: "t-${inputTopic.2}", kafkaTopics: [t-a, t-b], deadLetter: {kafkaTopic: dlq}}',
        '    - mqttToKafka: {name: open, mqttTopic: "p/+", kafkaTopic: "p-${inputTopic.2}"}',
        "    - kafkaToMqtt: {name: cmd, kafkaTopics: [c-1, c-2], mqttTopic: x}",
      ].join("\n"),
    );
    assert.deepEqual([...connectorTopics(m)], [["t-a", ["m/fan"]], ["t-b", ["m/fan"]], ["dlq", ["m/fan"]], ["c-1", ["m/cmd"]], ["c-2", ["m/cmd"]]]);
    assert.deepEqual(producedTopics(m), ["t-a", "t-b"]);
    assert.deepEqual(openTemplateRoutes(m[0]!.spec.routes), [{ route: "open", field: "routes[1].mqttToKafka.kafkaTopics", template: "p-${inputTopic.2}" }]);
    assert.deepEqual(kafkaTopicUsage(m[0]!.spec.routes)[0], { topic: "t-a", users: [{ route: "fan", use: "produces", field: "routes[0].mqttToKafka.kafkaTopics[0]" }] });
    // A map whose only producer is a template without a list still needs the producer.
    assert.equal(needsProducer(maps('    - mqttToKafka: {name: open, mqttTopic: "p/+", kafkaTopic: "p-${inputTopic.2}"}')), true);
  });

  it("makes hubs of listed topics with a Data Sender user each; Event Hubs refuses a template without a list, naming the field", () => {
    const routes = maps(
      [
        '    - mqttToKafka: {name: fan, mqttTopic: "f/+", kafkaTopic: "t-${inputTopic.2}", kafkaTopics: [t-a, t-b]}',
        "    - kafkaToMqtt: {name: cmd, kafkaTopics: [c-1, c-2], mqttTopic: x}",
      ].join("\n"),
    )[0]!.spec.routes;
    assert.deepEqual(hubsFromRoutes(routes, { requireTopicLists: true }), [
      { name: "t-a", producedBy: ["fan"], consumedBy: [] },
      { name: "t-b", producedBy: ["fan"], consumedBy: [] },
      { name: "c-1", producedBy: [], consumedBy: ["cmd"] },
      { name: "c-2", producedBy: [], consumedBy: ["cmd"] },
    ]);
    const open = [{ mqttToKafka: { name: "open", mqttTopic: "p/+", kafkaTopic: "p-${inputTopic.2}" } }];
    assert.deepEqual(hubsFromRoutes(open), [], "own Kafka: nothing to create, and no error");
    assert.throws(
      () => hubsFromRoutes(open, { requireTopicLists: true }),
      (e: Error) =>
        e.message ===
        'invalid topic map for Event Hubs:\n  routes[0].mqttToKafka.kafkaTopics: required on Event Hubs, since route "open" has a templated kafkaTopic ("p-${inputTopic.2}"): event hubs must exist before a message names one, so list every topic the template may produce and each becomes a hub with its Data Sender role',
    );
  });

  it("marks a templated kafkaToMqtt route against the filters a filling could match, and a fixed one as before", () => {
    const m = maps(
      [
        '    - mqttToKafka: {name: up, mqttTopic: "devices/+/commands", kafkaTopic: "up-${inputTopic.2}"}',
        "    - mqttToKafka: {name: other, mqttTopic: telemetry/#, kafkaTopic: t}",
        '    - kafkaToMqtt: {name: cmd, kafkaTopic: c, mqttTopic: "devices/${key}/commands"}',
        '    - kafkaToMqtt: {name: part, kafkaTopic: c, mqttTopic: "alerts/${partition}"}',
        "    - kafkaToMqtt: {name: fixed, kafkaTopic: c, mqttTopic: telemetry/x}",
        "    - kafkaToMqtt: {name: safe, kafkaTopic: c, mqttTopic: elsewhere}",
      ].join("\n"),
    );
    assert.deepEqual(Object.fromEntries(loopMarkings(m)), {
      cmd: { mark: "matching", under: ["devices/+/commands"] },
      part: { mark: "never" },
      fixed: { mark: "always" },
      safe: { mark: "never" },
    });
  });

  it("restarts a route on reload when its template changes, and only that route", () => {
    const before = routeDefs(connector, maps('    - mqttToKafka: {name: fan, mqttTopic: "f/+", kafkaTopic: "t-${inputTopic.2}"}\n    - kafkaToMqtt: {name: cmd, kafkaTopic: c, mqttTopic: "d/${key}"}'));
    const after = routeDefs(connector, maps('    - mqttToKafka: {name: fan, mqttTopic: "f/+", kafkaTopic: "u-${inputTopic.2}"}\n    - kafkaToMqtt: {name: cmd, kafkaTopic: c, mqttTopic: "d/${key}"}'));
    const plan = planReload(before, after);
    assert.deepEqual(plan.changed, ["m/fan"]);
    assert.deepEqual(plan.unchanged, ["m/cmd"]);
    assert.deepEqual(plan.leave, [], "the same filter: the session carries over");
    // The loop filters of a templated kafkaToMqtt route are part of what it runs with.
    const looped = routeDefs(connector, maps('    - mqttToKafka: {name: fan, mqttTopic: "d/+", kafkaTopic: "t-${inputTopic.2}"}\n    - kafkaToMqtt: {name: cmd, kafkaTopic: c, mqttTopic: "d/${key}"}'));
    assert.deepEqual(looped.get("m/cmd")!.loopFilters, ["d/+"]);
    assert.deepEqual(planReload(before, looped).changed.sort(), ["m/cmd", "m/fan"]);
  });
});
