import * as pulumi from "@pulumi/pulumi";
import { childOptions } from "./options";
import * as kubernetes from "@pulumi/kubernetes";
import { API_VERSION_FULL, type KafkaConnectorResource, type KafkaConnectorTopicMapResource } from "../connector/config/schema";
import {
  InvalidArgsError,
  isFullyKnown,
  k8sNameProblem,
  renderConnectorConfig,
  resolveConnectorSpec,
  resolveTopicMapSpec,
} from "./connector-config";
import { checkedClientId, operatorModeProblems, spoolSettings, workloadEnvironment, WORKLOAD_IDENTITY_ANNOTATION, WORKLOAD_MANAGER_ANNOTATION, type KafkaConnectorArgs } from "./kafka-connector-args";
import { createWorkload } from "./kafka-connector-workload";
import { secretMounts, workloadLabels } from "./workload";

export * from "./kafka-connector-args";

interface Resolved {
  connector: KafkaConnectorResource;
  topicMap: KafkaConnectorTopicMapResource;
}

/**
 * The connector on Kubernetes: its KafkaConnector and KafkaConnectorTopicMap objects, a service
 * account with a Role limited to them, Key Vault SecretProviderClasses, a StatefulSet (one pod per
 * instance; the ordinal is the instance index), a headless Service and a PodDisruptionBudget. The
 * pods read the custom resources from the API: a route change reaches them without a restart.
 * With `workloadManager: "operator"` only the custom resources are created, and the operator
 * creates the same objects from them.
 */
export class KafkaConnector extends pulumi.ComponentResource {
  /** Kubernetes name of the KafkaConnector and the StatefulSet. */
  public readonly connectorName: string;
  /** Kubernetes name of the KafkaConnectorTopicMap. */
  public readonly topicMapName: string;
  /** Namespace everything is in. */
  public readonly namespace: pulumi.Output<string>;
  /** Name of the StatefulSet. */
  public readonly statefulSetName: pulumi.Output<string>;
  /** Name of the service account (for workload identity federation). */
  public readonly serviceAccountName: pulumi.Output<string>;
  /** The KafkaConnector and topic map as deployed, every default filled in (multi-document YAML). */
  public readonly connectorConfig: pulumi.Output<string>;

