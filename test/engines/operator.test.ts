// `mqtt-kafka-connector operator` against a real kube-apiserver and controller manager (no kubelet,
// so pods never run): deploy/ installs, the operator's own service account token is enough, a
// KafkaConnector becomes its objects, scaling follows, drift is repaired, an invalid spec is
// reported and changes nothing, Key Vault needs the CSI driver's CRD, and deleting the connector
// lets the garbage collector remove everything.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { freePort } from "../../scripts/local-brokers/ports";
import { startLocalCluster, waitFor, type LocalCluster } from "../../scripts/local-cluster";
import { canI, eventsFor, getJson, OPERATOR_NS, OPERATOR_SA, serviceAccountKubeconfig, startOperator, waitGone, type Json, type OperatorProcess } from "./operator-support";

const ROOT = join(__dirname, "..", "..", "..");
const NS = "plant";
const AS_OPERATOR = `system:serviceaccount:${OPERATOR_NS}:${OPERATOR_SA}`;

type Doc = Record<string, unknown>;
const mqtt = (auth: Doc) => ({ endpoint: "mqtt.iot.svc:1883", tls: { tlsEnabled: false }, authentication: auth });
const connector = (name: string, spec: Doc = {}): Doc => ({
  apiVersion: "mq.iotoperations.azure.com/v1beta1",
  kind: "KafkaConnector",
  metadata: { name, namespace: NS },
  spec: {
    image: { repository: "example.com/connector", tag: "1.2.3" },
    instances: 2,
    clientIdPrefix: "line1",
    logLevel: "info",
    kafkaConnection: { endpoint: "kafka.data.svc:9092", tls: { tlsEnabled: false }, authentication: { enabled: true, authType: { sasl: { saslType: "plain", token: { secretName: "kafka-sasl" } } } } },
    localBrokerConnection: mqtt({ usernamePassword: { secretName: "mqtt-user" } }),
    ...spec,
  },
});
type Container = { image: string; args: string[]; securityContext: Doc; volumeMounts: { name: string }[] };
type PodSpec = { securityContext: Doc; containers: Container[]; volumes: Doc[]; serviceAccountName: string };
const podSpec = (sts: Json) => (sts["spec"] as { template: { spec: PodSpec } }).template.spec;
const replicas = (sts: Json) => (sts["spec"] as { replicas: number }).replicas;
type Rule = { apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: string[] };
const leaseNamesOf = (role: Json) => ((role["rules"] as Rule[]).find((r) => r.resources.includes("leases") && r.resourceNames)?.resourceNames ?? []).slice().sort();
const operatorStatus = (kc: Json) => ((kc["status"] ?? {}) as { operator?: { observedGeneration: number; reason: string; message: string; statefulSet: string | null } }).operator;
/** Applies caused by a watch event (not the periodic resync), at any log level. */
const appliedLines = (op: OperatorProcess, name: string) => op.logs().filter((l) => l["msg"] === "applied" && l["resync"] === false && l["connector"] === name);

