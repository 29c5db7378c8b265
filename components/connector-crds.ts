import * as pulumi from "@pulumi/pulumi";
import { childOptions } from "./options";
import * as kubernetes from "@pulumi/kubernetes";
import { renderConnectorCrd, renderTopicMapCrd, type CrdObject } from "./crds";
import { isRecord } from "./schema-json";

/**
 * The Kubernetes SDK spells `x-kubernetes-*` schema keywords with underscores (they are not valid
 * identifiers in every language) and the provider turns them back into dashes for the apiserver.
 * Property names under `properties` are field names, never keywords, and are left alone.
 */
export function toSdkSchemaKeys(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toSdkSchemaKeys);
  if (!isRecord(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    const sdkKey = key.startsWith("x-kubernetes-") ? key.replace(/-/g, "_") : key;
    out[sdkKey] =
      key === "properties" && isRecord(value)
        ? Object.fromEntries(Object.entries(value).map(([field, schema]) => [field, toSdkSchemaKeys(schema)]))
        : toSdkSchemaKeys(value);
  }
  return out;
}

/** The CRD spec in the Kubernetes SDK's input shape. */
export function crdSpecInput(crd: CrdObject): kubernetes.types.input.apiextensions.v1.CustomResourceDefinitionSpec {
  return toSdkSchemaKeys(crd.spec) as kubernetes.types.input.apiextensions.v1.CustomResourceDefinitionSpec;
}

export interface ConnectorCrdsArgs {
  /** Extra labels on both CRDs. */
  labels?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /**
   * Delete the CRDs from the cluster when this component is destroyed. Default false: they are
   * cluster-wide, and deleting a CRD deletes every KafkaConnector and KafkaConnectorTopicMap in
   * the cluster, other stacks' too, so a destroy leaves them in place (Pulumi `retainOnDelete`).
   */
  deleteOnDestroy?: boolean;
}

/**
 * The KafkaConnector and KafkaConnectorTopicMap CustomResourceDefinitions, generated from the
 * connector's config schema (the same YAML as deploy/crds/). Install them once per cluster, from a
 * cluster-level stack (or `kubectl apply -f deploy/crds/`), not from each connector's stack.
 */
export class ConnectorCrds extends pulumi.ComponentResource {
  /** Name of the KafkaConnector CRD. */
  public readonly connectorCrdName: pulumi.Output<string>;
  /** Name of the KafkaConnectorTopicMap CRD. */
  public readonly topicMapCrdName: pulumi.Output<string>;

  constructor(name: string, args: ConnectorCrdsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mqtt-kafka-connector:index:ConnectorCrds", name, {}, opts);
    const childOpts = childOptions(this, opts);
    const make = (role: string, crd: CrdObject) =>
      new kubernetes.apiextensions.v1.CustomResourceDefinition(
        `${name}-${role}`,
        {
          metadata: {
            name: crd.metadata.name,
            labels: pulumi.output(args.labels ?? {}).apply((extra) => ({ ...crd.metadata.labels, ...extra })),
          },
          spec: crdSpecInput(crd),
        },
        { ...childOpts, retainOnDelete: args.deleteOnDestroy !== true },
      );
    const connector = make("kafkaconnector", renderConnectorCrd());
    const topicMap = make("kafkaconnectortopicmap", renderTopicMapCrd());
    this.connectorCrdName = connector.metadata.name;
    this.topicMapCrdName = topicMap.metadata.name;
    this.registerOutputs({ connectorCrdName: this.connectorCrdName, topicMapCrdName: this.topicMapCrdName });
  }
}
