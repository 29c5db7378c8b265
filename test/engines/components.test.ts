// The Pulumi components on the real engine (the Pulumi CLI and the Kubernetes provider built from
// source) against a real kube-apiserver with its controller manager: what `up` creates, what a
// preview says about a change, the order of updates, two stacks on one cluster, destroy.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { LocalWorkspace, type EngineEvent, type Stack } from "@pulumi/pulumi/automation";
import { MqttKafkaBridge, type LogLevel, type MqttKafkaBridgeArgs, type RouteArgs } from "../../components";
import { engineBinary, pulumiEnv, startLocalCluster, waitFor, type LocalCluster, type PulumiEnv } from "../../scripts/local-cluster";

const ROOT = join(__dirname, "..", "..", "..");

/**
 * No kubelet runs here, so a StatefulSet never becomes ready: only in these tests the provider is
 * told not to wait for it (the annotation the Kubernetes provider reads). Everything else awaits.
 */
function skipStatefulSetAwait(args: pulumi.ResourceTransformationArgs): pulumi.ResourceTransformationResult | undefined {
  if (args.type !== "kubernetes:apps/v1:StatefulSet") return undefined;
  const props = args.props as { metadata?: pulumi.Input<{ annotations?: Record<string, string> }> };
  // The component passes metadata as an Output: add the annotation inside it.
  const metadata = pulumi.output(props.metadata).apply((m) => ({ ...m, annotations: { ...m?.annotations, "pulumi.com/skipAwait": "true" } }));
  return { props: { ...props, metadata }, opts: args.opts };
}

const routes = (extra: RouteArgs[] = []): RouteArgs[] => [
  { mqttToKafka: { name: "telemetry", mqttTopic: "plant/+/telemetry", kafkaTopic: "telemetry" } },
  { kafkaToMqtt: { name: "commands", kafkaTopic: "commands", mqttTopic: "plant/commands" } },
  ...extra,
];

function bridgeArgs(namespace: string, logLevel: LogLevel = "info", extraRoutes: RouteArgs[] = []): MqttKafkaBridgeArgs {
  return {
    kubernetesNamespace: namespace,
    kafkaConnection: { endpoint: "kafka.data.svc:9092", tls: { tlsEnabled: false } },
    connector: { image: { repository: "example.com/connector", tag: "1.0.0" }, instances: 2, logLevel, localBrokerConnection: { endpoint: "mqtt.iot.svc:1883" } },
    topicMap: { routes: routes(extraRoutes) },
    // A disk spool per pod: its claim template must pass the API server and Pod Security too.
    workload: { spool: { size: "1Gi" } },
  };
}

