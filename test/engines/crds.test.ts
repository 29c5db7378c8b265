// The committed CRDs on a real kube-apiserver: they are accepted and Established, every example
// resource is admitted, and bad resources are refused with messages a user can act on.
import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { KubectlError, startLocalCluster, waitFor, type LocalCluster } from "../../scripts/local-cluster";

const ROOT = join(__dirname, "..", "..", "..");
const NS = "crd-checks";

type Doc = Record<string, unknown>;

function examples(): { file: string; doc: Doc }[] {
  const dir = join(ROOT, "examples");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((file) => parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((d) => ({ file, doc: d.toJS() as Doc })));
}

/** A minimal valid resource of each kind, to break one field at a time. */
const connector = (spec: Doc = {}): Doc => ({
  apiVersion: "mq.iotoperations.azure.com/v1beta1",
  kind: "KafkaConnector",
  metadata: { name: "bad", namespace: NS },
  spec: { image: {}, instances: 1, kafkaConnection: { endpoint: "kafka:9092", tls: { tlsEnabled: false } }, ...spec },
});
const route = (name: string, dir: "mqttToKafka" | "kafkaToMqtt" = "mqttToKafka"): Doc =>
  dir === "mqttToKafka" ? { mqttToKafka: { name, mqttTopic: "a/#", kafkaTopic: "t" } } : { kafkaToMqtt: { name, kafkaTopic: "t", mqttTopic: "b" } };
const topicMap = (spec: Doc = {}): Doc => ({
  apiVersion: "mq.iotoperations.azure.com/v1beta1",
  kind: "KafkaConnectorTopicMap",
  metadata: { name: "bad", namespace: NS },
  spec: { kafkaConnectorRef: "c", routes: [route("r1")], ...spec },
});

describe("engines: the CRDs on a real kube-apiserver", function () {
  this.timeout(300_000);
  let cluster: LocalCluster;

  before(async function () {
    this.timeout(180_000);
    cluster = await startLocalCluster();
    await cluster.kubectl(["apply", "-f", join(ROOT, "deploy", "crds")]);
    await cluster.kubectl(["create", "namespace", NS]);
  });
  after(async () => {
    await cluster?.stop();
  });

  /** Server-side validation of one object; resolves with kubectl's error text, or "" when admitted. */
  async function refusal(doc: Doc): Promise<string> {
    try {
      await cluster.kubectl(["apply", "--dry-run=server", "--validate=strict", "-f", "-"], { input: JSON.stringify(doc) });
      return "";
    } catch (e) {
      if (e instanceof KubectlError) return e.stderr;
      throw e;
    }
  }

  it("are accepted and Established", async () => {
    for (const crd of ["kafkaconnectors.mq.iotoperations.azure.com", "kafkaconnectortopicmaps.mq.iotoperations.azure.com"]) {
      await waitFor(`${crd} Established`, 30_000, async () => {
        const status = await cluster.kubectl(["get", "crd", crd, "-o", "jsonpath={.status.conditions[?(@.type=='Established')].status}"]);
        if (status !== "True") throw new Error(`Established=${status}`);
      });
    }
  });

  it("admit every file in examples/", async () => {
    const docs = examples();
    assert.ok(docs.length >= 7, `${docs.length} example documents`);
    for (const { file, doc } of docs) {
      const withNs = { ...doc, metadata: { ...(doc["metadata"] as Doc), namespace: NS } };
      assert.equal(await refusal(withNs), "", `${file} ${String((doc["metadata"] as Doc)["name"])}`);
    }
  });

  const bad: [what: string, doc: () => Doc, expected: RegExp][] = [
    ["a route that is both directions", () => topicMap({ routes: [{ ...route("r1"), ...route("r2", "kafkaToMqtt") }] }), /spec\.routes\[0\]: Invalid value: set exactly one of mqttToKafka, kafkaToMqtt/],
    ["a route that is neither", () => topicMap({ routes: [{}] }), /spec\.routes\[0\]: Invalid value: set exactly one of mqttToKafka, kafkaToMqtt/],
    ["two routes with one name", () => topicMap({ routes: [route("dup"), route("dup", "kafkaToMqtt")] }), /spec\.routes: Invalid value: route names must be unique within a topic map/],
    [
      "two Kafka authentication methods",
      () => connector({ kafkaConnection: { endpoint: "k:9093", tls: { tlsEnabled: true }, authentication: { enabled: true, authType: { sasl: { saslType: "plain", token: { secretName: "s" } }, x509: { secretName: "c" } } } } }),
      /spec\.kafkaConnection\.authentication\.authType: Invalid value: set at most one of sasl, systemAssignedManagedIdentity, x509/,
    ],
    [
      "authentication enabled without a method",
      () => connector({ kafkaConnection: { endpoint: "k:9093", tls: { tlsEnabled: true }, authentication: { enabled: true, authType: {} } } }),
      /spec\.kafkaConnection\.authentication\.authType: Invalid value: authentication\.enabled is true: set one of authType\.sasl/,
    ],
    ["Event Hubs without TLS", () => connector({ kafkaConnection: { endpoint: "ns.servicebus.windows.net:9093", tls: { tlsEnabled: false } } }), /spec\.kafkaConnection\.tls\.tlsEnabled: Invalid value: Event Hubs accepts only TLS connections/],
    ["a wrong enum value", () => connector({ logLevel: "verbose" }), /spec\.logLevel: Unsupported value: "verbose": supported values: "trace", "debug", "info", "warn", "error", "fatal"/],
    ["an unknown field (kubectl --validate=strict)", () => connector({ logLevell: "info" }), /unknown field "spec\.logLevell"/],
    ["partitionKeyProperty without the property strategy", () => topicMap({ partitionKeyProperty: "device" }), /spec\.partitionKeyProperty: Invalid value: partitionKeyProperty is required when partitionStrategy is property, and only allowed then/],
    ["a SASL token with neither source", () => connector({ kafkaConnection: { endpoint: "k:9093", tls: { tlsEnabled: true }, authentication: { enabled: true, authType: { sasl: { saslType: "plain", token: {} } } } } }), /authType\.sasl\.token: Invalid value: set exactly one of secretName, keyVault/],
  ];
  for (const [what, doc, expected] of bad) {
    it(`refuses ${what}, saying why`, async () => {
      const err = await refusal(doc());
      assert.match(err, expected);
      assert.doesNotMatch(err, /must validate one and only one schema/, "no bare oneOf message");
    });
  }

  it("accepts authentication {enabled: false, authType: {}} (no authentication)", async () => {
    assert.equal(await refusal(connector({ kafkaConnection: { endpoint: "k:9092", tls: { tlsEnabled: false }, authentication: { enabled: false, authType: {} } } })), "");
  });
});
