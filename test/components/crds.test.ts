import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import { parse, parseAllDocuments } from "yaml";
import {
  CONNECTOR_CEL_RULES,
  EVENT_HUBS_HOST_PATTERN,
  TOPIC_MAP_CEL_RULES,
  crdFileName,
  crdYaml,
  generateSpecTypes,
  renderCrds,
  type CrdObject,
} from "../../components";
import { validateDocument } from "../../connector/config/validate";

const ROOT = resolve(__dirname, "..", "..", "..");
const EXAMPLES = join(ROOT, "examples");

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);

function openApi(crd: CrdObject): Node {
  return crd.spec.versions[0]!.schema.openAPIV3Schema;
}

/** Every schema node reachable through properties/items/additionalProperties, with its path. */
function walk(node: Node, path: string, visit: (n: Node, p: string) => void): void {
  visit(node, path);
  if (isNode(node["properties"])) for (const [k, v] of Object.entries(node["properties"])) walk(v as Node, `${path}.${k}`, visit);
  if (isNode(node["items"])) walk(node["items"], `${path}[]`, visit);
  if (isNode(node["additionalProperties"])) walk(node["additionalProperties"], `${path}{}`, visit);
}

/**
 * The apiserver prunes unknown fields and, with strict field validation (kubectl's default since
 * 1.27), rejects them. Ajv knows neither, so objects with `properties` are closed explicitly.
 */
function closed(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closed);
  if (!isNode(node)) return node;
  const out: Node = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === "enum" || k === "default" ? v : closed(v);
  if (isNode(node["properties"]) && node["x-kubernetes-preserve-unknown-fields"] !== true) out["additionalProperties"] = false;
  return out;
}

function validatorFor(crd: CrdObject): ValidateFunction {
  return new Ajv({ allErrors: true, strict: false }).compile(closed(openApi(crd)) as object);
}

const crds = renderCrds();
const byKind = new Map(crds.map((c) => [c.spec.names.kind, c]));
const validators = new Map(crds.map((c) => [c.spec.names.kind, validatorFor(c)]));