describe("engines: the operator on a real kube-apiserver", function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let op: OperatorProcess;
  let httpPort: number;
  const apply = (doc: Doc) => cluster.kubectl(["apply", "-f", "-"], { input: JSON.stringify(doc) });
  const get = (kind: string, name: string, ns = NS) => getJson(cluster, [kind, name, "-n", ns]);
  /** Waits until `check` passes on a fresh read, bounded; its last assertion message is the error. */
  const until = <T>(what: string, read: () => Promise<T>, check: (v: T) => void, ms = 30_000) =>
    waitFor(what, ms, async () => {
      const v = await read();
      check(v);
      return v;
    });

  before(async function () {
    this.timeout(240_000);
    cluster = await startLocalCluster();
    await cluster.kubectl(["apply", "-k", join(ROOT, "deploy")]);
    await cluster.kubectl(["create", "namespace", NS]);
    await cluster.kubectl(["label", "namespace", NS, "pod-security.kubernetes.io/enforce=restricted"]);
    httpPort = await freePort();
    // The operator runs as its own service account: whatever it lacks, the test sees.
    const kubeconfig = await serviceAccountKubeconfig(cluster, OPERATOR_NS, OPERATOR_SA);
    op = startOperator(kubeconfig, ["--resync-seconds", "3", "--http-port", String(httpPort), "--log-level", "debug"]);
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed" && op) process.stderr.write(`${op.tail()}\n`);
  });
  after(async () => {
    await op?.stop(5_000);
    await cluster?.stop();
  });

  it("kubectl apply -k deploy/ installs the CRDs and an operator Deployment that Pod Security restricted admits", async () => {
    for (const crd of ["kafkaconnectors", "kafkaconnectortopicmaps"]) {
      const c = await getJson(cluster, ["crd", `${crd}.mq.iotoperations.azure.com`]);
      const conds = (c["status"] as { conditions: { type: string; status: string }[] }).conditions;
      assert.equal(conds.find((x) => x.type === "Established")?.status, "True", crd);
    }
    const dep = await get("deployment", "mqtt-kafka-connector-operator", OPERATOR_NS);
    const pod = podSpec(dep);
    assert.deepEqual(pod.containers[0]!.args, ["operator"]);
    assert.equal(pod.serviceAccountName, OPERATOR_SA);
    assert.equal(pod.securityContext["runAsUser"], 10001);
    assert.deepEqual(pod.containers[0]!.securityContext["capabilities"], { drop: ["ALL"] });
    assert.equal(pod.containers[0]!.securityContext["readOnlyRootFilesystem"], true);
    // The ReplicaSet's Pod is admitted by the namespace's enforce=restricted label (it never runs here).
    await until("the operator's Pod", () => cluster.kubectl(["get", "pods", "-n", OPERATOR_NS, "-l", "app.kubernetes.io/name=mqtt-kafka-connector-operator", "-o", "name"]), (out) => assert.match(out, /^pod\//), 60_000);
  });

  it("the operator's ClusterRole holds what it creates and grants, and no Secrets or Pods", async () => {
    const must: [string, string][] = [
      ["watch", "kafkaconnectors.mq.iotoperations.azure.com"], ["patch", "kafkaconnectors.mq.iotoperations.azure.com/status"],
      ["create", "statefulsets.apps"], ["patch", "statefulsets.apps"], ["create", "roles.rbac.authorization.k8s.io"], ["patch", "rolebindings.rbac.authorization.k8s.io"],
      ["create", "serviceaccounts"], ["patch", "services"], ["create", "poddisruptionbudgets.policy"],
      ["create", "events"], ["update", "leases.coordination.k8s.io"], ["update", "kafkaconnectors.mq.iotoperations.azure.com/finalizers"], ["list", "kafkaconnectortopicmaps.mq.iotoperations.azure.com"],
    ];
    for (const [verb, res] of must) assert.equal(await canI(cluster, AS_OPERATOR, verb, res, NS), true, `${verb} ${res}`);
    const mustNot: [string, string][] = [["get", "secrets"], ["list", "secrets"], ["create", "pods"], ["delete", "statefulsets.apps"], ["escalate", "roles.rbac.authorization.k8s.io"], ["bind", "clusterroles.rbac.authorization.k8s.io"], ["create", "clusterrolebindings.rbac.authorization.k8s.io"]];
    for (const [verb, res] of mustNot) assert.equal(await canI(cluster, AS_OPERATOR, verb, res, NS), false, `${verb} ${res}`);
  });

  let uid = "";
  it("turns a KafkaConnector into its StatefulSet, RBAC, Service and PDB, owned by it", async () => {
    await apply(connector("line1"));
    const kc = await get("kafkaconnector", "line1");
    uid = kc.metadata.uid;
    const sts = await until("StatefulSet line1", () => get("statefulset", "line1"), () => undefined);
    assert.equal(replicas(sts), 2);
    const pod = podSpec(sts);
    const c = pod.containers[0]!;
    assert.equal(c.image, "example.com/connector:1.2.3");
    assert.deepEqual(c.args.slice(0, 2), ["--config", "k8s://plant/line1"]);
    assert.equal(pod.serviceAccountName, "line1");
    assert.equal(pod.securityContext["runAsNonRoot"], true);
    for (const [k, v] of Object.entries({ runAsNonRoot: true, runAsUser: 10001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false })) assert.equal(c.securityContext[k], v, k);
    assert.deepEqual(c.securityContext["capabilities"], { drop: ["ALL"] });
    assert.ok(pod.volumes.some((v) => (v["secret"] as Doc | undefined)?.["secretName"] === "kafka-sasl"), "the SASL Secret is mounted");

    const role = await get("role", "line1-connector");
    const rules = role["rules"] as Rule[];
    assert.ok(!rules.some((r) => r.resources.some((x) => x === "secrets" || x === "*") || r.verbs.includes("*")), JSON.stringify(rules));
    assert.deepEqual(rules.find((r) => r.resources.includes("kafkaconnectors"))?.resourceNames, ["line1"]);
    assert.deepEqual(leaseNamesOf(role), ["line1-instance-0", "line1-instance-1", "line1-status"]);
    const binding = await get("rolebinding", "line1-connector");
    assert.deepEqual(binding["subjects"], [{ kind: "ServiceAccount", name: "line1", namespace: NS }]);
    assert.equal(((await get("service", "line1-headless"))["spec"] as Doc)["clusterIP"], "None");
    assert.equal(((await get("pdb", "line1"))["spec"] as Doc)["maxUnavailable"], 1);

    for (const [kind, name] of [["serviceaccount", "line1"], ["role", "line1-connector"], ["rolebinding", "line1-connector"], ["service", "line1-headless"], ["statefulset", "line1"], ["pdb", "line1"]]) {
      const o = await get(kind!, name!);
      assert.deepEqual(o.metadata.ownerReferences, [{ apiVersion: "mq.iotoperations.azure.com/v1beta1", kind: "KafkaConnector", name: "line1", uid, controller: true, blockOwnerDeletion: true }], `${kind}/${name}`);
      assert.equal(o.metadata.labels?.["app.kubernetes.io/managed-by"], "mqtt-kafka-connector-operator", `${kind}/${name}`);
      assert.ok(o.metadata.managedFields?.some((m) => m.manager === "mqtt-kafka-connector-operator"), `${kind}/${name} field manager`);
    }
    const status = await until("status.operator", () => get("kafkaconnector", "line1"), (o) => assert.equal(operatorStatus(o)?.reason, "Applied"));
    assert.deepEqual({ ...operatorStatus(status), message: undefined }, { observedGeneration: kc.metadata.generation, reason: "Applied", statefulSet: "line1", message: undefined });
    assert.ok((await eventsFor(cluster, NS, "line1")).some((e) => e.reason === "Applied" && e.type === "Normal"));
    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    assert.equal(ready.status, 200, "/readyz once the watch is up");
  });

  it("follows a change of instances: StatefulSet replicas and the Role's Lease names", async () => {
    await cluster.kubectl(["patch", "kafkaconnector", "line1", "-n", NS, "--type=merge", "-p", '{"spec":{"instances":3}}']);
    await until("3 replicas", () => get("statefulset", "line1"), (s) => assert.equal(replicas(s), 3));
    await until("3 instance Leases in the Role", () => get("role", "line1-connector"), (r) => assert.deepEqual(leaseNamesOf(r), ["line1-instance-0", "line1-instance-1", "line1-instance-2", "line1-status"]));
    const gen = (await get("kafkaconnector", "line1")).metadata.generation;
    await until("observedGeneration", () => get("kafkaconnector", "line1"), (o) => assert.equal(operatorStatus(o)?.observedGeneration, gen));
  });

  it("leaves status.conditions alone and does not re-apply on a status-only change", async () => {
    const before = appliedLines(op, "line1").length;
    await cluster.kubectl(["patch", "kafkaconnector", "line1", "-n", NS, "--subresource=status", "--type=merge", "-p", '{"status":{"instancesReady":3,"conditions":[{"type":"Ready","status":"True","reason":"Running","message":"ok","lastTransitionTime":"2025-01-01T00:00:00Z"}]}}']);
    await new Promise((r) => setTimeout(r, 4_000));
    assert.equal(appliedLines(op, "line1").length, before, "no new apply of the same generation");
    const status = (await get("kafkaconnector", "line1"))["status"] as Doc;
    assert.equal(status["instancesReady"], 3);
    assert.equal((status["conditions"] as Doc[])[0]!["reason"], "Running");
    assert.equal(operatorStatus(await get("kafkaconnector", "line1"))?.reason, "Applied");
  });

  it("repairs drift on resync: a deleted Role comes back, a hand-scaled StatefulSet is scaled back", async () => {
    await cluster.kubectl(["delete", "role", "line1-connector", "-n", NS]);
    await cluster.kubectl(["scale", "statefulset", "line1", "-n", NS, "--replicas=7"]);
    await until("the Role back", () => get("role", "line1-connector"), (r) => assert.equal(leaseNamesOf(r).length, 4));
    await until("3 replicas again", () => get("statefulset", "line1"), (s) => assert.equal(replicas(s), 3));
  });

  it("reports a spec that the CRD admits but validation refuses, and changes nothing", async () => {
    const sts = await get("statefulset", "line1");
    // x509 to the MQTT broker without TLS: no CEL rule in the CRD, a semantic check of validateDocument.
    await apply(connector("line1", { instances: 5, localBrokerConnection: mqtt({ x509: { secretName: "mqtt-cert" } }) }));
    const gen = (await get("kafkaconnector", "line1")).metadata.generation;
    const kc = await until("InvalidSpec", () => get("kafkaconnector", "line1"), (o) => assert.equal(operatorStatus(o)?.observedGeneration, gen));
    const s = operatorStatus(kc)!;
    assert.equal(s.reason, "InvalidSpec");
    assert.match(s.message, /spec\.localBrokerConnection\.tls\.tlsEnabled: got false; x509 authentication requires tlsEnabled: true/);
    assert.equal(s.statefulSet, "line1");
    assert.equal(((kc["status"] as Doc)["conditions"] as Doc[])[0]!["reason"], "Running", "conditions untouched");
    await until("an InvalidSpec Event", () => eventsFor(cluster, NS, "line1"), (ev) => assert.ok(ev.some((e) => e.reason === "InvalidSpec" && e.type === "Warning" && /spec\.localBrokerConnection\.tls\.tlsEnabled/.test(e.message))));
    await new Promise((r) => setTimeout(r, 4_000)); // past a resync
    const after = await get("statefulset", "line1");
    assert.equal(after.metadata.generation, sts.metadata.generation, "the StatefulSet was not changed");
    assert.equal(replicas(after), 3);
    await apply(connector("line1", { instances: 3 }));
    await until("Applied again", () => get("kafkaconnector", "line1"), (o) => assert.equal(operatorStatus(o)?.reason, "Applied"));
  });

  it("applies a Key Vault connector only once the SecretProviderClass CRD exists", async () => {
    const kv = connector("vault1", {
      kafkaConnection: { endpoint: "ns.servicebus.windows.net:9093", tls: { tlsEnabled: true }, authentication: { enabled: true, authType: { sasl: { saslType: "plain", token: { keyVault: { username: "$ConnectionString", vault: { name: "kv1", directoryId: "tenant", credentials: { servicePrincipalLocalSecretName: "kv-sp" } }, vaultSecret: { name: "eh-conn" } } } } } } },
    });
    await apply(kv);
    const failed = await until("ApplyFailed", () => get("kafkaconnector", "vault1"), (o) => assert.equal(operatorStatus(o)?.reason, "ApplyFailed"));
    assert.match(operatorStatus(failed)!.message, /SecretProviderClass\/vault1-kv-sasl.*Secrets Store CSI driver/);
    assert.equal((await cluster.kubectl(["get", "statefulset", "vault1", "-n", NS, "--ignore-not-found", "-o", "name"])).trim(), "", "no StatefulSet before its SecretProviderClass");
    await cluster.kubectl(["apply", "-f", "-"], { input: JSON.stringify(secretProviderClassCrd()) });
    // can-i answers "no" for a resource the API does not serve, so this is asked only now.
    await until("the CRD served", () => canI(cluster, AS_OPERATOR, "create", "secretproviderclasses.secrets-store.csi.x-k8s.io", NS), (yes) => assert.equal(yes, true));
    await until("Applied", () => get("kafkaconnector", "vault1"), (o) => assert.equal(operatorStatus(o)?.reason, "Applied"), 60_000);
    const spc = await get("secretproviderclass", "vault1-kv-sasl");
    assert.equal(((spc["spec"] as Doc)["parameters"] as Doc)["keyvaultName"], "kv1");
    assert.equal(spc.metadata.ownerReferences?.[0]?.["name"], "vault1");
    const csi = podSpec(await get("statefulset", "vault1")).volumes.find((v) => v["csi"]);
    assert.deepEqual((csi?.["csi"] as Doc)["volumeAttributes"], { secretProviderClass: "vault1-kv-sasl" });
  });

  it("resumes after an API server restart", async () => {
    await cluster.restartApiServer();
    await cluster.kubectl(["patch", "kafkaconnector", "line1", "-n", NS, "--type=merge", "-p", '{"spec":{"instances":4}}']);
    await until("4 replicas after the restart", () => get("statefulset", "line1"), (s) => assert.equal(replicas(s), 4), 90_000);
  });

  it("kubectl delete kafkaconnector: the garbage collector removes what the operator made", async () => {
    await cluster.kubectl(["delete", "kafkaconnector", "line1", "vault1", "-n", NS]);
    for (const [kind, name] of [["statefulset", "line1"], ["role", "line1-connector"], ["rolebinding", "line1-connector"], ["serviceaccount", "line1"], ["service", "line1-headless"], ["pdb", "line1"], ["secretproviderclass", "vault1-kv-sasl"], ["statefulset", "vault1"]]) {
      await waitGone(cluster, `${kind}/${name}`, [kind!, name!, "-n", NS], 90_000);
    }
  });

  it("stops on SIGTERM with exit code 0", async () => {
    assert.equal(await op.stop(), 0);
  });

  it("with --namespace, a Role with the ClusterRole's rules is enough, and other namespaces are left alone", async () => {
    const team = "team";
    await cluster.kubectl(["create", "namespace", team]);
    await cluster.kubectl(["create", "serviceaccount", "ns-operator", "-n", team]);
    const clusterRole = parse(readFileSync(join(ROOT, "deploy", "operator", "clusterrole.yaml"), "utf8")) as Doc;
    await apply({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "ns-operator", namespace: team }, rules: clusterRole["rules"] });
    await cluster.kubectl(["create", "rolebinding", "ns-operator", "-n", team, "--role=ns-operator", `--serviceaccount=${team}:ns-operator`]);
    const scoped = startOperator(await serviceAccountKubeconfig(cluster, team, "ns-operator"), ["--namespace", team, "--resync-seconds", "3", "--http-port", "0"]);
    try {
      await apply({ ...connector("line2"), metadata: { name: "line2", namespace: team } });
      await apply(connector("line3"));
      const sts = await until("StatefulSet team/line2", () => get("statefulset", "line2", team), () => undefined);
      assert.equal(replicas(sts), 2);
      await until("Applied", () => get("kafkaconnector", "line2", team), (o) => assert.equal(operatorStatus(o)?.reason, "Applied"));
      await new Promise((r) => setTimeout(r, 4_000));
      assert.equal((await cluster.kubectl(["get", "statefulset", "line3", "-n", NS, "--ignore-not-found", "-o", "name"])).trim(), "", "plant/line3 is outside --namespace");
      assert.equal(operatorStatus(await get("kafkaconnector", "line3")), undefined);
    } catch (e) {
      process.stderr.write(`${scoped.tail()}\n`);
      throw e;
    } finally {
      assert.equal(await scoped.stop(), 0);
    }
  });

  it("exits 3 at once when it may not list KafkaConnectors", async () => {
    const nobody = startOperator(await cluster.kubeconfigFor("nobody"), ["--http-port", "0"]);
    const code = await Promise.race([new Promise((r) => nobody.child.once("exit", (c) => r(c))), new Promise((r) => setTimeout(() => r("still running"), 20_000))]);
    await nobody.stop(2_000);
    assert.equal(code, 3, nobody.tail());
    assert.match(nobody.tail(), /cannot list KafkaConnectors/);
    assert.match(nobody.tail(), /forbidden/);
  });
});

function secretProviderClassCrd(): Doc {
  // A stand-in for the Secrets Store CSI driver's CRD: only the API the operator writes to.
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "secretproviderclasses.secrets-store.csi.x-k8s.io" },
    spec: {
      group: "secrets-store.csi.x-k8s.io",
      names: { kind: "SecretProviderClass", plural: "secretproviderclasses", singular: "secretproviderclass", listKind: "SecretProviderClassList" },
      scope: "Namespaced",
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
    },
  };
}
