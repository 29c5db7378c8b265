import { record, valueOf } from "./mocks";
import { strict as assert } from "node:assert";
import type { AddressInfo } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { InvalidArgsError, KafkaConnector, type KafkaConnectorArgs } from "../../components";

import { startHttpServer } from "../../connector/http-server";
import { resolveInstanceIndex } from "../../connector/instance";
import { at, connectorSpec, deployedConfig, graph, one, ofType, topicMap } from "./fixtures";

const STS = "kubernetes:apps/v1:StatefulSet";

const SA = "kubernetes:core/v1:ServiceAccount";
const SPC = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass";
const SECRETS = "/var/run/secrets/mqtt-kafka-connector";

const base = (): KafkaConnectorArgs => ({ namespace: "iot", connectorName: "plant", spec: connectorSpec(), topicMap: topicMap() });
type Obj = Record<string, unknown>;
const podSpec = (r: Awaited<ReturnType<typeof record>>) => at(one(r, STS, "bridge-statefulset").inputs, "spec", "template", "spec") as Obj;
const container = (r: Awaited<ReturnType<typeof record>>) => (podSpec(r)["containers"] as Obj[])[0]!;
const volumes = (r: Awaited<ReturnType<typeof record>>) => Object.fromEntries((podSpec(r)["volumes"] as Obj[]).map((v) => [v["name"], v]));
const mounts = (r: Awaited<ReturnType<typeof record>>): Record<string, [unknown, unknown]> =>
  Object.fromEntries((container(r)["volumeMounts"] as Obj[]).map((m) => [m["name"], [m["mountPath"], m["readOnly"] ?? false]]));

