import { strict as assert } from "node:assert";
import { parse } from "yaml";
import {
  EVENT_HUBS_DATA_RECEIVER_ROLE,
  EVENT_HUBS_DATA_SENDER_ROLE,
  eventHubNameProblem,
  hubsFromRoutes,
  keyVaultReferences,
  namespaceNameProblem,
  planRoleAssignments,
  resolveConnectorSpec,
  roleAssignmentName,
  roleDefinitionId,
  secretMounts,
  secretProviderClassParameters,
  uuidV5,
  volumeName,
  workloadIdentitySubject,
} from "../../components";

const route = {
  out: (name: string, kafkaTopic: string) => ({ mqttToKafka: { name, mqttTopic: `${name}/#`, kafkaTopic } }),
  in: (name: string, kafkaTopic: string) => ({ kafkaToMqtt: { name, mqttTopic: name, kafkaTopic } }),
};

describe("hub names from routes", () => {
  it("are the distinct route topics in order of first use, with the routes per direction", () => {
    const hubs = hubsFromRoutes([route.out("a", "telemetry"), route.in("b", "commands"), route.out("c", "telemetry"), route.in("d", "telemetry")]);
    assert.deepEqual(hubs, [
      { name: "telemetry", producedBy: ["a", "c"], consumedBy: ["d"] },
      { name: "commands", producedBy: [], consumedBy: ["b"] },
    ]);
  });

  it("include Kafka dead-letter topics, which the connector produces to in either direction", () => {
    const hubs = hubsFromRoutes([
      { mqttToKafka: { name: "a", kafkaTopic: "telemetry", deadLetter: { kafkaTopic: "dlq" } } },
      { kafkaToMqtt: { name: "b", kafkaTopic: "commands", deadLetter: { kafkaTopic: "dlq" } } },
      { kafkaToMqtt: { name: "c", kafkaTopic: "commands" } },
    ]);
    assert.deepEqual(hubs, [
      { name: "telemetry", producedBy: ["a"], consumedBy: [] },
      { name: "dlq", producedBy: ["a.deadLetter", "b.deadLetter"], consumedBy: [] },
      { name: "commands", producedBy: [], consumedBy: ["b", "c"] },
    ]);
    assert.deepEqual(
      planRoleAssignments(hubs).map((p) => [p.role, p.roleDefinitionGuid === EVENT_HUBS_DATA_SENDER_ROLE ? "sender" : "receiver"]),
      [["sender-telemetry", "sender"], ["sender-dlq", "sender"], ["receiver-commands", "receiver"]],
    );
    assert.throws(
      () => hubsFromRoutes([{ kafkaToMqtt: { name: "b", kafkaTopic: "commands", deadLetter: { kafkaTopic: "_dlq" } } }]),
      /route "b" \(routes\[0\]\.kafkaToMqtt\.deadLetter\.kafkaTopic\): Kafka topic "_dlq" cannot be an event hub name/,
    );
  });

  it("rejects a topic Event Hubs cannot name, naming the route and field", () => {
    assert.throws(
      () => hubsFromRoutes([route.out("ok", "fine"), route.in("bad-route", "_private")]),
      (e: Error) => {
        assert.equal(
          e.message,
          'invalid topic map for Event Hubs:\n  route "bad-route" (routes[1].kafkaToMqtt.kafkaTopic): Kafka topic "_private" cannot be an event hub name; ' +
            "event hub names must start and end with a letter or digit",
        );
        return true;
      },
    );
  });

  it("rejects topics that differ only by case", () => {
    assert.throws(() => hubsFromRoutes([route.out("a", "Alerts"), route.out("b", "alerts")]), /route "b" .*"alerts" and "Alerts" \(route "a"\) differ only by case/);
  });

  it("checks event hub and namespace names", () => {
    assert.equal(eventHubNameProblem("a"), undefined);
    assert.equal(eventHubNameProblem("a.b_c-d"), undefined);
    assert.match(eventHubNameProblem("x".repeat(257))!, /1 to 256/);
    assert.match(eventHubNameProblem("a/b")!, /only letters/);
    assert.match(eventHubNameProblem("a-")!, /start and end/);
    assert.equal(namespaceNameProblem("plant-ehns"), undefined);
    assert.match(namespaceNameProblem("short")!, /6 to 50/);
    assert.match(namespaceNameProblem("1plant")!, /start with a letter/);
    assert.match(namespaceNameProblem("plant-ns-sb")!, /-sb/);
  });
});

