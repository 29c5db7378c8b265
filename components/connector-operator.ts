import * as pulumi from "@pulumi/pulumi";
import * as kubernetes from "@pulumi/kubernetes";
import { DEFAULT_IMAGE_REPOSITORY, DEFAULT_IMAGE_TAG } from "../connector/config/schema";
import { DEFAULT_OPERATOR_RESOURCES, operatorManifests, OperatorOptionError, type OperatorConnectorFlags, type OperatorManifestOptions, type OperatorManifests } from "../connector/operator/manifests";
import { InvalidArgsError, isFullyKnown } from "./connector-config";
import { childOptions } from "./options";
import type { ConnectorImageArgs, LogLevel } from "./spec-types";

/** What the operator gives every connector's pods (its flags). Unset: the operator's defaults. */
export type OperatorConnectorArgs = OperatorConnectorFlags;

/** Resources of the operator's container; each unset one keeps its default. */
export interface OperatorResourcesArgs {
  /** Default `50m`. */
  cpuRequest?: string;
  /** Default `128Mi`. */
  memoryRequest?: string;
  /** Default none. */
  cpuLimit?: string;
  /** Default `256Mi`. */
  memoryLimit?: string;
}

export interface ConnectorOperatorArgs {
  /** Namespace the operator runs in. Default `mqtt-kafka-connector-system`. */
  namespace?: string;
  /** Create that namespace, enforcing Pod Security `restricted`. Default true. */
  createNamespace?: boolean;
  /** The operator's image: the connector's own image (it runs `operator`). Default the connector image of this package's version. */
  image?: ConnectorImageArgs;
  /** Image pull Secrets of the operator's pod, in its namespace. */
  imagePullSecrets?: string[];
  /**
   * Run connectors of this namespace only: the operator gets a Role there instead of a
   * ClusterRole. Default: every namespace.
   */
  watchNamespace?: string;
  /** Settings of every connector's pods. */
  connector?: OperatorConnectorArgs;
  /** Image repositories connectors may run (exact, or a prefix ending in `/`). Default: any. */
  allowImages?: string[];
  /** Seconds between re-applies of every connector, which repair drift. Default 300. */
  resyncSeconds?: number;
  /** The operator's log level. Default `info`. */
  logLevel?: LogLevel;
  /** Resources of the operator's own container. */
  resources?: OperatorResourcesArgs;
  /** Extra labels on every object. */
  labels?: { [key: string]: string };
}

/** The builder's options for these args; the image is left out, since it may be an output. */
export function operatorOptions(args: ConnectorOperatorArgs): OperatorManifestOptions {
  const { image: _image, resources, ...rest } = args;
  const d = DEFAULT_OPERATOR_RESOURCES;
  return {
    ...rest,
    labels: { ...args.labels, "app.kubernetes.io/managed-by": "pulumi" },
    ...(resources
      ? {
          resources: {
            requests: { cpu: resources.cpuRequest ?? d.requests.cpu, memory: resources.memoryRequest ?? d.requests.memory },
            limits: { memory: resources.memoryLimit ?? d.limits.memory, ...(resources.cpuLimit ? { cpu: resources.cpuLimit } : {}) },
          },
        }
      : {}),
  };
}

/**
 * `mqtt-kafka-connector operator` on a cluster: its namespace, service account, ClusterRole (or a
 * Role in `watchNamespace`), binding and Deployment, from the same builder as `deploy/operator/`.
 * It runs every KafkaConnector applied to the cluster; the CRDs are ConnectorCrds' (or
 * `kubectl apply -f deploy/crds/`). Install it once per cluster, like the CRDs.
 */
export class ConnectorOperator extends pulumi.ComponentResource {
  /** Namespace the operator runs in. */
  public readonly namespace: pulumi.Output<string>;
  /** Name of its Deployment, service account, role and binding. */
  public readonly operatorName: string;
  /** The namespace it watches, or undefined for all. */
  public readonly watchNamespace: string | undefined;

  constructor(name: string, args: ConnectorOperatorArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("mqtt-kafka-connector:index:ConnectorOperator", name, {}, opts);
    const component = `ConnectorOperator ${JSON.stringify(name)}`;
    const image = args.image;
    const plain = operatorOptions(args);
    const build = (extra: Partial<OperatorManifestOptions> = {}): OperatorManifests => {
      try {
        return operatorManifests({ ...plain, ...extra });
      } catch (e) {
        if (e instanceof OperatorOptionError) throw new InvalidArgsError(component, e.message);
        throw e;
      }
    };
    const withImage = pulumi
      .all([image?.repository ?? DEFAULT_IMAGE_REPOSITORY, image?.tag ?? DEFAULT_IMAGE_TAG, image?.pullPolicy ?? "IfNotPresent"])
      .apply(([repository, tag, pullPolicy]) => build({ image: `${repository}:${tag}`, imagePullPolicy: pullPolicy }));
    // Bad args fail now, before anything is registered; the image too when it is known (it may be
    // an output of another resource, and is then checked when it resolves).
    const m = build();
    if (isFullyKnown(image)) build({ image: `${(image?.repository ?? DEFAULT_IMAGE_REPOSITORY) as string}:${(image?.tag ?? DEFAULT_IMAGE_TAG) as string}` });

    const childOpts = childOptions(this, opts);
    const ns = m.namespace ? new kubernetes.core.v1.Namespace(`${name}-namespace`, { metadata: m.namespace.metadata }, childOpts) : undefined;
    // Through the Namespace's output, so that everything in it waits for it.
    const namespace = ns ? ns.metadata.name : pulumi.output(m.serviceAccount.metadata.namespace!);
    const inNamespace = <T extends { metadata: object }>(o: T) => ({ ...o.metadata, namespace });
    const serviceAccount = new kubernetes.core.v1.ServiceAccount(`${name}-serviceaccount`, { metadata: inNamespace(m.serviceAccount) }, childOpts);
    const rules = m.role["rules"] as kubernetes.types.input.rbac.v1.PolicyRule[];
    const roleRef = m.binding["roleRef"] as kubernetes.types.input.rbac.v1.RoleRef;
    const subjects = m.binding["subjects"] as kubernetes.types.input.rbac.v1.Subject[];
    const [role, binding] = args.watchNamespace
      ? [
          new kubernetes.rbac.v1.Role(`${name}-role`, { metadata: m.role.metadata, rules }, childOpts),
          new kubernetes.rbac.v1.RoleBinding(`${name}-binding`, { metadata: m.binding.metadata, roleRef, subjects }, childOpts),
        ]
      : [
          new kubernetes.rbac.v1.ClusterRole(`${name}-role`, { metadata: m.role.metadata, rules }, childOpts),
          new kubernetes.rbac.v1.ClusterRoleBinding(`${name}-binding`, { metadata: m.binding.metadata, roleRef, subjects }, childOpts),
        ];
    new kubernetes.apps.v1.Deployment(
      `${name}-deployment`,
      { metadata: inNamespace(m.deployment), spec: withImage.apply((built) => built.deployment["spec"] as kubernetes.types.input.apps.v1.DeploymentSpec) },
      // It exits at start without the right to list KafkaConnectors: its rights come first.
      childOptions(this, opts, [serviceAccount, role, binding]),
    );

    this.namespace = namespace;
    this.operatorName = m.deployment.metadata.name;
    this.watchNamespace = args.watchNamespace;
    this.registerOutputs({ namespace: this.namespace, operatorName: this.operatorName, watchNamespace: this.watchNamespace });
  }
}
