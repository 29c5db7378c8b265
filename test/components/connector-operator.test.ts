import { record, valueOf } from "./mocks";
import { dependenciesOf } from "./dependencies";
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { ConnectorOperator, InvalidArgsError } from "../../components";
import { operatorManifests, type OperatorManifest } from "../../connector/operator/manifests";
import { at, graph, one } from "./fixtures";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const PULUMI = { "app.kubernetes.io/managed-by": "pulumi" };
type Recorded = Awaited<ReturnType<typeof record>>;
/** The recorded inputs in the builder's shape: what the provider would send to the API server. */
const asManifest = (r: Recorded, type: string, name: string) => {
  const { inputs } = one(r, type, name);
  return JSON.parse(JSON.stringify(inputs)) as Record<string, unknown>;
};
const bodyOf = (m: OperatorManifest) => JSON.parse(JSON.stringify(m)) as Record<string, unknown>;
const withoutTypeFields = (o: Record<string, unknown>) => {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
};

describe("ConnectorOperator", () => {
  it("declares exactly the builder's objects (deploy/operator/ plus managed-by pulumi), the Deployment after its rights", async () => {
    let op!: ConnectorOperator;
    const r = await record(() => (op = new ConnectorOperator("op")));
    assert.deepEqual(graph(r), [
      `${DEPLOYMENT} op-deployment`,
      "kubernetes:core/v1:Namespace op-namespace",
      "kubernetes:core/v1:ServiceAccount op-serviceaccount",
      "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole op-role",
      "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding op-binding",
      "mqtt-kafka-connector:index:ConnectorOperator op",
    ]);
    const m = operatorManifests({ labels: PULUMI });
    const pairs: [string, string, OperatorManifest][] = [
      ["kubernetes:core/v1:Namespace", "op-namespace", m.namespace!],
      ["kubernetes:core/v1:ServiceAccount", "op-serviceaccount", m.serviceAccount],
      ["kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "op-role", m.role],
      ["kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "op-binding", m.binding],
      [DEPLOYMENT, "op-deployment", m.deployment],
    ];
    // The SDK classes set apiVersion and kind themselves; everything else is the builder's.
    for (const [type, name, manifest] of pairs) assert.deepEqual(withoutTypeFields(asManifest(r, type, name)), withoutTypeFields(bodyOf(manifest)), name);
    assert.deepEqual(dependenciesOf("op-deployment"), ["op-binding", "op-namespace", "op-role", "op-serviceaccount"]);
    assert.equal(await valueOf(op.namespace), "mqtt-kafka-connector-system");
    assert.equal(op.operatorName, "mqtt-kafka-connector-operator");
  });

  it("limited to one namespace: a Role and RoleBinding there, and --namespace", async () => {
    const r = await record(() => new ConnectorOperator("op", { watchNamespace: "team", namespace: "ops", createNamespace: false }));
    assert.deepEqual(graph(r), [
      `${DEPLOYMENT} op-deployment`,
      "kubernetes:core/v1:ServiceAccount op-serviceaccount",
      "kubernetes:rbac.authorization.k8s.io/v1:Role op-role",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding op-binding",
      "mqtt-kafka-connector:index:ConnectorOperator op",
    ]);
    assert.equal(at(one(r, "kubernetes:rbac.authorization.k8s.io/v1:Role", "op-role").inputs, "metadata", "namespace"), "team");
    assert.deepEqual(at(one(r, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "op-binding").inputs, "subjects"), [{ kind: "ServiceAccount", name: "mqtt-kafka-connector-operator", namespace: "ops" }]);
    assert.deepEqual(at(one(r, DEPLOYMENT, "op-deployment").inputs, "spec", "template", "spec", "containers", 0, "args"), ["operator", "--namespace=team"]);
    assert.equal(at(one(r, DEPLOYMENT, "op-deployment").inputs, "metadata", "namespace"), "ops");
  });

  it("takes its image as outputs, its own resources, and the flags it passes to every connector", async () => {
    const r = await record(
      () =>
        new ConnectorOperator("op", {
          image: { repository: pulumi.output("myacr.azurecr.io/connector"), tag: Promise.resolve("2.0.0"), pullPolicy: "Always" },
          connector: { memoryLimit: "1Gi", imagePullSecrets: ["acr"] },
          allowImages: ["myacr.azurecr.io/"],
          logLevel: "debug",
          resources: { memoryLimit: "512Mi" },
        }),
    );
    const c = at(one(r, DEPLOYMENT, "op-deployment").inputs, "spec", "template", "spec", "containers", 0) as { image: string; imagePullPolicy: string; args: string[]; resources: unknown };
    assert.deepEqual(c.resources, { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } }, "unset ones keep their defaults");
    assert.equal(c.image, "myacr.azurecr.io/connector:2.0.0");
    assert.equal(c.imagePullPolicy, "Always");
    assert.deepEqual(c.args, ["operator", "--memory-limit=1Gi", "--image-pull-secret=acr", "--allow-image=myacr.azurecr.io/", "--log-level=debug"]);
  });

  it("refuses what the operator would refuse at start, before registering anything, naming the argument", async () => {
    const cases: [ConstructorParameters<typeof ConnectorOperator>[1], RegExp][] = [
      [{ connector: { cpuRequest: "lots" } }, /^ConnectorOperator "op": connector\.cpuRequest: --cpu-request must be a Kubernetes quantity/],
      [{ watchNamespace: "Team" }, /^ConnectorOperator "op": watchNamespace: --namespace must be a namespace name/],
      [{ image: { repository: "my registry/c" } }, /^ConnectorOperator "op": image: got "my registry\/c:0\.1\.0"/],
    ];
    for (const [args, message] of cases) {
      const r = await record(() => assert.throws(() => new ConnectorOperator("op", args), (e: Error) => e instanceof InvalidArgsError && message.test(e.message)));
      assert.deepEqual(r.filter((x) => x.type.startsWith("kubernetes:")), [], JSON.stringify(args));
    }
  });
});
