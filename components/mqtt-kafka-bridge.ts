import * as pulumi from "@pulumi/pulumi";
import { eventHubsCompressionProblem } from "../connector/config/endpoints";
import type { Compression } from "../connector/config/schema";
import { childOptions } from "./options";
import * as kubernetes from "@pulumi/kubernetes";
import type { KafkaConnectorSpecArgs } from "./spec-types";
import { ConnectorCrds } from "./connector-crds";
import { ConnectorOperator } from "./connector-operator";
import { KafkaConnector } from "./kafka-connector";
import { InvalidArgsError, isFullyKnown, resolveConnectorSpec } from "./connector-config";
import { hubsFromRoutes } from "./hubs";
import { bridgeKafkaMode, bridgeWorkloadManager, placeholderConnection, type MqttKafkaBridgeArgs } from "./bridge-args";
import { eventHubsSide, type KafkaSide } from "./bridge-event-hubs";

export * from "./bridge-args";

/**
 * The whole bridge: Event Hubs namespace and hubs from the topic map, least-privilege role
 * assignments for the connector's identity, the CRDs (optionally) and the connector workload; or,
 * with `kafkaConnection`, the workload alone against your own Kafka. With `workload.manager:
 * "operator"` the workload is the operator's: the stack creates the custom resources (and, with
 * `operator.install`, the operator itself).
 */
export class MqttKafkaBridge extends pulumi.ComponentResource {
  /** Resource group of the Azure resources (undefined with your own Kafka). */
  public readonly resourceGroupName: pulumi.Output<string | undefined>;
  /** Event Hubs namespace name (undefined with your own Kafka). */
  public readonly eventHubsNamespace: pulumi.Output<string | undefined>;
  /** Kafka bootstrap servers. */
  public readonly bootstrapServers: pulumi.Output<string>;
  /** Entra token audience of the namespace (undefined unless Entra ID is used). */
  public readonly tokenAudience: pulumi.Output<string | undefined>;
  /** Kafka topics the routes use (event hub names on Event Hubs). */
  public readonly hubNames: string[];
  /** Event hub resource IDs keyed by name (empty with your own Kafka). */
  public readonly hubIds: pulumi.Output<{ [hub: string]: string }>;
  /** Principal that holds the Event Hubs roles (undefined with a connection string or your own Kafka). */
  public readonly principalId: pulumi.Output<string | undefined>;
  /** Client ID used through workload identity, if any. */
  public readonly clientId: pulumi.Output<string | undefined>;
  /** Kubernetes namespace of the connector. */
  public readonly kubernetesNamespace: pulumi.Output<string>;
  /** Kubernetes name of the connector (KafkaConnector and StatefulSet). */
  public readonly connectorName: string;
  /** The KafkaConnector and topic map as deployed, every default filled in (multi-document YAML). */
  public readonly connectorConfig: pulumi.Output<string>;
  /** SAS connection string, a secret; only with `useConnectionString`. */
  public readonly connectionString: pulumi.Output<string | undefined>;

