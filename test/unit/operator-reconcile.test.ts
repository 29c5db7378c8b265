import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { connectorRoleRules } from "../../connector/k8s/workload";
import { FIELD_MANAGER } from "../../connector/operator/names";
import { desiredObjects } from "../../connector/operator/reconcile";
import { connectorObject, DEFAULTS } from "./operator-fixtures";

const ROOT = join(__dirname, "..", "..", "..");

const kv = { keyVault: { vault: { name: "kv1", directoryId: "tenant", credentials: { servicePrincipalLocalSecretName: "kv-sp" } }, vaultSecret: { name: "eh-conn" } } };

describe("operator: desired objects of a KafkaConnector", () => {
  it("are the workload builder's objects, in apply order, each owned by the connector and labelled for the operator", () => {
    const d = desiredObjects(connectorObject(), DEFAULTS);
    assert.ok(d.valid);
    assert.deepEqual(d.objects.map((o) => `${o.kind}/${o.metadata.name}`), ["ServiceAccount/line1", "Role/line1-connector", "RoleBinding/line1-connector", "Service/line1-headless", "StatefulSet/line1", "PodDisruptionBudget/line1"]);
    for (const o of d.objects) {
      assert.deepEqual(o.metadata.ownerReferences, [{ apiVersion: "mq.iotoperations.azure.com/v1beta1", kind: "KafkaConnector", name: "line1", uid: "u-1", controller: true, blockOwnerDeletion: true }]);
      assert.equal(o.metadata.labels?.["app.kubernetes.io/managed-by"], FIELD_MANAGER);
      assert.equal(o.metadata.namespace, "plant");
    }
    const sts = d.objects.find((o) => o.kind === "StatefulSet")!.spec as { replicas: number; template: { spec: { containers: { image: string; imagePullPolicy: string; resources: unknown }[]; terminationGracePeriodSeconds: number } } };
    assert.equal(sts.replicas, 2);
    assert.equal(sts.template.spec.containers[0]!.image, "example.com/connector:1.2.3");
    assert.equal(sts.template.spec.containers[0]!.imagePullPolicy, "IfNotPresent", "the schema's default, filled in by validation");
    assert.deepEqual(sts.template.spec.containers[0]!.resources, DEFAULTS.workload.resources);
    assert.equal(sts.template.spec.terminationGracePeriodSeconds, 60);
    assert.equal(d.statefulSet, "line1");
  });

  it("add a SecretProviderClass per Key Vault reference, before the StatefulSet that mounts it", () => {
    const d = desiredObjects(connectorObject({ kafkaConnection: { endpoint: "ns.servicebus.windows.net:9093", tls: { tlsEnabled: true }, authentication: { enabled: true, authType: { sasl: { saslType: "plain", token: kv } } } } }), DEFAULTS);
    assert.ok(d.valid);
    const kinds = d.objects.map((o) => o.kind);
    assert.ok(kinds.indexOf("SecretProviderClass") < kinds.indexOf("StatefulSet"));
    const spc = d.objects.find((o) => o.kind === "SecretProviderClass")!;
    assert.equal(spc.metadata.name, "line1-kv-sasl");
    assert.equal((spc.spec as { parameters: Record<string, string> }).parameters["keyvaultName"], "kv1");
    assert.equal(spc.metadata.ownerReferences[0]!.uid, "u-1");
  });

  it("are refused, naming the field, for a spec that fails validation", () => {
    const d = desiredObjects(connectorObject({ localBrokerConnection: { endpoint: "m:1883", tls: { tlsEnabled: false }, authentication: { x509: { secretName: "c" } } } }), DEFAULTS);
    assert.ok(!d.valid);
    assert.deepEqual(d.problems, [{ path: "spec.localBrokerConnection.tls.tlsEnabled", message: "got false; x509 authentication requires tlsEnabled: true" }]);
    const bad = desiredObjects(connectorObject({ instances: 0 }), DEFAULTS);
    assert.ok(!bad.valid && bad.problems.some((p) => p.path === "spec.instances"), JSON.stringify(bad));
  });

  it("are refused for names the StatefulSet and Service cannot carry, and images outside --allow-image", () => {
    for (const name of ["line.1", "9lives", "x".repeat(53)]) {
      const d = desiredObjects(connectorObject({}, { name }), DEFAULTS);
      assert.ok(!d.valid && d.problems[0]!.path === "metadata.name", name);
    }
    assert.ok(desiredObjects(connectorObject({}, { name: "x".repeat(52) }), DEFAULTS).valid);
    const only = (allowedImages: string[]) => desiredObjects(connectorObject(), { ...DEFAULTS, allowedImages });
    assert.ok(only(["example.com/"]).valid);
    assert.ok(only(["example.com/connector"]).valid);
    const refused = only(["example.com/conn", "ghcr.io/mqtt-kafka-connector/"]);
    assert.ok(!refused.valid && refused.problems[0]!.path === "spec.image.repository", "a prefix without / does not match");
  });

  it("are refused when two references need one mount directory (the builder's message)", () => {
    const d = desiredObjects(connectorObject({ kafkaConnection: { endpoint: "k:9093", tls: { tlsEnabled: true, trustedCaCertificateConfigMap: "same" }, authentication: { enabled: true, authType: { sasl: { saslType: "plain", token: { secretName: "same" } } } } } }), DEFAULTS);
    assert.ok(!d.valid);
    assert.match(d.problems[0]!.message, /both need .*\/same/);
  });

  it("need an object from the API server (a uid for the owner reference)", () => {
    const d = desiredObjects(connectorObject({}, { uid: undefined }), DEFAULTS);
    assert.ok(!d.valid && d.problems[0]!.path === "metadata.uid");
  });
});

describe("operator: deploy/operator/clusterrole.yaml", () => {
  type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
  const rules = (parse(readFileSync(join(ROOT, "deploy", "operator", "clusterrole.yaml"), "utf8")) as { rules: Rule[] }).rules;
  const holds = (group: string, resource: string, verb: string) => rules.some((r) => !r.resourceNames && r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

  it("holds every permission of the connector Role it creates (no escalate or bind needed)", () => {
    for (const rule of connectorRoleRules("any", 3)) {
      for (const g of rule.apiGroups ?? []) for (const res of rule.resources ?? []) for (const v of rule.verbs) assert.ok(holds(g, res, v), `${v} ${g}/${res}`);
    }
    assert.ok(!rules.some((r) => r.verbs.some((v) => v === "escalate" || v === "bind" || v === "*") || r.resources.some((x) => x === "*" || x === "secrets" || x === "pods")), "no wildcards, escalate, bind, Secrets or Pods");
  });

  it("may create and patch every kind the operator applies", () => {
    const d = desiredObjects(connectorObject({ kafkaConnection: { endpoint: "k:9093", tls: { tlsEnabled: true }, authentication: { enabled: true, authType: { sasl: { saslType: "plain", token: kv } } } } }), DEFAULTS);
    assert.ok(d.valid);
    const plural: Record<string, string> = { ServiceAccount: "serviceaccounts", Role: "roles", RoleBinding: "rolebindings", SecretProviderClass: "secretproviderclasses", Service: "services", StatefulSet: "statefulsets", PodDisruptionBudget: "poddisruptionbudgets" };
    for (const o of d.objects) {
      const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0]! : "";
      for (const verb of ["create", "patch"]) assert.ok(holds(group, plural[o.kind]!, verb), `${verb} ${o.kind}`);
    }
  });
});
