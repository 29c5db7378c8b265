import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { parseOperatorFlags } from "../../connector/operator/flags";
import { DEFAULT_OPERATOR_IMAGE, OPERATOR_NAME, OPERATOR_NAMESPACE, operatorArgs, operatorManifests, OperatorOptionError } from "../../connector/operator/manifests";
import { operatorYamlFiles } from "../../connector/operator/manifests-yaml";

const ROOT = join(__dirname, "..", "..", "..");
const onDisk = (file: string) => readFileSync(join(ROOT, "deploy", "operator", file), "utf8");
type Obj = Record<string, unknown>;
type Container = { image: string; args: string[]; imagePullPolicy: string; resources: unknown };
const podOf = (d: Obj) => (d["spec"] as { template: { metadata: { labels: Obj }; spec: { containers: Container[]; imagePullSecrets?: unknown } } }).template;

describe("operator: deploy/operator/ and operatorManifests()", () => {
  it("the files on disk are the builder's default output, rendered (npm run gen:crds writes them)", () => {
    for (const [file, text] of operatorYamlFiles()) assert.equal(onDisk(file), text, `deploy/operator/${file} is stale: run npm run gen:crds`);
    const kustomization = parse(readFileSync(join(ROOT, "deploy", "kustomization.yaml"), "utf8")) as { resources: string[] };
    assert.deepEqual(kustomization.resources.filter((r) => r.startsWith("operator/")), [...operatorYamlFiles().keys()].map((f) => `operator/${f}`), "kustomization lists every file, in apply order");
  });

  it("parsed, each file deep-equals its object (the comments are the only extra)", () => {
    const m = operatorManifests();
    const files: [string, unknown][] = [["namespace.yaml", m.namespace], ["serviceaccount.yaml", m.serviceAccount], ["clusterrole.yaml", m.role], ["clusterrolebinding.yaml", m.binding], ["deployment.yaml", m.deployment]];
    for (const [file, obj] of files) assert.deepEqual(parse(onDisk(file)), JSON.parse(JSON.stringify(obj)), file);
    assert.match(onDisk("clusterrole.yaml"), /# Held only so that it may grant them to the connector pods' Role/);
    assert.match(onDisk("deployment.yaml"), /# The connector's image; set the tag with `kustomize edit set image`/);
  });

  it("by default: cluster-wide, in mqtt-kafka-connector-system, the connector image, args [operator] and nothing else", () => {
    const m = operatorManifests();
    assert.equal(m.role.kind, "ClusterRole");
    assert.equal(m.role.metadata.namespace, undefined);
    assert.deepEqual(m.binding["subjects"], [{ kind: "ServiceAccount", name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE }]);
    const c = podOf(m.deployment).spec.containers[0]!;
    assert.equal(c.image, DEFAULT_OPERATOR_IMAGE);
    assert.deepEqual(c.args, ["operator"]);
  });

  it("with watchNamespace: a Role and RoleBinding in that namespace, for the service account in its own, and --namespace", () => {
    const m = operatorManifests({ watchNamespace: "team", namespace: "ops" });
    assert.deepEqual([m.role.kind, m.role.metadata.namespace, m.binding.kind, m.binding.metadata.namespace], ["Role", "team", "RoleBinding", "team"]);
    assert.deepEqual(m.role["rules"], operatorManifests().role["rules"], "the same rules");
    assert.deepEqual(m.binding["roleRef"], { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: OPERATOR_NAME });
    assert.deepEqual(m.binding["subjects"], [{ kind: "ServiceAccount", name: OPERATOR_NAME, namespace: "ops" }]);
    assert.equal(m.deployment.metadata.namespace, "ops");
    assert.deepEqual(podOf(m.deployment).spec.containers[0]!.args, ["operator", "--namespace=team"]);
  });

  it("renders the operator's flags, which its own parser reads back as the connectors' defaults", () => {
    const args = operatorArgs({
      resyncSeconds: 60,
      logLevel: "debug",
      allowImages: ["myacr.azurecr.io/"],
      connector: { mqttTokenAudience: "aio-mq", cpuRequest: "200m", cpuLimit: "1", memoryRequest: "256Mi", memoryLimit: "1Gi", terminationGracePeriodSeconds: 90, maxUnavailable: 2, imagePullSecrets: ["acr-pull", "other"] },
    });
    assert.equal(args[0], "operator");
    const parsed = parseOperatorFlags(args.slice(1), {});
    assert.ok(parsed !== "help");
    assert.equal(parsed.resyncMs, 60_000);
    assert.equal(parsed.logLevel, "debug");
    assert.deepEqual(parsed.defaults, {
      allowedImages: ["myacr.azurecr.io/"],
      workload: {
        mqttTokenAudience: "aio-mq",
        resources: { requests: { cpu: "200m", memory: "256Mi" }, limits: { memory: "1Gi", cpu: "1" } },
        imagePullSecrets: ["acr-pull", "other"],
        terminationGracePeriodSeconds: 90,
        maxUnavailable: 2,
      },
    });
  });

  it("takes image, pull policy and Secrets, resources, labels (never in the selector) and leaves out the Namespace on request", () => {
    const m = operatorManifests({ image: "myacr.azurecr.io/c:2.0.0", imagePullPolicy: "Always", imagePullSecrets: ["acr"], resources: { requests: { cpu: "1" } }, labels: { team: "iot" }, createNamespace: false });
    assert.equal(m.namespace, undefined);
    const t = podOf(m.deployment);
    assert.deepEqual([t.spec.containers[0]!.image, t.spec.containers[0]!.imagePullPolicy], ["myacr.azurecr.io/c:2.0.0", "Always"]);
    assert.deepEqual(t.spec.imagePullSecrets, [{ name: "acr" }]);
    assert.deepEqual(t.spec.containers[0]!.resources, { requests: { cpu: "1" } });
    for (const o of [m.serviceAccount, m.role, m.binding, m.deployment]) assert.equal(o.metadata.labels["team"], "iot", o.kind);
    assert.equal(t.metadata.labels["team"], "iot");
    assert.deepEqual((m.deployment["spec"] as { selector: unknown }).selector, { matchLabels: { "app.kubernetes.io/name": OPERATOR_NAME } });
    assert.equal(operatorManifests({ labels: { team: "iot" } }).namespace?.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
  });

  it("refuses what the operator would refuse at start, naming the option and the flag", () => {
    const cases: [Parameters<typeof operatorManifests>[0], RegExp][] = [
      [{ connector: { cpuRequest: "lots" } }, /^connector\.cpuRequest: --cpu-request must be a Kubernetes quantity/],
      [{ connector: { maxUnavailable: -1 } }, /^connector\.maxUnavailable: --max-unavailable must be an integer/],
      [{ connector: { imagePullSecrets: ["ok", "Not_A_Name"] } }, /^connector\.imagePullSecrets\[1\]: --image-pull-secret must be a Secret name/],
      [{ connector: { mqttTokenAudience: "" } }, /^connector\.mqttTokenAudience: --mqtt-token-audience must not be empty/],
      [{ watchNamespace: "Team" }, /^watchNamespace: --namespace must be a namespace name/],
      [{ allowImages: [""] }, /^allowImages\[0\]: --allow-image must be an image repository/],
      [{ resyncSeconds: 0 }, /^resyncSeconds: --resync-seconds must be an integer from 1/],
      [{ namespace: "Ops" }, /^namespace: got "Ops"; must be a namespace name/],
      [{ imagePullSecrets: ["a b"] }, /^imagePullSecrets\[0\]: got "a b"/],
      [{ image: "a b" }, /^image: got "a b"/],
    ];
    for (const [opts, message] of cases) assert.throws(() => operatorManifests(opts), (e: Error) => e instanceof OperatorOptionError && message.test(e.message), JSON.stringify(opts));
  });
});