  constructor(name: string, args: MqttKafkaBridgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mqtt-kafka-connector:index:MqttKafkaBridge", name, {}, opts);
    const component = `MqttKafkaBridge ${JSON.stringify(name)}`;
    const fail = (message: string): never => {
      throw new InvalidArgsError(component, message);
    };
    const connectorName = args.connectorName ?? name;
    let mode: ReturnType<typeof bridgeKafkaMode> = "own";
    try {
      mode = bridgeKafkaMode(args);
    } catch (e) {
      fail((e as Error).message);
    }
    let manager: ReturnType<typeof bridgeWorkloadManager> = "pulumi";
    try {
      manager = bridgeWorkloadManager(args, connectorName);
    } catch (e) {
      fail((e as Error).message);
    }
    const secretName = `${connectorName}-eventhubs`;
    if (mode !== "own") {
      const sku = args.eventHubs?.skuName ?? "Standard";
      const compressionProblem = eventHubsCompressionProblem((args.topicMap.compression ?? "none") as Compression, sku !== "Standard");
      if (compressionProblem) fail(`topicMap.compression: ${compressionProblem}${sku === "Standard" ? '; set eventHubs.skuName: "Premium" for gzip' : ""}`);
    }
    if (isFullyKnown(args.connector) && isFullyKnown(args.kafkaConnection)) {
      const connection = args.kafkaConnection ?? placeholderConnection(mode === "connectionString", secretName);
      resolveConnectorSpec(component, { name: connectorName, namespace: "default" }, { ...args.connector, kafkaConnection: connection });
    }

    const childOpts = childOptions(this, opts);
    const k8sNamespace: pulumi.Output<string> = args.createKubernetesNamespace
      ? new kubernetes.core.v1.Namespace(`${name}-k8s-namespace`, { metadata: { name: args.kubernetesNamespace } }, childOpts).metadata.name
      : pulumi.output(args.kubernetesNamespace);
    const kafka: KafkaSide =
      mode === "own"
        ? { connection: args.kafkaConnection!, deps: [], principalId: pulumi.output(undefined), clientId: pulumi.output(undefined) }
        : eventHubsSide(name, args, mode === "connectionString", secretName, connectorName, k8sNamespace, childOpts);
    const deps = [...kafka.deps, ...(kafka.eventHubs ? [kafka.eventHubs] : [])];
    const crds = args.installCrds === true ? new ConnectorCrds(`${name}-crds`, {}, childOpts) : undefined;
    if (crds) deps.push(crds);
    if (manager === "operator" && args.operator?.install) {
      const { install: _install, ...operatorArgs } = args.operator;
      // The operator exits at start while the CRDs are missing; the connector's resources then come
      // after it, and a destroy deletes them (and, through the garbage collector, their pods) first.
      deps.push(new ConnectorOperator(`${name}-operator`, { ...operatorArgs, image: operatorArgs.image ?? args.connector.image }, childOptions(this, opts, crds ? [crds] : [])));
    }
    const { manager: _manager, ...workload } = args.workload ?? {};

    const spec: KafkaConnectorSpecArgs = { ...args.connector, kafkaConnection: kafka.connection };
    const connector = new KafkaConnector(
      `${name}-connector`,
      {
        namespace: k8sNamespace,
        connectorName,
        spec,
        topicMap: args.topicMap,
        ...(mode === "workloadIdentity" ? { workloadIdentityClientId: kafka.clientId.apply((c) => c ?? "") } : {}),
        ...workload,
        workloadManager: manager,
      },
      // The pods start once the identity, its roles and the CRDs (and the operator) exist; earlier
      // they would crash-loop.
      childOptions(this, opts, deps),
    );

    const eh = kafka.eventHubs;
    this.resourceGroupName = kafka.resourceGroupName ?? pulumi.output(undefined);
    this.eventHubsNamespace = eh ? eh.namespaceName : pulumi.output(undefined);
    this.bootstrapServers = pulumi.output(kafka.connection.endpoint);
    this.tokenAudience = eh && mode === "workloadIdentity" ? eh.tokenAudience : pulumi.output(undefined);
    this.hubNames = eh ? eh.hubNames : hubsFromRoutes(args.topicMap.routes ?? []).map((h) => h.name);
    this.hubIds = eh ? eh.hubIds : pulumi.output<{ [hub: string]: string }>({});
    this.principalId = kafka.principalId;
    this.clientId = kafka.clientId;
    this.kubernetesNamespace = k8sNamespace;
    this.connectorName = connectorName;
    this.connectorConfig = connector.connectorConfig;
    this.connectionString = eh ? eh.connectionString : pulumi.output(undefined);
    this.registerOutputs({
      resourceGroupName: this.resourceGroupName,
      eventHubsNamespace: this.eventHubsNamespace,
      bootstrapServers: this.bootstrapServers,
      tokenAudience: this.tokenAudience,
      hubNames: this.hubNames,
      hubIds: this.hubIds,
      principalId: this.principalId,
      clientId: this.clientId,
      kubernetesNamespace: this.kubernetesNamespace,
      connectorName: this.connectorName,
      connectorConfig: this.connectorConfig,
      connectionString: this.connectionString,
    });
  }
}
