/**
 * The Pulumi-managed workload of a KafkaConnector component: Key Vault SecretProviderClasses and
 * the objects of the shared builder (connector/k8s/workload.ts, which the operator uses too), as
 * Pulumi resources. With `workloadManager: "operator"` none of this is created.
 */
import * as pulumi from "@pulumi/pulumi";
import * as kubernetes from "@pulumi/kubernetes";
import type { KafkaConnectorResource } from "../connector/config/schema";
import { childOptions } from "./options";
import { InvalidArgsError } from "./connector-config";
import { DEFAULT_MQTT_TOKEN_AUDIENCE, spoolSettings, type KafkaConnectorArgs } from "./kafka-connector-args";
import {
  DEFAULT_RESOURCES,
  keyVaultReferences,
  secretProviderClassName,
  secretProviderClassParameters,
  workloadManifests,
  type KeyVaultReference,
  type WorkloadManifests,
} from "./workload";

export interface WorkloadContext {
  /** Child resource names start with it. */
  name: string;
  component: string;
  connectorName: string;
  serviceAccountName: string;
  connector: pulumi.Output<KafkaConnectorResource>;
  /** The container environment from `env` and `runtime`. */
  runtimeEnv: Record<string, string>;
  /** Metadata of objects that are not the builder's (SecretProviderClasses). */
  meta(objectName: string): { name: string; namespace: pulumi.Input<string>; labels: Record<string, string> };
  /** What the pods read, created before the StatefulSet (the custom resources). */
  podDeps: pulumi.Resource[];
}