  constructor(name: string, args: KafkaConnectorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mqtt-kafka-connector:index:KafkaConnector", name, {}, opts);
    const component = `KafkaConnector ${JSON.stringify(name)}`;
    const fail = (message: string): never => {
      throw new InvalidArgsError(component, message);
    };
    const connectorName = args.connectorName ?? name;
    const topicMapName = args.topicMapName ?? `${connectorName}-topics`;
    const saName = args.serviceAccountName ?? connectorName;
    for (const [field, value] of [["connectorName", connectorName], ["topicMapName", topicMapName], ["serviceAccountName", saName]] as const) {
      const problem = k8sNameProblem(value);
      if (problem) fail(`${field}: ${problem}${field === "connectorName" && args.connectorName === undefined ? "; set connectorName" : ""}`);
    }
    const manager = args.workloadManager ?? "pulumi";
    if (manager !== "pulumi" && manager !== "operator") fail(`workloadManager: got ${JSON.stringify(manager)}; must be "pulumi" or "operator"`);
    const byOperator = manager === "operator";
    if (byOperator) {
      const problems = operatorModeProblems(args, connectorName);
      if (problems.length) fail(`with workloadManager "operator": ${problems.join("; ")}`);
    }
    const runtimeEnv = workloadEnvironment(component, args);
    // A plain size (or none) is checked now; an output when it resolves, in the workload.
    const spoolSize = args.spool?.size;
    if (!byOperator && (spoolSize === undefined || typeof spoolSize === "string")) spoolSettings(component, spoolSize, runtimeEnv);
    // StatefulSet pod names are `<name>-<ordinal>` and must stay DNS labels.
    if (connectorName.length > 52) fail(`connectorName: ${JSON.stringify(connectorName)} is longer than 52 characters`);
    const ref = args.topicMap.kafkaConnectorRef;
    if (ref !== undefined && ref !== connectorName) {
      fail(`topicMap.kafkaConnectorRef: got ${JSON.stringify(ref)}; this topic map is deployed with connector ${JSON.stringify(connectorName)}`);
    }
    const topicMapSpec = { ...args.topicMap, kafkaConnectorRef: connectorName };
    // Bad args fail now, before any resource is registered, whenever the values are known.
    resolveTopicMapSpec(component, { name: topicMapName, namespace: "default" }, topicMapSpec);
    if (isFullyKnown(args.spec)) {
      const known = resolveConnectorSpec(component, { name: connectorName, namespace: "default" }, args.spec);
      try {
        secretMounts(known.spec);
      } catch (e) {
        fail((e as Error).message);
      }
    }

    const resolved: pulumi.Output<Resolved> = pulumi.all([pulumi.output(args.namespace), pulumi.output(args.spec)]).apply(([namespace, spec]) => {
      const connector = resolveConnectorSpec(component, { name: connectorName, namespace }, spec);
      secretMounts(connector.spec); // throws on directory clashes
      return { connector, topicMap: resolveTopicMapSpec(component, { name: topicMapName, namespace }, topicMapSpec) };
    });
    const config = resolved.apply((r) => renderConnectorConfig(r.connector, r.topicMap));

    const childOpts = childOptions(this, opts);
    const crMeta = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels: { ...workloadLabels(connectorName), "app.kubernetes.io/managed-by": "pulumi" } });
    // Tells an operator on the cluster whether the workload is its to apply (with "pulumi" it leaves
    // the connector alone), and gives it the client ID, which the spec has no field for.
    const connectorAnnotations: { [key: string]: pulumi.Input<string> } = { [WORKLOAD_MANAGER_ANNOTATION]: manager };
    if (byOperator && args.workloadIdentityClientId !== undefined) connectorAnnotations[WORKLOAD_IDENTITY_ANNOTATION] = checkedClientId(component, args.workloadIdentityClientId);

    const customResources: pulumi.Resource[] = [];
    if (args.createCustomResources !== false) {
      customResources.push(
        new kubernetes.apiextensions.CustomResource(
          `${name}-kafkaconnector`,
          { apiVersion: API_VERSION_FULL, kind: "KafkaConnector", metadata: { ...crMeta(connectorName), annotations: connectorAnnotations }, spec: resolved.apply((r) => r.connector.spec) },
          childOpts,
        ),
        new kubernetes.apiextensions.CustomResource(
          `${name}-topicmap`,
          { apiVersion: API_VERSION_FULL, kind: "KafkaConnectorTopicMap", metadata: crMeta(topicMapName), spec: resolved.apply((r) => r.topicMap.spec) },
          childOpts,
        ),
      );
    }

    if (byOperator) {
      // The names the operator gives them (connector/operator/reconcile.ts): both are the connector's.
      this.statefulSetName = pulumi.output(connectorName);
      this.serviceAccountName = pulumi.output(connectorName);
    } else {
      const workload = createWorkload(
        this,
        args,
        { name, component, connectorName, serviceAccountName: saName, connector: resolved.apply((r) => r.connector), runtimeEnv, meta: crMeta, podDeps: customResources },
        opts,
      );
      this.statefulSetName = workload.statefulSet.metadata.name;
      this.serviceAccountName = workload.serviceAccount.metadata.name;
    }

    this.connectorName = connectorName;
    this.topicMapName = topicMapName;
    this.namespace = pulumi.output(args.namespace);
    this.connectorConfig = config;
    this.registerOutputs({
      connectorName: this.connectorName,
      topicMapName: this.topicMapName,
      namespace: this.namespace,
      statefulSetName: this.statefulSetName,
      serviceAccountName: this.serviceAccountName,
      connectorConfig: this.connectorConfig,
    });
  }
}