describe("KafkaConnector", () => {
  it("creates exactly the CRs, service account and its Role, headless service, StatefulSet and PDB", async () => {
    const r = await record(() => new KafkaConnector("bridge", base()));
    assert.deepEqual(graph(r), [
      "kubernetes:apps/v1:StatefulSet bridge-statefulset",
      "kubernetes:core/v1:Service bridge-service",
      "kubernetes:core/v1:ServiceAccount bridge-serviceaccount",
      "kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnector bridge-kafkaconnector",
      "kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnectorTopicMap bridge-topicmap",
      "kubernetes:policy/v1:PodDisruptionBudget bridge-pdb",
      "kubernetes:rbac.authorization.k8s.io/v1:Role bridge-role",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding bridge-rolebinding",
      "mqtt-kafka-connector:index:KafkaConnector bridge",
    ]);
    const labels = {
      "app.kubernetes.io/name": "mqtt-kafka-connector",
      "app.kubernetes.io/instance": "plant",
      "app.kubernetes.io/component": "connector",
      "app.kubernetes.io/managed-by": "pulumi",
    };
    const selector = { "app.kubernetes.io/name": "mqtt-kafka-connector", "app.kubernetes.io/instance": "plant" };
    assert.deepEqual(at(one(r, SA, "bridge-serviceaccount").inputs, "metadata"), { name: "plant", namespace: "iot", labels });
    assert.equal(one(r, SA, "bridge-serviceaccount").inputs["automountServiceAccountToken"], false);
    assert.deepEqual(one(r, "kubernetes:core/v1:Service", "bridge-service").inputs["spec"], {
      clusterIP: "None",
      selector,
      ports: [{ name: "http", port: 8080, targetPort: "http", protocol: "TCP" }],
    });
    assert.deepEqual(one(r, "kubernetes:policy/v1:PodDisruptionBudget", "bridge-pdb").inputs["spec"], { maxUnavailable: 1, selector: { matchLabels: selector } });
    const sts = one(r, STS, "bridge-statefulset").inputs;
    assert.deepEqual(at(sts, "metadata"), { name: "plant", namespace: "iot", labels });
    assert.equal(at(sts, "spec", "serviceName"), "plant-headless");
    assert.deepEqual(at(sts, "spec", "selector"), { matchLabels: selector });
    assert.deepEqual(at(sts, "spec", "template", "metadata", "labels"), labels);
    // Least privilege: its own KafkaConnector, the topic maps of its namespace, their status, its Leases, Events.
    const rules = one(r, "kubernetes:rbac.authorization.k8s.io/v1:Role", "bridge-role").inputs["rules"] as Obj[];
    assert.deepEqual(rules.map((x) => [x["resources"], x["resourceNames"] ?? "*", x["verbs"]]), [
      [["kafkaconnectors"], ["plant"], ["get", "list", "watch"]],
      [["kafkaconnectortopicmaps"], "*", ["get", "list", "watch"]],
      [["kafkaconnectors/status"], ["plant"], ["get", "patch", "update"]],
      [["kafkaconnectortopicmaps/status"], "*", ["get", "patch", "update"]],
      [["leases"], "*", ["create"]],
      [["leases"], ["plant-status", "plant-instance-0", "plant-instance-1", "plant-instance-2"], ["get", "update", "patch"]],
      [["events"], "*", ["create", "patch"]],
    ]);
    assert.ok(!JSON.stringify(rules).includes("secrets"), "no access to Secrets: they stay mounted files");
    assert.deepEqual(at(one(r, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "bridge-rolebinding").inputs, "subjects"), [{ kind: "ServiceAccount", name: "plant", namespace: "iot" }]);
  });

  it("runs `instances` replicas of the spec's image under Pod Security restricted", async () => {
    const r = await record(() => new KafkaConnector("bridge", base()));
    assert.equal(at(one(r, STS, "bridge-statefulset").inputs, "spec", "replicas"), 3);
    const pod = podSpec(r);
    assert.deepEqual(pod["securityContext"], { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } });
    // The pods read their custom resources from the API with this token (and the Role above).
    assert.equal(pod["automountServiceAccountToken"], true);
    assert.equal(pod["serviceAccountName"], "plant");
    assert.equal(pod["terminationGracePeriodSeconds"], 60);
    const c = container(r);
    assert.deepEqual(c["securityContext"], {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    });
    assert.equal(c["image"], "registry.example.com/mqtt-kafka-connector:1.2.3");
    assert.equal(c["imagePullPolicy"], "Always");
    assert.deepEqual(c["args"], ["--config", "k8s://iot/plant", "--secrets-dir", SECRETS]);
    assert.deepEqual(c["resources"], { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } });
    assert.deepEqual(c["env"], [
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      { name: "HTTP_PORT", value: "8080" },
    ]);
    // The only writable path is the /tmp emptyDir.
    assert.deepEqual(
      Object.entries(mounts(r)).filter(([, [, ro]]) => !ro),
      [["tmp", ["/tmp", false]]],
    );
    assert.deepEqual(volumes(r)["tmp"], { name: "tmp", emptyDir: { sizeLimit: "64Mi" } });
  });

  it("probes endpoints the connector really serves, on its HTTP port", async () => {
    const r = await record(() => new KafkaConnector("bridge", base()));
    const c = container(r);
    assert.deepEqual(c["ports"], [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    const probe = (k: string) => c[k] as { httpGet: { path: string; port: string } };
    assert.deepEqual(
      ["startupProbe", "livenessProbe", "readinessProbe"].map((k) => [k, probe(k).httpGet]),
      [
        ["startupProbe", { path: "/healthz", port: "http" }],
        ["livenessProbe", { path: "/healthz", port: "http" }],
        ["readinessProbe", { path: "/readyz", port: "http" }],
      ],
    );
    // Start the connector's own HTTP server and call the probe paths.
    let ready = false;
    const server = await startHttpServer(0, { ready: () => ready }, "127.0.0.1");
    try {
      const port = (server.address() as AddressInfo).port;
      const get = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
      assert.equal(await get(probe("livenessProbe").httpGet.path), 200);
      assert.equal(await get(probe("readinessProbe").httpGet.path), 503);
      ready = true;
      assert.equal(await get(probe("readinessProbe").httpGet.path), 200);
      assert.equal(await get("/no-such-endpoint"), 404);
    } finally {
      server.close();
    }
    // POD_NAME of a StatefulSet pod carries the ordinal; the connector takes it as the instance index.
    const stsName = at(one(r, STS, "bridge-statefulset").inputs, "metadata", "name");
    assert.equal(resolveInstanceIndex(undefined, { POD_NAME: `${String(stsName)}-2` }), 2);
  });

  it("creates custom resources the connector's own loader accepts, with every default filled in", async () => {
    let kc!: KafkaConnector;
    const r = await record(() => (kc = new KafkaConnector("bridge", base())));
    const { connector, topicMaps } = deployedConfig(r, "plant");
    assert.deepEqual(connector.metadata.name, "plant");
    assert.equal(connector.spec.instances, 3);
    assert.equal(connector.spec.kafkaConnection.endpoint, "plant-ehns.servicebus.windows.net:9093");
    assert.deepEqual(connector.spec.localBrokerConnection.authentication, { kubernetes: {} });
    assert.equal(topicMaps.length, 1);
    assert.equal(topicMaps[0]!.metadata.name, "plant-topics");
    assert.equal(topicMaps[0]!.spec.kafkaConnectorRef, "plant");
    assert.deepEqual(
      topicMaps[0]!.spec.routes.map((x) => x.mqttToKafka ?? x.kafkaToMqtt).map((x) => [x!.name, x!.kafkaTopic]),
      [["telemetry-in", "telemetry"], ["commands-out", "commands"], ["alarms-in", "telemetry"], ["telemetry-echo", "telemetry"]],
    );
    // Defaults are written out, so `kubectl get -o yaml` says exactly what runs.
    const map = one(r, "kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnectorTopicMap", "bridge-topicmap").inputs;
    assert.equal(at(map, "spec", "routes", 1, "kafkaToMqtt", "qos"), 0);
    assert.equal(at(map, "spec", "routes", 0, "mqttToKafka", "kafkaAcks"), "all");
    assert.deepEqual(at(map, "spec", "batching"), { enabled: false, latencyMs: 5, maxMessages: 100000, maxBytes: 1000000 });
    assert.match(await valueOf(kc.connectorConfig), /kind: KafkaConnectorTopicMap/);
  });

  it("changes the pods for a KafkaConnector change, and not for a route change (the connector reloads routes itself)", async () => {
    const template = async (args: KafkaConnectorArgs) => {
      const r = await record(() => new KafkaConnector("bridge", args));
      return JSON.stringify(at(one(r, STS, "bridge-statefulset").inputs, "spec", "template"));
    };
    const a = await template(base());
    assert.equal(await template(base()), a);
    const moreRoutes = topicMap();
    moreRoutes.routes.push({ kafkaToMqtt: { name: "extra", kafkaTopic: "commands", mqttTopic: "x" } });
    assert.equal(await template({ ...base(), topicMap: moreRoutes }), a, "a route change leaves the pod template alone");
    assert.notEqual(await template({ ...base(), spec: { ...connectorSpec(), image: { ...connectorSpec().image, tag: "2.0.0" } } }), a);
  });

  it("creates the CRs so kubectl shows what is deployed, with defaults filled in", async () => {
    const r = await record(() => new KafkaConnector("bridge", base()));
    const cr = one(r, "kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnector", "bridge-kafkaconnector").inputs;
    assert.equal(cr["apiVersion"], "mq.iotoperations.azure.com/v1beta1");
    assert.deepEqual(at(cr, "metadata", "name"), "plant");
    assert.equal(at(cr, "spec", "instances"), 3);
    assert.equal(at(cr, "spec", "localBrokerConnection", "endpoint"), "mqtt-broker.iot.svc:8883");
    const map = one(r, "kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnectorTopicMap", "bridge-topicmap").inputs;
    assert.deepEqual([at(map, "metadata", "name"), at(map, "spec", "kafkaConnectorRef"), at(map, "spec", "copyMqttProperties")], ["plant-topics", "plant", false]);

    const without = await record(() => new KafkaConnector("bridge", { ...base(), createCustomResources: false }));
    assert.deepEqual(without.filter((x) => x.type.startsWith("kubernetes:mq.iotoperations.azure.com")), []);
  });

  it("projects the MQTT service account token where authentication.kubernetes reads it", async () => {
    const r = await record(() => new KafkaConnector("bridge", base()));
    assert.deepEqual(volumes(r)["mqtt-token"], {
      name: "mqtt-token",
      projected: { sources: [{ serviceAccountToken: { audience: "aio-internal", expirationSeconds: 3600, path: "mqtt-client-token" } }] },
    });
    assert.deepEqual(mounts(r)["mqtt-token"], ["/var/run/secrets/tokens", true]);
    assert.deepEqual(volumes(r)["ca-mqtt-ca"], { name: "ca-mqtt-ca", configMap: { name: "mqtt-ca" } });
    assert.deepEqual(mounts(r)["ca-mqtt-ca"], [`${SECRETS}/mqtt-ca`, true]);

    const spec = connectorSpec();
    spec.localBrokerConnection!.authentication = { kubernetes: { tokenPath: "/var/run/secrets/custom/token" } };
    const custom = await record(() => new KafkaConnector("bridge", { ...base(), spec, mqttTokenAudience: "my-broker" }));
    assert.deepEqual(at(volumes(custom)["mqtt-token"], "projected", "sources", 0, "serviceAccountToken"), { audience: "my-broker", expirationSeconds: 3600, path: "token" });
    assert.deepEqual(mounts(custom)["mqtt-token"], ["/var/run/secrets/custom", true]);
  });

  it("mounts referenced Secrets by name where the connector reads them", async () => {
    const spec = connectorSpec();
    spec.kafkaConnection.authentication = { enabled: true, authType: { sasl: { saslType: "plain", token: { secretName: "eh-sas" } } } };
    spec.localBrokerConnection!.authentication = { usernamePassword: { secretName: "mqtt-login" } };
    const r = await record(() => new KafkaConnector("bridge", { ...base(), spec }));
    assert.deepEqual(volumes(r)["secret-eh-sas"], { name: "secret-eh-sas", secret: { secretName: "eh-sas" } });
    assert.deepEqual(mounts(r)["secret-eh-sas"], [`${SECRETS}/eh-sas`, true]);
    assert.deepEqual(volumes(r)["secret-mqtt-login"], { name: "secret-mqtt-login", secret: { secretName: "mqtt-login" } });
    assert.equal(volumes(r)["mqtt-token"], undefined);
    assert.deepEqual(ofType(r, SPC), []);
  });

  it("renders a SecretProviderClass per Key Vault reference and mounts it like a Secret", async () => {
    const vault = { name: "plant-kv", directoryId: "tenant-1", credentials: { servicePrincipalLocalSecretName: "kv-reader" } };
    const spec = connectorSpec();
    spec.kafkaConnection.authentication = {
      enabled: true,
      authType: { sasl: { saslType: "plain", token: { keyVault: { username: "$ConnectionString", vault, vaultSecret: { name: "eh-cs", version: "7" } } } } },
    };
    const r = await record(() => new KafkaConnector("bridge", { ...base(), spec }));
    const spc = one(r, SPC, "bridge-kv-sasl").inputs;
    assert.deepEqual(at(spc, "metadata", "name"), "plant-kv-sasl");
    assert.equal(at(spc, "spec", "provider"), "azure");
    const params = at(spc, "spec", "parameters") as Record<string, string>;
    assert.deepEqual([params["keyvaultName"], params["tenantId"], params["usePodIdentity"]], ["plant-kv", "tenant-1", "false"]);
    assert.deepEqual((parse(params["objects"]!) as { array: string[] }).array.map((o) => parse(o)), [
      { objectName: "eh-cs", objectType: "secret", objectVersion: "7", objectAlias: "password" },
    ]);
    assert.deepEqual(volumes(r)["kv-eh-cs"], {
      name: "kv-eh-cs",
      csi: { driver: "secrets-store.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass: "plant-kv-sasl" }, nodePublishSecretRef: { name: "kv-reader" } },
    });
    assert.deepEqual(mounts(r)["kv-eh-cs"], [`${SECRETS}/eh-cs`, true]);

    const x509 = connectorSpec();
    x509.kafkaConnection.authentication = { enabled: true, authType: { x509: { keyVault: { vault, vaultCert: { name: "client-cert" } } } } };
    const r2 = await record(() => new KafkaConnector("bridge", { ...base(), spec: x509 }));
    assert.deepEqual(graph(r2).filter((g) => g.includes("SecretProviderClass")), [`${SPC} bridge-kv-x509`]);
    assert.deepEqual(mounts(r2)["kv-client-cert"], [`${SECRETS}/client-cert`, true]);
  });

  it("reads Key Vault with the pods' workload identity when there is one, not a service principal Secret", async () => {
    const vault = { name: "plant-kv", directoryId: "tenant-1", credentials: { servicePrincipalLocalSecretName: "kv-reader" } };
    const spec = connectorSpec();
    spec.kafkaConnection.authentication = {
      enabled: true,
      authType: { sasl: { saslType: "plain", token: { keyVault: { username: "$ConnectionString", vault, vaultSecret: { name: "eh-cs" } } } } },
    };
    const r = await record(() => new KafkaConnector("bridge", { ...base(), spec, workloadIdentityClientId: pulumi.output("client-123") }));
    const params = at(one(r, SPC, "bridge-kv-sasl").inputs, "spec", "parameters") as Record<string, string>;
    assert.deepEqual([params["clientID"], params["usePodIdentity"], params["useVMManagedIdentity"]], ["client-123", "false", undefined]);
    assert.deepEqual(volumes(r)["kv-eh-cs"], {
      name: "kv-eh-cs",
      csi: { driver: "secrets-store.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass: "plant-kv-sasl" } },
    });
  });

  it("wires AKS workload identity only when a client ID is given", async () => {
    const r = await record(() => new KafkaConnector("bridge", { ...base(), workloadIdentityClientId: pulumi.output("client-123") }));
    assert.deepEqual(at(one(r, SA, "bridge-serviceaccount").inputs, "metadata", "annotations"), { "azure.workload.identity/client-id": "client-123" });
    assert.equal(at(one(r, STS, "bridge-statefulset").inputs, "spec", "template", "metadata", "labels", "azure.workload.identity/use"), "true");
    const plain = await record(() => new KafkaConnector("bridge", base()));
    assert.equal(at(one(plain, SA, "bridge-serviceaccount").inputs, "metadata", "annotations"), undefined);
    assert.equal(at(one(plain, STS, "bridge-statefulset").inputs, "spec", "template", "metadata", "labels", "azure.workload.identity/use"), undefined);
  });

  it("takes Outputs as spec leaves", async () => {
    const spec = connectorSpec();
    spec.kafkaConnection.endpoint = pulumi.output("late.servicebus.windows.net:9093");
    spec.instances = Promise.resolve(5);
    const r = await record(() => new KafkaConnector("bridge", { ...base(), spec }));
    assert.equal(at(one(r, STS, "bridge-statefulset").inputs, "spec", "replicas"), 5);
    assert.equal(deployedConfig(r, "plant").connector.spec.kafkaConnection.endpoint, "late.servicebus.windows.net:9093");
  });

  it("passes resources, pull secrets, grace period and PDB settings through", async () => {
    const r = await record(
      () =>
        new KafkaConnector("bridge", {
          ...base(),
          cpuRequest: "250m",
          memoryRequest: "256Mi",
          cpuLimit: "1",
          memoryLimit: "1Gi",
          imagePullSecrets: ["acr-pull"],
          terminationGracePeriodSeconds: 120,
          maxUnavailable: 2,
          nodeSelector: { "kubernetes.io/os": "linux" },
          runtime: { receiveMaximum: 500, kafkaToMqttConnections: 2 },
          env: { NODE_OPTIONS: "--max-old-space-size=400" },
        }),
    );
    const c = container(r);
    assert.deepEqual(c["resources"], { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } });
    assert.deepEqual(podSpec(r)["imagePullSecrets"], [{ name: "acr-pull" }]);
    assert.equal(podSpec(r)["terminationGracePeriodSeconds"], 120);
    assert.deepEqual(podSpec(r)["nodeSelector"], { "kubernetes.io/os": "linux" });
    const env = (c["env"] as { name: string; value?: string }[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]);
    assert.deepEqual(env, [["HTTP_PORT", "8080"], ["KAFKA_TO_MQTT_CONNECTIONS", "2"], ["MQTT_RECEIVE_MAXIMUM", "500"], ["NODE_OPTIONS", "--max-old-space-size=400"]]);
    assert.equal(at(one(r, "kubernetes:policy/v1:PodDisruptionBudget", "bridge-pdb").inputs, "spec", "maxUnavailable"), 2);
  });

  it("gives each pod a spool volume from a claim template, writable under the restricted pod, with a budget under its size", async () => {
    const r = await record(() => new KafkaConnector("bridge", { ...base(), spool: { size: "10Gi", storageClassName: "managed-csi-premium" }, runtime: { spoolMode: "always" } }));
    const sts = one(r, STS, "bridge-statefulset").inputs;
    assert.deepEqual(at(sts, "spec", "volumeClaimTemplates"), [
      { metadata: { name: "spool" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } }, storageClassName: "managed-csi-premium" } },
    ]);
    assert.deepEqual(at(sts, "spec", "persistentVolumeClaimRetentionPolicy"), { whenDeleted: "Retain", whenScaled: "Retain" });
    assert.deepEqual(mounts(r)["spool"], ["/var/lib/mqtt-kafka-connector/spool", false]);
    const c = container(r);
    assert.equal((c["securityContext"] as Obj)["readOnlyRootFilesystem"], true, "the root filesystem stays read-only");
    assert.equal((podSpec(r)["securityContext"] as Obj)["fsGroup"], 10001, "fsGroup makes the claim writable for the connector's user");
    const env = Object.fromEntries((c["env"] as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
    assert.equal(env["SPOOL_DIR"], "/var/lib/mqtt-kafka-connector/spool");
    assert.equal(env["SPOOL_MAX_BYTES"], String(Math.floor(10 * 2 ** 30 * 0.8)));
    assert.equal(env["SPOOL_MODE"], "always");

    const explicit = await record(() => new KafkaConnector("bridge", { ...base(), spool: { size: "2G" }, runtime: { spoolMaxBytes: 1_000_000_000 } }));
    const env2 = Object.fromEntries((container(explicit)["env"] as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
    assert.equal(env2["SPOOL_MAX_BYTES"], "1000000000");
    assert.equal(at(one(explicit, STS, "bridge-statefulset").inputs, "spec", "volumeClaimTemplates", "0", "spec", "storageClassName"), undefined);

    const none = await record(() => new KafkaConnector("bridge", base()));
    assert.equal(at(one(none, STS, "bridge-statefulset").inputs, "spec", "volumeClaimTemplates"), undefined, "no claim without spool");
    assert.equal(mounts(none)["spool"], undefined);
  });

  describe("bad args throw clear errors", () => {
    const cases: [string, () => KafkaConnectorArgs, string | RegExp][] = [
      [
        "a spool size that is not a quantity",
        () => ({ ...base(), spool: { size: "ten gigs" } }),
        'KafkaConnector "bridge": spool.size: got "ten gigs"; expected a Kubernetes quantity such as 10Gi, 500Mi or 2G',
      ],
      [
        "a spool budget larger than its volume",
        () => ({ ...base(), spool: { size: "1Gi" }, runtime: { spoolMaxBytes: 2 * 2 ** 30 } }),
        /runtime\.spoolMaxBytes: 2147483648 does not fit in spool\.size 1Gi \(1073741824 bytes\)/,
      ],
      [
        "a spool mode without a spool volume",
        () => ({ ...base(), runtime: { spoolMode: "always" } }),
        'KafkaConnector "bridge": runtime.spoolMode: there is no spool volume; set spool.size to give the pods one',
      ],
      [
        "an invalid spec value, with its field path",
        () => ({ ...base(), spec: { ...connectorSpec(), instances: 0, logLevel: "loud" as never } }),
        'KafkaConnector "bridge": invalid connector spec:\n' +
          "  KafkaConnector/plant: spec.instances: got 0; must be >= 1\n" +
          "  KafkaConnector/plant: spec.logLevel: got \"loud\"; allowed: trace, debug, info, warn, error, fatal",
      ],
      [
        "a cross-field rule of the connector",
        () => ({ ...base(), topicMap: { ...topicMap(), partitionKeyProperty: undefined } }),
        /invalid topic map:\n {2}KafkaConnectorTopicMap\/plant-topics: spec.partitionKeyProperty: required when partitionStrategy is `property`/,
      ],
      [
        "an environment variable the component sets itself",
        () => ({ ...base(), env: { HTTP_PORT: "9000" } }),
        'KafkaConnector "bridge": env.HTTP_PORT: set by the component (instance index and probes depend on it); remove it',
      ],
      [
        "a runtime option set as a free-form variable",
        () => ({ ...base(), env: { MQTT_RECEIVE_MAXIMUM: "500" } }),
        'KafkaConnector "bridge": env.MQTT_RECEIVE_MAXIMUM: a runtime option; set runtime.receiveMaximum instead',
      ],
      [
        "a runtime option out of its bounds",
        () => ({ ...base(), runtime: { commitIntervalMs: 100 } }),
        'KafkaConnector "bridge": runtime.commitIntervalMs: --commit-interval-ms (env KAFKA_COMMIT_INTERVAL_MS) must be an integer >= 250, got "100"',
      ],
      [
        "an invalid environment variable name",
        () => ({ ...base(), env: { "1BAD-NAME": "x" } }),
        /env\.1BAD-NAME: not a valid environment variable name/,
      ],
      [
        "a topic map for another connector",
        () => ({ ...base(), topicMap: { ...topicMap(), kafkaConnectorRef: "other" } }),
        'KafkaConnector "bridge": topicMap.kafkaConnectorRef: got "other"; this topic map is deployed with connector "plant"',
      ],
      [
        "a component name that is no Kubernetes name",
        () => ({ ...base(), connectorName: undefined }),
        /connectorName: "Bridge_1" is not a Kubernetes object name .*; set connectorName/,
      ],
      [
        "a Secret and a ConfigMap with one name",
        () => {
          const spec = connectorSpec();
          spec.localBrokerConnection!.authentication = { x509: { secretName: "mqtt-ca" } };
          return { ...base(), spec };
        },
        /spec.localBrokerConnection.authentication.x509.secretName and spec.localBrokerConnection.tls.trustedCaCertificateConfigMap both need \/var\/run\/secrets\/mqtt-kafka-connector\/mqtt-ca/,
      ],
    ];
    for (const [what, args, message] of cases) {
      it(what, async () => {
        const r = await record(() => {
          assert.throws(
            () => new KafkaConnector(what.startsWith("a component name") ? "Bridge_1" : "bridge", args()),
            (e: Error) => {
              assert.ok(e instanceof InvalidArgsError, String(e));
              if (typeof message === "string") assert.equal(e.message, message);
              else assert.match(e.message, message);
              return true;
            },
          );
        });
        assert.deepEqual(r.filter((x) => x.type.startsWith("kubernetes:")), [], "no Kubernetes object may be registered");
      });
    }
  });
});