describe("engines: the Pulumi components on the real engine and API server", function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let penv: PulumiEnv;
  const stacks: Stack[] = [];
  const output: string[] = [];

  before(async function () {
    this.timeout(180_000);
    cluster = await startLocalCluster();
    penv = pulumiEnv();
    // CRDs are a cluster-level install, done once (the bridge no longer installs them).
    await cluster.kubectl(["apply", "-f", join(ROOT, "deploy", "crds")]);
    for (const [ns, level] of [["plant-a", "restricted"], ["plant-b", "restricted"]] as const) {
      await cluster.kubectl(["create", "namespace", ns]);
      await cluster.kubectl(["label", "namespace", ns, `pod-security.kubernetes.io/enforce=${level}`, `pod-security.kubernetes.io/warn=${level}`, `pod-security.kubernetes.io/audit=${level}`]);
    }
  });
  after(async () => {
    for (const s of stacks) await s.workspace.removeStack(s.name, { force: true }).catch(() => undefined);
    penv?.cleanup();
    await cluster?.stop();
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") process.stderr.write(`pulumi output:\n${output.join("").slice(-6000)}\n`);
    output.length = 0;
  });

  async function stackFor(name: string, args: () => MqttKafkaBridgeArgs): Promise<Stack> {
    const program = async () => {
      pulumi.runtime.registerStackTransformation(skipStatefulSetAwait);
      const provider = new k8s.Provider("cluster", { kubeconfig: cluster.kubeconfigYaml });
      const bridge = new MqttKafkaBridge(name, args(), { providers: { kubernetes: provider } });
      return { bootstrapServers: bridge.bootstrapServers, hubNames: bridge.hubNames };
    };
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: name, projectName: "mkc-components", program }, await penv.workspaceOptions());
    stacks.push(stack);
    return stack;
  }

  const get = (ns: string, what: string, jsonpath: string) => cluster.kubectl(["get", what, "-n", ns, "-o", `jsonpath=${jsonpath}`]);

  let args = bridgeArgs("plant-a");
  let a: Stack;

  it("up creates the connector's objects, admitted under Pod Security restricted with no warning, and its pods", async () => {
    a = await stackFor("plant-a", () => args);
    const up = await a.up({ onOutput: (s) => output.push(s) });
    assert.equal(up.summary.result, "succeeded");
    // stack, provider, bridge and KafkaConnector components, SA, Role, RoleBinding, Service, StatefulSet, PDB, two CRs
    assert.equal(up.summary.resourceChanges?.create, 12, JSON.stringify(up.summary.resourceChanges));
    assert.equal(up.outputs["bootstrapServers"]!.value, "kafka.data.svc:9092");
    assert.equal(await get("plant-a", "statefulset/plant-a", "{.spec.replicas}"), "2");
    assert.equal(await get("plant-a", "kafkaconnectortopicmap/plant-a-topics", "{.spec.routes[*].mqttToKafka.name}"), "telemetry");
    // The StatefulSet controller creates the pods; Pod Security would refuse them (FailedCreate) if they broke "restricted".
    await waitFor("two pods admitted", 60_000, async () => {
      const pods = await get("plant-a", "pods", "{.items[*].metadata.name}");
      if (pods.split(" ").filter(Boolean).length !== 2) throw new Error(`pods: ${pods}`);
    });
    // The StatefulSet controller made each pod its spool claim from the template.
    assert.equal(await get("plant-a", "pvc", "{.items[*].metadata.name}"), "spool-plant-a-0 spool-plant-a-1");
    assert.equal(await get("plant-a", "pvc/spool-plant-a-0", "{.spec.resources.requests.storage}"), "1Gi");
    const events = await cluster.kubectl(["get", "events", "-n", "plant-a", "-o", "jsonpath={.items[*].reason}"]);
    assert.doesNotMatch(events, /FailedCreate/);
    assert.doesNotMatch(output.join(""), /would violate PodSecurity/i, "no Pod Security warning from the apiserver");
    // The same StatefulSet as a dry run prints the apiserver's warnings, if any.
    const manifest = await cluster.kubectl(["get", "statefulset", "plant-a", "-n", "plant-a", "-o", "json"]);
    const sts = JSON.parse(manifest) as { metadata: Record<string, unknown>; spec: unknown; kind: string; apiVersion: string };
    const copy = JSON.stringify({ apiVersion: sts.apiVersion, kind: sts.kind, metadata: { name: "plant-a-copy", namespace: "plant-a" }, spec: sts.spec });
    const dry = spawnSync(engineBinary("kubernetes", "kubectl"), ["--kubeconfig", cluster.kubeconfig, "apply", "--dry-run=server", "-f", "-"], { input: copy, encoding: "utf8" });
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /statefulset\.apps\/plant-a-copy created \(server dry run\)/);
    assert.equal(dry.stderr, "", "the apiserver returned no warning");
  });

  it("a preview of a route change shows exactly the changes it makes, and changes nothing", async () => {
    args = bridgeArgs("plant-a", "info", [{ mqttToKafka: { name: "alarms", mqttTopic: "plant/+/alarms", kafkaTopic: "alarms" } }]);
    const preview = await a.preview({ diff: true, onOutput: (s) => output.push(s) });
    // Only the topic map: the pods read it from the API and reload its routes, no restart.
    assert.deepEqual(preview.changeSummary, { same: 11, update: 1 });
    assert.match(preview.stdout, /kubernetes:mq\.iotoperations\.azure\.com\/v1beta1:KafkaConnectorTopicMap/);
    assert.equal(await get("plant-a", "kafkaconnectortopicmap/plant-a-topics", "{.spec.routes[*].mqttToKafka.name}"), "telemetry", "preview changed nothing");
  });

  it("up applies a route change to the topic map alone, and a KafkaConnector change before the pods that read it", async () => {
    const routeUp = await a.up({ onOutput: (s) => output.push(s) });
    assert.deepEqual(routeUp.summary.resourceChanges, { same: 11, update: 1 });
    assert.equal(await get("plant-a", "kafkaconnectortopicmap/plant-a-topics", "{.spec.routes[*].mqttToKafka.name}"), "telemetry alarms");

    args = { ...args, connector: { ...args.connector, image: { repository: "example.com/connector", tag: "1.1.0" } } };
    const events: EngineEvent[] = [];
    const up = await a.up({ onOutput: (s) => output.push(s), onEvent: (e) => events.push(e) });
    assert.equal(up.summary.result, "succeeded");
    const done = events.flatMap((e) => (e.resOutputsEvent ? [`${e.resOutputsEvent.metadata.op} ${e.resOutputsEvent.metadata.type}`] : []));
    const cr = done.indexOf("update kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnector");
    const sts = done.indexOf("update kubernetes:apps/v1:StatefulSet");
    assert.ok(cr >= 0 && sts > cr, `the KafkaConnector before the StatefulSet: ${done.join(", ")}`);
    assert.equal(await get("plant-a", "statefulset/plant-a", "{.spec.template.spec.containers[0].image}"), "example.com/connector:1.1.0");
  });

  it("a second stack shares the cluster without conflict, and destroying one leaves the other", async () => {
    const b = await stackFor("plant-b", () => bridgeArgs("plant-b"));
    const up = await b.up({ onOutput: (s) => output.push(s) });
    assert.equal(up.summary.result, "succeeded");
    assert.equal(await get("plant-b", "kafkaconnector/plant-b", "{.spec.instances}"), "2");
    const destroyed = await b.destroy({ onOutput: (s) => output.push(s) });
    assert.equal(destroyed.summary.result, "succeeded");
    assert.equal(await get("plant-a", "kafkaconnector/plant-a", "{.spec.instances}"), "2", "the other stack's connector stays");
    assert.equal((await cluster.kubectl(["get", "crd", "-o", "name"])).includes("kafkaconnectors.mq.iotoperations.azure.com"), true, "the CRDs stay");
  });

  it("bad arguments fail the preview with the message alone, no stack trace", async () => {
    const bad = await stackFor("plant-bad", () => ({ ...bridgeArgs("plant-b"), connector: { ...bridgeArgs("plant-b").connector, instances: 0 } }));
    const err = await bad.preview({ onOutput: (s) => output.push(s) }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    assert.ok(err, "the preview failed");
    const text = `${err.message}\n${output.join("")}`;
    assert.match(text, /MqttKafkaBridge "plant-bad": invalid connector spec:\n\s+KafkaConnector\/plant-bad: spec\.instances: got 0; must be >= 1/);
    assert.doesNotMatch(text, /\n\s+at (new |Object\.|async )?\S+ \(\/.*\.js:\d+:\d+\)/, "no stack frames");
  });

  it("destroy leaves nothing behind", async () => {
    const destroyed = await a.destroy({ onOutput: (s) => output.push(s) });
    assert.equal(destroyed.summary.result, "succeeded");
    await waitFor("plant-a to be empty", 60_000, async () => {
      const left = await cluster.kubectl(["get", "statefulsets,pods,configmaps,services,serviceaccounts,poddisruptionbudgets,kafkaconnectors,kafkaconnectortopicmaps", "-n", "plant-a", "-o", "name"]);
      // The namespace's own default service account and root CA ConfigMap belong to Kubernetes.
      const ours = left.split("\n").filter((l) => l && !/serviceaccount\/default|configmap\/kube-root-ca\.crt/.test(l));
      if (ours.length) throw new Error(`left: ${ours.join(", ")}`);
    });
  });
});