/** Creates the workload; returns the StatefulSet and the service account. */
export function createWorkload(
  parent: pulumi.ComponentResource,
  args: KafkaConnectorArgs,
  ctx: WorkloadContext,
  opts: pulumi.ComponentResourceOptions | undefined,
): { statefulSet: kubernetes.apps.v1.StatefulSet; serviceAccount: kubernetes.core.v1.ServiceAccount } {
  const { name, component, connectorName } = ctx;
  const childOpts = childOptions(parent, opts);
  const useWorkloadIdentity = args.workloadIdentityClientId !== undefined;
  const podDeps = [...ctx.podDeps];

  // Which Key Vault references exist is decided by the shape of the spec, known now; their values may come later.
  const kafkaAuth = args.spec.kafkaConnection.authentication;
  const kvUses: KeyVaultReference["use"][] = [];
  if (kafkaAuth && kafkaAuth.enabled !== false) {
    if (kafkaAuth.authType.sasl?.token.keyVault) kvUses.push("sasl");
    if (kafkaAuth.authType.x509?.keyVault) kvUses.push("x509");
  }
  const spcNames: Record<string, string> = {};
  for (const use of kvUses) {
    const refOf = (c: KafkaConnectorResource): KeyVaultReference => {
      const found = keyVaultReferences(c.spec).find((k) => k.use === use);
      if (!found) throw new InvalidArgsError(component, `Key Vault reference for ${use} disappeared after resolving the spec`);
      return found;
    };
    spcNames[use] = secretProviderClassName(connectorName, use);
    podDeps.push(
      new kubernetes.apiextensions.CustomResource(
        `${name}-kv-${use}`,
        {
          apiVersion: "secrets-store.csi.x-k8s.io/v1",
          kind: "SecretProviderClass",
          metadata: ctx.meta(spcNames[use]!),
          spec: pulumi
            .all([ctx.connector, pulumi.output(args.workloadIdentityClientId ?? "")])
            .apply(([c, clientId]) => ({ provider: "azure", parameters: secretProviderClassParameters(refOf(c), clientId || undefined) })),
        },
        childOpts,
      ),
    );
  }

  // The same objects the operator creates (connector/k8s/workload.ts), as Pulumi resources.
  const manifests = pulumi
    .output({
      c: ctx.connector,
      clientId: pulumi.output(args.workloadIdentityClientId ?? ""),
      audience: args.mqttTokenAudience ?? DEFAULT_MQTT_TOKEN_AUDIENCE,
      cpuRequest: args.cpuRequest ?? DEFAULT_RESOURCES.cpuRequest,
      memoryRequest: args.memoryRequest ?? DEFAULT_RESOURCES.memoryRequest,
      cpuLimit: args.cpuLimit ?? "",
      memoryLimit: args.memoryLimit ?? DEFAULT_RESOURCES.memoryLimit,
      pullSecrets: pulumi.output(args.imagePullSecrets ?? []),
      grace: args.terminationGracePeriodSeconds ?? 60,
      nodeSelector: pulumi.output(args.nodeSelector ?? {}),
      maxUnavailable: args.maxUnavailable ?? 1,
      env: pulumi.output({ ...(args.env ?? {}), ...ctx.runtimeEnv }),
      spoolSize: pulumi.output(args.spool?.size),
      spoolClass: pulumi.output(args.spool?.storageClassName),
    })
    .apply((v) => {
      const spoolEnv = spoolSettings(component, v.spoolSize, ctx.runtimeEnv);
      return workloadManifests(v.c, {
        serviceAccountName: ctx.serviceAccountName,
        secretProviderClasses: spcNames,
        workloadIdentity: useWorkloadIdentity,
        ...(useWorkloadIdentity ? { serviceAccountAnnotations: { "azure.workload.identity/client-id": v.clientId }, podLabels: { "azure.workload.identity/use": "true" } } : {}),
        mqttTokenAudience: v.audience,
        resources: { requests: { cpu: v.cpuRequest, memory: v.memoryRequest }, limits: { memory: v.memoryLimit, ...(v.cpuLimit ? { cpu: v.cpuLimit } : {}) } },
        imagePullSecrets: v.pullSecrets,
        terminationGracePeriodSeconds: v.grace,
        nodeSelector: v.nodeSelector,
        env: { ...v.env, ...spoolEnv },
        ...(v.spoolSize !== undefined ? { spool: { size: v.spoolSize, ...(v.spoolClass ? { storageClassName: v.spoolClass } : {}) } } : {}),
        maxUnavailable: v.maxUnavailable,
        managedBy: "pulumi",
      });
    });
  const part = <K extends keyof WorkloadManifests>(k: K) => manifests.apply((m) => m[k]);
  // Names are known now; the metadata objects are outputs. Spec fields go in as the SDK's input types.
  const metadata = <K extends keyof WorkloadManifests>(k: K) => part(k).apply((m) => m.metadata);
  const field = <T>(k: keyof WorkloadManifests, f: string) => part(k).apply((m) => m[f] as T);
  const serviceAccount = new kubernetes.core.v1.ServiceAccount(`${name}-serviceaccount`, { metadata: metadata("serviceAccount"), automountServiceAccountToken: false }, childOpts);
  const role = new kubernetes.rbac.v1.Role(`${name}-role`, { metadata: metadata("role"), rules: field<kubernetes.types.input.rbac.v1.PolicyRule[]>("role", "rules") }, childOpts);
  const roleBinding = new kubernetes.rbac.v1.RoleBinding(
    `${name}-rolebinding`,
    {
      metadata: metadata("roleBinding"),
      roleRef: field<kubernetes.types.input.rbac.v1.RoleRef>("roleBinding", "roleRef"),
      subjects: field<kubernetes.types.input.rbac.v1.Subject[]>("roleBinding", "subjects"),
    },
    childOpts,
  );
  new kubernetes.core.v1.Service(`${name}-service`, { metadata: metadata("service"), spec: field<kubernetes.types.input.core.v1.ServiceSpec>("service", "spec") }, childOpts);
  const statefulSet = new kubernetes.apps.v1.StatefulSet(
    `${name}-statefulset`,
    { metadata: metadata("statefulSet"), spec: field<kubernetes.types.input.apps.v1.StatefulSetSpec>("statefulSet", "spec") },
    // What the pods use exists first: the service account and its rights, the custom resources
    // they read, the SecretProviderClasses they mount.
    childOptions(parent, opts, [serviceAccount, role, roleBinding, ...podDeps]),
  );
  new kubernetes.policy.v1.PodDisruptionBudget(
    `${name}-pdb`,
    { metadata: metadata("podDisruptionBudget"), spec: field<kubernetes.types.input.policy.v1.PodDisruptionBudgetSpec>("podDisruptionBudget", "spec") },
    childOpts,
  );
  return { statefulSet, serviceAccount };
}
