import { strict as assert } from "node:assert";
import { createLogger } from "../../connector/logger";
import { Controller } from "../../connector/operator/controller";
import { desiredObjects, WORKLOAD_IDENTITY_ANNOTATION, WORKLOAD_MANAGER_ANNOTATION, type ConnectorObject, type OwnedManifest } from "../../connector/operator/reconcile";
import { connectorObject, DEFAULTS, FakeReporter as Fake } from "./operator-fixtures";

const CLIENT_ID = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const kvSasl = {
  kafkaConnection: {
    endpoint: "ns.servicebus.windows.net:9093",
    tls: { tlsEnabled: true },
    authentication: { enabled: true, authType: { sasl: { saslType: "plain", token: { keyVault: { vault: { name: "kv1", directoryId: "tenant", credentials: { servicePrincipalLocalSecretName: "kv-sp" } }, vaultSecret: { name: "eh-conn" } } } } } },
  },
};
const annotated = (value: string | undefined, spec: Record<string, unknown> = {}, generation = 1): ConnectorObject =>
  connectorObject(spec, { generation, ...(value === undefined ? {} : { annotations: { [WORKLOAD_IDENTITY_ANNOTATION]: value, "other/annotation": "x" } }) });
const kindOf = (objects: OwnedManifest[], kind: string) => objects.find((o) => o.kind === kind)!;
type PodTemplate = { metadata: { labels: Record<string, string> }; spec: { volumes: { csi?: Record<string, unknown> }[] } };
const template = (objects: OwnedManifest[]) => (kindOf(objects, "StatefulSet").spec as { template: PodTemplate }).template;

describe("operator: workload identity from the KafkaConnector's annotation", () => {
  it("annotates the service account with the client ID and labels the pods for the webhook", () => {
    const d = desiredObjects(annotated(CLIENT_ID), DEFAULTS);
    assert.ok(d.valid);
    assert.deepEqual(kindOf(d.objects, "ServiceAccount").metadata.annotations, { "azure.workload.identity/client-id": CLIENT_ID });
    assert.equal(template(d.objects).metadata.labels["azure.workload.identity/use"], "true");
    // The selector stays the workload's own: the label is only on the pods.
    assert.deepEqual((kindOf(d.objects, "StatefulSet").spec as { selector: unknown }).selector, { matchLabels: { "app.kubernetes.io/name": "mqtt-kafka-connector", "app.kubernetes.io/instance": "line1" } });
  });

  it("without the annotation, neither: the pods run without workload identity", () => {
    const d = desiredObjects(annotated(undefined), DEFAULTS);
    assert.ok(d.valid);
    assert.equal(kindOf(d.objects, "ServiceAccount").metadata.annotations, undefined);
    assert.equal(template(d.objects).metadata.labels["azure.workload.identity/use"], undefined);
  });

  it("reads Key Vault with the pods' identity instead of the service principal Secret", () => {
    const withId = desiredObjects(annotated(CLIENT_ID, kvSasl), DEFAULTS);
    assert.ok(withId.valid);
    const params = (kindOf(withId.objects, "SecretProviderClass").spec as { parameters: Record<string, string> }).parameters;
    assert.equal(params["clientID"], CLIENT_ID);
    assert.equal(params["useVMManagedIdentity"], undefined);
    const csi = template(withId.objects).spec.volumes.find((v) => v.csi)!.csi!;
    assert.equal(csi["nodePublishSecretRef"], undefined, "no service principal Secret mounted");

    const without = desiredObjects(annotated(undefined, kvSasl), DEFAULTS);
    assert.ok(without.valid);
    assert.deepEqual(template(without.objects).spec.volumes.find((v) => v.csi)!.csi!["nodePublishSecretRef"], { name: "kv-sp" });
  });

  it("refuses a value that is not a GUID, naming the annotation", () => {
    for (const bad of ["", "my-identity", `${CLIENT_ID} `, "/subscriptions/x/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"]) {
      const d = desiredObjects(annotated(bad), DEFAULTS);
      assert.ok(!d.valid, JSON.stringify(bad));
      assert.deepEqual(d.problems.map((p) => p.path), [`metadata.annotations[${WORKLOAD_IDENTITY_ANNOTATION}]`]);
      assert.match(d.problems[0]!.message, /^got ".*"; must be the client ID \(a GUID\)/);
    }
    assert.ok(desiredObjects(annotated(CLIENT_ID.toUpperCase()), DEFAULTS).valid, "GUIDs are case-insensitive");
  });
});


describe("operator: the reconcile loop and the workload identity annotation", () => {
  it("applies again when only the annotation changes (metadata keeps the generation), and reports a bad one", async () => {
    const fake = new Fake();
    const c = new Controller({ applier: fake.applier, reporter: fake, defaults: DEFAULTS, log: createLogger("fatal") });
    try {
      assert.equal(await c.reconcile(annotated(undefined), false), "applied");
      assert.equal(await c.reconcile(annotated(undefined), false), "skipped");
      assert.equal(await c.reconcile(annotated(CLIENT_ID), false), "applied", "same generation, new annotation");
      assert.deepEqual(kindOf(fake.applied.at(-1)!, "ServiceAccount").metadata.annotations, { "azure.workload.identity/client-id": CLIENT_ID });
      assert.equal(await c.reconcile(annotated(CLIENT_ID), false), "skipped");
      assert.equal(await c.reconcile(annotated("nope"), false), "invalid");
      assert.equal(fake.statuses.at(-1)!.reason, "InvalidSpec");
      assert.match(fake.statuses.at(-1)!.message, /metadata\.annotations\[mqtt-kafka-connector\/workload-identity-client-id\]: got "nope"/);
      assert.equal(fake.applied.length, 2, "nothing applied for the bad value");
    } finally {
      await c.stop();
    }
  });

  it("leaves a connector whose workload Pulumi manages alone, resyncs too, and takes it over once the annotation says operator", async () => {
    const fake = new Fake();
    const c = new Controller({ applier: fake.applier, reporter: fake, defaults: DEFAULTS, log: createLogger("fatal") });
    const managedBy = (manager: string) => connectorObject({}, { annotations: { [WORKLOAD_MANAGER_ANNOTATION]: manager } });
    try {
      assert.equal(await c.reconcile(managedBy("pulumi"), false), "skipped");
      assert.equal(await c.reconcile(managedBy("pulumi"), true), "skipped", "a resync does not apply it either");
      assert.deepEqual([fake.applied.length, fake.statuses.length], [0, 0], "nothing applied, no status written");
      assert.equal(await c.reconcile(managedBy("operator"), false), "applied", "same generation, the annotation changed");
    } finally {
      await c.stop();
    }
  });
});
