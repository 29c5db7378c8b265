// Pulumi and the operator together, on the real engine and a real kube-apiserver with its
// controller manager (no kubelet): a stack installs the operator (MqttKafkaBridge operator.install)
// and creates only custom resources for it to run; the operator, as the service account that stack
// created, runs them and leaves alone a connector whose workload Pulumi manages.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { KafkaConnector, MqttKafkaBridge, type KafkaConnectorSpecArgs, type RouteArgs } from "../../components";
import { pulumiEnv, startLocalCluster, waitFor, type LocalCluster, type PulumiEnv } from "../../scripts/local-cluster";
import { getJson, OPERATOR_NS, OPERATOR_SA, serviceAccountKubeconfig, startOperator, waitGone, type Json, type OperatorProcess } from "./operator-support";

const ROOT = join(__dirname, "..", "..", "..");
const NS = "plant";
const CLIENT_ID = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d";

/** No kubelet: nothing becomes ready, so only here the provider is told not to wait for it. */
function skipAwait(args: pulumi.ResourceTransformationArgs): pulumi.ResourceTransformationResult | undefined {
  if (args.type !== "kubernetes:apps/v1:StatefulSet" && args.type !== "kubernetes:apps/v1:Deployment") return undefined;
  const props = args.props as { metadata?: pulumi.Input<{ annotations?: Record<string, string> }> };
  const metadata = pulumi.output(props.metadata).apply((m) => ({ ...m, annotations: { ...m?.annotations, "pulumi.com/skipAwait": "true" } }));
  return { props: { ...props, metadata }, opts: args.opts };
}

const spec = (): KafkaConnectorSpecArgs => ({
  image: { repository: "example.com/connector", tag: "1.0.0" },
  instances: 2,
  kafkaConnection: { endpoint: "kafka.data.svc:9092", tls: { tlsEnabled: false } },
  localBrokerConnection: { endpoint: "mqtt.iot.svc:1883" },
});
const annotations = (o: Json) => (o.metadata as { annotations?: Record<string, string> }).annotations ?? {};
const routes = (extra: RouteArgs[] = []): RouteArgs[] => [{ mqttToKafka: { name: "telemetry", mqttTopic: "plant/+/telemetry", kafkaTopic: "telemetry" } }, ...extra];