function validate(doc: Node): string[] {
  const v = validators.get(String(doc["kind"]));
  assert.ok(v, `no CRD for kind ${String(doc["kind"])}`);
  return v(doc) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""} ${JSON.stringify(e.params)}`);
}

function exampleDocs(): { file: string; doc: Node }[] {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml")).sort();
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(EXAMPLES, file), "utf8"))
      .map((d) => d.toJS() as unknown)
      .filter(isNode)
      .map((doc) => ({ file, doc })),
  );
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe("CRDs", () => {
  it("are generated for both kinds, namespaced, with a status subresource and a category", () => {
    assert.deepEqual(
      crds.map((c) => [c.metadata.name, c.spec.scope, c.spec.versions.map((v) => [v.name, v.served, v.storage, v.subresources])]),
      [
        ["kafkaconnectors.mq.iotoperations.azure.com", "Namespaced", [["v1beta1", true, true, { status: {} }]]],
        ["kafkaconnectortopicmaps.mq.iotoperations.azure.com", "Namespaced", [["v1beta1", true, true, { status: {} }]]],
      ],
    );
    for (const c of crds) assert.deepEqual(c.spec.names.categories, ["mqtt-kafka-connector"]);
  });

  it("are structural: typed nodes, no additionalProperties beside properties, no $id, oneOf only of required (or an empty object)", () => {
    for (const crd of crds) {
      const problems: string[] = [];
      walk(openApi(crd), "", (n, p) => {
        if (typeof n["type"] !== "string") problems.push(`${p}: no type`);
        if ("properties" in n && "additionalProperties" in n) problems.push(`${p}: properties and additionalProperties`);
        for (const k of Object.keys(n)) if (k.startsWith("$")) problems.push(`${p}: ${k}`);
        if (Object.getOwnPropertySymbols(n).length) problems.push(`${p}: symbol keys`);
        for (const branch of (n["oneOf"] as unknown[] | undefined) ?? []) {
          if (isNode(branch) && JSON.stringify(branch) === '{"maxProperties":0}') continue;
          if (!isNode(branch) || Object.keys(branch).join() !== "required") problems.push(`${p}: oneOf branch ${JSON.stringify(branch)}`);
          else for (const r of branch["required"] as string[]) if (!isNode(n["properties"]) || !(r in n["properties"])) problems.push(`${p}: oneOf names unknown ${r}`);
        }
      });
      assert.deepEqual(problems, [], crd.metadata.name);
      assert.equal(openApi(crd)["properties"] && (openApi(crd)["properties"] as Node)["status"] !== undefined, true);
    }
  });

  it("have printer columns and CEL field paths that point at real schema fields", () => {
    const nodeAt = (root: Node, jsonPath: string): Node | undefined => {
      let node: Node | undefined = root;
      // `conditions[?(@.type=="Ready")]` selects array items: descend into `items`.
      for (const seg of jsonPath.replace(/\[\?\(@\.[^\]]*\)\]/g, "[]").split(".").filter(Boolean)) {
        const field = seg.replace(/\[\]$/, "");
        const props: unknown = node?.["properties"];
        node = isNode(props) && isNode(props[field]) ? (props[field] as Node) : undefined;
        if (seg.endsWith("[]")) node = isNode(node?.["items"]) ? (node["items"] as Node) : undefined;
      }
      return node;
    };
    for (const crd of crds) {
      const root = openApi(crd);
      for (const col of crd.spec.versions[0]!.additionalPrinterColumns) {
        if (col.jsonPath.startsWith(".metadata.")) continue;
        const node = nodeAt(root, col.jsonPath);
        assert.ok(node, `${crd.metadata.name} column ${col.name}: ${col.jsonPath} is not in the schema`);
        assert.equal(node["type"], col.type, `${col.name} type`);
      }
    }
    for (const [kind, rules] of [["KafkaConnector", CONNECTOR_CEL_RULES], ["KafkaConnectorTopicMap", TOPIC_MAP_CEL_RULES]] as const) {
      for (const [path, list] of Object.entries(rules)) {
        const at = nodeAt(openApi(byKind.get(kind)!), path);
        assert.deepEqual(at?.["x-kubernetes-validations"], list, `${kind} ${path}`);
        for (const r of list) if (r.fieldPath) assert.ok(nodeAt(at!, r.fieldPath), `${kind} ${path}${r.fieldPath}`);
      }
    }
  });

  it("CEL's Event Hubs host pattern agrees with the connector's own TLS rule", () => {
    const endpoints = [
      "ns.servicebus.windows.net:9093",
      "NS.ServiceBus.Windows.NET:9093",
      "a:9092,ns.servicebus.chinacloudapi.cn:9093",
      "ns.servicebus.usgovcloudapi.net:9093",
      "kafka.local:9092",
      "servicebus.windows.net.example.com:9092",
    ];
    for (const endpoint of endpoints) {
      const doc = {
        apiVersion: "mq.iotoperations.azure.com/v1beta1",
        kind: "KafkaConnector",
        metadata: { name: "c" },
        spec: { image: {}, instances: 1, kafkaConnection: { endpoint, tls: { tlsEnabled: false } } },
      };
      const connectorSays = validateDocument(doc).problems.some((p) => /Event Hubs accepts only TLS/.test(p.message));
      assert.equal(EVENT_HUBS_HOST_PATTERN.test(endpoint), connectorSays, endpoint);
    }
  });

  describe("validate every example in examples/", () => {
    const docs = exampleDocs();
    it("there is one example per example CR of the reference (6 KafkaConnectors, 1 topic map), plus the dynamic-routing topic map", () => {
      assert.deepEqual(
        docs.map((d) => d.doc["kind"]).sort(),
        [...Array(6).fill("KafkaConnector"), "KafkaConnectorTopicMap", "KafkaConnectorTopicMap"],
      );
    });
    for (const { file, doc } of docs) {
      it(`${file} passes the CRD schema and the connector's validator`, () => {
        assert.deepEqual(validate(doc), []);
        assert.deepEqual(validateDocument(clone(doc), file).problems, []);
      });
    }
  });

  describe("reject bad custom resources", () => {
    const connector = () => clone(exampleDocs().find((d) => d.file === "kafkaconnector-managed-identity.yaml")!.doc) as Record<string, Node>;
    const topicMap = () => clone(exampleDocs().find((d) => d.file === "kafkaconnectortopicmap.yaml")!.doc) as Record<string, Node>;

    it("a wrong enum value", () => {
      const doc = connector();
      doc["spec"]!["logLevel"] = "verbose";
      assert.deepEqual(validate(doc).map((e) => e.split(" ")[0]), ["/spec/logLevel"]);
      assert.match(validate(doc)[0]!, /must be equal to one of the allowed values/);
      const map = topicMap();
      ((map["spec"]!["routes"] as Node[])[0]!["mqttToKafka"] as Node)["kafkaAcks"] = "1";
      assert.match(validate(map).join("\n"), /\/spec\/routes\/0\/mqttToKafka\/kafkaAcks must be equal to one of the allowed values/);
    });

    it("a missing required field", () => {
      const doc = connector();
      delete doc["spec"]!["instances"];
      assert.match(validate(doc).join("\n"), /\/spec must have required property 'instances'/);
      const map = topicMap();
      delete ((map["spec"]!["routes"] as Node[])[1]!["kafkaToMqtt"] as Node)["mqttTopic"];
      assert.match(validate(map).join("\n"), /\/spec\/routes\/1\/kafkaToMqtt must have required property 'mqttTopic'/);
    });

    it("an unknown field", () => {
      const doc = connector();
      (doc["spec"]!["kafkaConnection"] as Node)["endpoints"] = "x:9093";
      assert.match(validate(doc).join("\n"), /\/spec\/kafkaConnection must NOT have additional properties \{"additionalProperty":"endpoints"\}/);
    });

    // A failed `oneOf` reads "must validate one and only one schema" at the apiserver, so the CRDs
    // state these as CEL rules with messages; test/engines/crds.test.ts checks them on a real apiserver.
    const rulesAt = (crd: CrdObject, path: string[]): { rule: string; message: string }[] => {
      let n: Node = openApi(crd);
      for (const p of path) n = (p === "[]" ? n["items"] : (n["properties"] as Record<string, Node>)[p]) as Node;
      assert.equal(n["oneOf"], undefined, `${path.join(".")} keeps no oneOf`);
      return (n["x-kubernetes-validations"] as { rule: string; message: string }[] | undefined) ?? [];
    };

    it("two authentication methods at once", () => {
      assert.deepEqual(rulesAt(crds[0]!, ["spec", "kafkaConnection", "authentication", "authType"]), [
        { rule: "[has(self.sasl), has(self.systemAssignedManagedIdentity), has(self.x509)].filter(x, x).size() <= 1", message: "set at most one of sasl, systemAssignedManagedIdentity, x509" },
      ]);
      assert.deepEqual(rulesAt(crds[0]!, ["spec", "localBrokerConnection", "authentication"]).map((r) => r.message), ["set exactly one of kubernetes, x509, usernamePassword"]);
    });

    it("a kafkaToMqtt route with both or neither of kafkaTopic and kafkaTopics", () => {
      assert.deepEqual(rulesAt(crds[1]!, ["spec", "routes", "[]", "kafkaToMqtt"]), [
        { rule: "[has(self.kafkaTopic), has(self.kafkaTopics)].filter(x, x).size() == 1", message: "set exactly one of kafkaTopic, kafkaTopics" },
      ]);
    });

    it("templated mqttToKafka fields: placeholders, kafkaTopics only with a template, kafkaKey only with the default strategy", () => {
      assert.deepEqual(rulesAt(crds[1]!, ["spec", "routes", "[]", "mqttToKafka"]).map((r) => r.message), [
        "kafkaTopic: a template may use only ${inputTopic} and ${inputTopic.N} (levels count from 1), and outside them only letters, digits, '.', '_' and '-'",
        "kafkaTopics is only used with a templated kafkaTopic (one with ${inputTopic} or ${inputTopic.N})",
        "kafkaKey: a template may use only ${inputTopic} and ${inputTopic.N} (levels count from 1); write $${ for a literal ${",
      ]);
      assert.ok(rulesAt(crds[1]!, ["spec"]).some((r) => r.message.startsWith("mqttToKafka.kafkaKey sets the record key")));
      // The listed topics are a set: the apiserver refuses duplicates.
      const list = ((((openApi(crds[1]!)["properties"] as Node)["spec"] as Node)["properties"] as Node)["routes"] as Node)["items"] as Node;
      assert.equal((((list["properties"] as Node)["mqttToKafka"] as Node)["properties"] as Record<string, Node>)["kafkaTopics"]!["x-kubernetes-list-type"], "set");
      assert.equal((((list["properties"] as Node)["kafkaToMqtt"] as Node)["properties"] as Record<string, Node>)["kafkaTopics"]!["x-kubernetes-list-type"], "set");
    });

    it("a route that is both directions", () => {
      assert.deepEqual(rulesAt(crds[1]!, ["spec", "routes", "[]"]), [
        { rule: "[has(self.mqttToKafka), has(self.kafkaToMqtt)].filter(x, x).size() == 1", message: "set exactly one of mqttToKafka, kafkaToMqtt" },
      ]);
    });
  });

  describe("drift", () => {
    it("deploy/crds/ holds exactly the generated CRDs", () => {
      const dir = join(ROOT, "deploy", "crds");
      assert.deepEqual(readdirSync(dir).sort(), crds.map(crdFileName).sort());
      for (const crd of crds) {
        const onDisk = readFileSync(join(dir, crdFileName(crd)), "utf8");
        assert.equal(onDisk, crdYaml(crd), `${crdFileName(crd)} is stale: run npm run gen:crds`);
        assert.deepEqual(parse(onDisk), JSON.parse(JSON.stringify(crd)));
      }
    });

    it("components/spec-types.ts is the generated args types", () => {
      const onDisk = readFileSync(join(ROOT, "components", "spec-types.ts"), "utf8");
      assert.equal(onDisk, generateSpecTypes(), "components/spec-types.ts is stale: run npm run gen:crds");
    });
  });
});