describe("role assignment planning", () => {
  const hubs = hubsFromRoutes([route.out("a", "telemetry"), route.in("b", "commands"), route.in("c", "telemetry")]);

  it("gives Data Sender per produced hub and Data Receiver per consumed hub, scoped to the hub", () => {
    assert.deepEqual(planRoleAssignments(hubs), [
      { role: "sender-telemetry", roleDefinitionGuid: EVENT_HUBS_DATA_SENDER_ROLE, hub: "telemetry", routes: ["a"] },
      { role: "receiver-telemetry", roleDefinitionGuid: EVENT_HUBS_DATA_RECEIVER_ROLE, hub: "telemetry", routes: ["c"] },
      { role: "receiver-commands", roleDefinitionGuid: EVENT_HUBS_DATA_RECEIVER_ROLE, hub: "commands", routes: ["b"] },
    ]);
  });

  it("uses the namespace scope only when asked, one assignment per needed role", () => {
    assert.deepEqual(planRoleAssignments(hubs, true), [
      { role: "sender-namespace", roleDefinitionGuid: EVENT_HUBS_DATA_SENDER_ROLE, routes: ["a"] },
      { role: "receiver-namespace", roleDefinitionGuid: EVENT_HUBS_DATA_RECEIVER_ROLE, routes: ["c", "b"] },
    ]);
    assert.deepEqual(
      planRoleAssignments(hubsFromRoutes([route.out("a", "t")]), true).map((p) => p.role),
      ["sender-namespace"],
    );
  });

  it("builds RFC 4122 version 5 UUIDs", () => {
    // Test vector: uuid5(NAMESPACE_DNS, "www.example.com") from Python's uuid module.
    assert.equal(uuidV5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    assert.throws(() => uuidV5("x", "not-a-uuid"), /not a UUID/);
  });

  it("names assignments deterministically from scope, principal and role, ignoring ARM ID case", () => {
    const scope = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.EventHub/namespaces/ns/eventhubs/t";
    const a = roleAssignmentName(scope, "P1", EVENT_HUBS_DATA_SENDER_ROLE);
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(roleAssignmentName(scope.toUpperCase(), "p1", EVENT_HUBS_DATA_SENDER_ROLE), a);
    assert.notEqual(roleAssignmentName(scope, "P1", EVENT_HUBS_DATA_RECEIVER_ROLE), a);
    assert.notEqual(roleAssignmentName(scope + "2", "P1", EVENT_HUBS_DATA_SENDER_ROLE), a);
    assert.notEqual(roleAssignmentName(scope, "P2", EVENT_HUBS_DATA_SENDER_ROLE), a);
  });

  it("derives the role definition ID from the scope's subscription", () => {
    assert.equal(
      roleDefinitionId("/subscriptions/abc/resourceGroups/rg", EVENT_HUBS_DATA_SENDER_ROLE),
      `/subscriptions/abc/providers/Microsoft.Authorization/roleDefinitions/${EVENT_HUBS_DATA_SENDER_ROLE}`,
    );
    assert.throws(() => roleDefinitionId("/resourceGroups/rg", EVENT_HUBS_DATA_SENDER_ROLE), /not an ARM ID under \/subscriptions/);
  });

  it("builds the workload identity subject", () => {
    assert.equal(workloadIdentitySubject("iot", "bridge"), "system:serviceaccount:iot:bridge");
  });
});

describe("secret mounts", () => {
  const vault = { name: "kv", directoryId: "tenant", credentials: { servicePrincipalLocalSecretName: "sp" } };
  const spec = (authType: object, mqttAuth?: object) =>
    resolveConnectorSpec("test", { name: "c", namespace: "ns" }, {
      image: {},
      instances: 1,
      kafkaConnection: { endpoint: "k:9093", tls: { tlsEnabled: true, trustedCaCertificateConfigMap: "kafka-ca" }, authentication: { enabled: true, authType } },
      localBrokerConnection: { tls: { tlsEnabled: true, trustedCaCertificateConfigMap: "mqtt-ca" }, ...(mqttAuth ? { authentication: mqttAuth } : {}) },
    }).spec;

  it("mounts every referenced Secret and ConfigMap once, at <secrets-dir>/<name>", () => {
    const mounts = secretMounts(spec({ sasl: { saslType: "plain", token: { secretName: "creds" } } }, { usernamePassword: { secretName: "creds" } }));
    assert.deepEqual(
      mounts.map((m) => [m.source.kind, m.source.name, m.mountPath, m.usedBy.length]),
      [
        ["configMap", "kafka-ca", "/var/run/secrets/mqtt-kafka-connector/kafka-ca", 1],
        ["secret", "creds", "/var/run/secrets/mqtt-kafka-connector/creds", 2],
        ["configMap", "mqtt-ca", "/var/run/secrets/mqtt-kafka-connector/mqtt-ca", 1],
      ],
    );
  });

  it("refuses a Secret and a ConfigMap that would share a directory", () => {
    assert.throws(
      () => secretMounts(spec({ x509: { secretName: "kafka-ca" } })),
      /spec.kafkaConnection.authentication.authType.x509.secretName and spec.kafkaConnection.tls.trustedCaCertificateConfigMap both need \/var\/run\/secrets\/mqtt-kafka-connector\/kafka-ca/,
    );
  });

  it("renders Key Vault references with the file names a Kubernetes Secret would have", () => {
    const sasl = keyVaultReferences(spec({ sasl: { saslType: "plain", token: { keyVault: { vault, vaultSecret: { name: "cs", version: "v1" } } } } }));
    assert.deepEqual(sasl.map((r) => [r.use, r.directory, r.objects]), [
      ["sasl", "cs", [{ objectName: "cs", objectType: "secret", objectVersion: "v1", objectAlias: "password" }]],
    ]);
    const cert = keyVaultReferences(spec({ x509: { keyVault: { vault, vaultCert: { name: "client" } } } }));
    assert.deepEqual(cert[0]!.objects.map((o) => [o.objectType, o.objectAlias]), [["cert", "tls.crt"], ["secret", "tls.key"]]);
    const chain = keyVaultReferences(spec({ x509: { keyVault: { vault, vaultCaChainSecret: { name: "chain" } } } }));
    assert.deepEqual(chain[0]!.objects.map((o) => [o.objectName, o.objectType, o.objectAlias]), [["chain", "secret", "tls.crt"], ["chain", "secret", "tls.key"]]);

    const params = secretProviderClassParameters(sasl[0]!);
    assert.equal(params["keyvaultName"], "kv");
    assert.equal(params["tenantId"], "tenant");
    assert.equal(params["usePodIdentity"], "false");
    // The Azure provider takes `objects` as YAML with an array of YAML strings.
    const objects = parse(params["objects"]!) as { array: string[] };
    assert.deepEqual(objects.array.map((o) => parse(o)), [{ objectName: "cs", objectType: "secret", objectVersion: "v1", objectAlias: "password" }]);
  });

  it("makes valid, unique volume names", () => {
    assert.equal(volumeName("secret", "creds"), "secret-creds");
    const dotted = volumeName("secret", "a.b");
    assert.match(dotted, /^secret-a-b-[0-9a-f]{8}$/);
    assert.notEqual(dotted, volumeName("secret", "a-b"));
    const long = volumeName("secret", "x".repeat(200));
    assert.ok(long.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(long), long);
  });
});