describe("engines: a Pulumi stack with the operator running its connectors", function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let penv: PulumiEnv;
  let stack: Stack;
  let op: OperatorProcess | undefined;
  let extraRoutes: RouteArgs[] = [];
  const output: string[] = [];
  const get = (kind: string, name: string, ns = NS) => getJson(cluster, [kind, name, "-n", ns]);
  const names = async (what: string, ns = NS) => (await cluster.kubectl(["get", what, "-n", ns, "-o", "name"])).split("\n").filter(Boolean).sort();

  before(async function () {
    this.timeout(180_000);
    cluster = await startLocalCluster();
    penv = pulumiEnv();
    await cluster.kubectl(["apply", "-f", join(ROOT, "deploy", "crds")]);
    await cluster.kubectl(["create", "namespace", NS]);
    await cluster.kubectl(["label", "namespace", NS, "pod-security.kubernetes.io/enforce=restricted"]);
    const program = async () => {
      pulumi.runtime.registerStackTransformation(skipAwait);
      const providers = { kubernetes: new k8s.Provider("cluster", { kubeconfig: cluster.kubeconfigYaml }) };
      const bridge = new MqttKafkaBridge(
        "line1",
        {
          kubernetesNamespace: NS,
          kafkaConnection: spec().kafkaConnection,
          connector: { image: spec().image, instances: 2, localBrokerConnection: spec().localBrokerConnection! },
          topicMap: { routes: routes(extraRoutes) },
          workload: { manager: "operator" },
          operator: { install: true },
        },
        { providers },
      );
      const wi = new KafkaConnector("wi", { namespace: NS, spec: spec(), topicMap: { routes: routes() }, workloadManager: "operator", workloadIdentityClientId: CLIENT_ID }, { providers });
      // A connector of the same cluster whose workload stays Pulumi's.
      new KafkaConnector("pm", { namespace: NS, spec: spec(), topicMap: { routes: routes() } }, { providers });
      return { connector: bridge.connectorName, wiStatefulSet: wi.statefulSetName };
    };
    stack = await LocalWorkspace.createOrSelectStack({ stackName: "operator", projectName: "mkc-operator-pulumi", program }, await penv.workspaceOptions());
  });
  afterEach(function () {
    if (this.currentTest?.state !== "failed") return;
    process.stderr.write(`pulumi output:\n${output.join("").slice(-6000)}\n${op?.tail() ?? ""}\n`);
  });
  after(async () => {
    await op?.stop(5_000);
    await stack?.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
    penv?.cleanup();
    await cluster?.stop();
  });

  it("up installs the operator and creates the custom resources, but no workload for them", async () => {
    const up = await stack.up({ onOutput: (s) => output.push(s) });
    assert.equal(up.summary.result, "succeeded");
    assert.equal(up.outputs["wiStatefulSet"]!.value, "wi");
    const dep = await get("deployment", "mqtt-kafka-connector-operator", OPERATOR_NS);
    const pod = (dep["spec"] as { template: { spec: { serviceAccountName: string; containers: { image: string; args: string[] }[] } } }).template.spec;
    assert.deepEqual([pod.containers[0]!.image, pod.containers[0]!.args, pod.serviceAccountName], ["example.com/connector:1.0.0", ["operator"], OPERATOR_SA]);
    const role = await getJson(cluster, ["clusterrole", "mqtt-kafka-connector-operator"]);
    assert.ok((role["rules"] as { resources: string[] }[]).some((r) => r.resources.includes("statefulsets")));
    assert.equal((await get("namespace", OPERATOR_NS, "default")).metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted");
    // Pod Security restricted admits the operator's pod (created by the ReplicaSet; it never runs here).
    await waitFor("the operator's Pod", 60_000, async () => assert.equal((await names("pods", OPERATOR_NS)).length, 1));
    assert.deepEqual(await names("kafkaconnectors"), ["kafkaconnector.mq.iotoperations.azure.com/line1", "kafkaconnector.mq.iotoperations.azure.com/pm", "kafkaconnector.mq.iotoperations.azure.com/wi"]);
    assert.equal(annotations(await get("kafkaconnector", "wi"))["mqtt-kafka-connector/workload-identity-client-id"], CLIENT_ID);
    assert.deepEqual(await names("statefulsets"), ["statefulset.apps/pm"], "only the Pulumi-managed connector has a StatefulSet");
  });

  it("the operator, as the service account the stack created, runs them and leaves the Pulumi-managed one alone", async () => {
    op = startOperator(await serviceAccountKubeconfig(cluster, OPERATOR_NS, OPERATOR_SA), ["--resync-seconds", "3", "--http-port", "0"]);
    const sts = await waitFor("StatefulSets line1 and wi", 60_000, async () => [await get("statefulset", "line1"), await get("statefulset", "wi")]);
    for (const s of sts) {
      assert.equal((s["spec"] as { replicas: number }).replicas, 2);
      assert.equal(s.metadata.ownerReferences?.[0]?.["kind"], "KafkaConnector");
    }
    assert.equal(annotations(await get("serviceaccount", "wi"))["azure.workload.identity/client-id"], CLIENT_ID);
    const labels = (sts[1]!["spec"] as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    assert.equal(labels["azure.workload.identity/use"], "true");
    await waitFor("status.operator Applied", 30_000, async () => assert.equal(((await get("kafkaconnector", "line1"))["status"] as { operator?: { reason: string } } | undefined)?.operator?.reason, "Applied"));
    await new Promise((r) => setTimeout(r, 4_000)); // past a resync
    const pm = await get("statefulset", "pm");
    assert.equal(pm.metadata.ownerReferences, undefined, "Pulumi's StatefulSet was not taken over");
    assert.equal(pm.metadata.labels?.["app.kubernetes.io/managed-by"], "pulumi");
    assert.ok(!pm.metadata.managedFields?.some((m) => m.manager === "mqtt-kafka-connector-operator"));
    assert.equal(((await get("kafkaconnector", "pm"))["status"] as Json | undefined)?.["operator"], undefined);
  });

  it("a route change updates the topic map alone: the StatefulSet is not touched", async () => {
    const before = (await get("statefulset", "line1")).metadata.generation;
    extraRoutes = [{ mqttToKafka: { name: "alarms", mqttTopic: "plant/+/alarms", kafkaTopic: "alarms" } }];
    const up = await stack.up({ onOutput: (s) => output.push(s) });
    assert.equal(up.summary.resourceChanges?.["update"], 1, JSON.stringify(up.summary.resourceChanges));
    assert.equal(await cluster.kubectl(["get", "kafkaconnectortopicmap", "line1-topics", "-n", NS, "-o", "jsonpath={.spec.routes[*].mqttToKafka.name}"]), "telemetry alarms");
    await new Promise((r) => setTimeout(r, 4_000));
    assert.equal((await get("statefulset", "line1")).metadata.generation, before);
  });

  it("destroy removes the operator and the custom resources, and the garbage collector what the operator made", async () => {
    assert.equal(await op!.stop(), 0);
    const destroyed = await stack.destroy({ onOutput: (s) => output.push(s) });
    assert.equal(destroyed.summary.result, "succeeded");
    for (const [kind, name] of [["statefulset", "line1"], ["statefulset", "wi"], ["role", "wi-connector"], ["serviceaccount", "line1"], ["statefulset", "pm"]]) await waitGone(cluster, `${kind}/${name}`, [kind!, name!, "-n", NS], 90_000);
    assert.equal((await cluster.kubectl(["get", "clusterrole", "mqtt-kafka-connector-operator", "--ignore-not-found", "-o", "name"])).trim(), "");
  });
});
