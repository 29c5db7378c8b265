import * as pulumi from "@pulumi/pulumi";
import { childOptions } from "./options";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import { WORKLOAD_IDENTITY_AUDIENCE, workloadIdentitySubject } from "./rbac";

export interface ConnectorIdentityArgs {
  /** Resource group of the identity. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region. Defaults to the provider's. */
  location?: pulumi.Input<string>;
  /** Identity name. Defaults to an auto-generated name. */
  identityName?: pulumi.Input<string>;
  /** OIDC issuer URL of the AKS cluster (`az aks show --query oidcIssuerProfile.issuerUrl`). */
  oidcIssuerUrl: pulumi.Input<string>;
  /** Kubernetes namespace of the connector's service account. */
  serviceAccountNamespace: pulumi.Input<string>;
  /** Name of the connector's service account. */
  serviceAccountName: pulumi.Input<string>;
  /** Tags for the identity. */
  tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

/**
 * A user-assigned managed identity the connector uses through AKS workload identity: the federated
 * credential trusts the cluster's tokens for one service account.
 */
export class ConnectorIdentity extends pulumi.ComponentResource {
  /** Client ID, for the `azure.workload.identity/client-id` service account annotation. */
  public readonly clientId: pulumi.Output<string>;
  /** Principal (object) ID, for role assignments. */
  public readonly principalId: pulumi.Output<string>;
  /** Tenant ID of the identity. */
  public readonly tenantId: pulumi.Output<string>;
  /** Resource ID of the identity. */
  public readonly identityId: pulumi.Output<string>;

  constructor(name: string, args: ConnectorIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mqtt-kafka-connector:index:ConnectorIdentity", name, {}, opts);
    const childOpts = childOptions(this, opts);
    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-identity`,
      {
        resourceGroupName: args.resourceGroupName,
        ...(args.location !== undefined ? { location: args.location } : {}),
        ...(args.identityName !== undefined ? { resourceName: args.identityName } : {}),
        ...(args.tags !== undefined ? { tags: args.tags } : {}),
      },
      childOpts,
    );
    new managedidentity.FederatedIdentityCredential(
      `${name}-federation`,
      {
        resourceGroupName: args.resourceGroupName,
        resourceName: identity.name,
        issuer: args.oidcIssuerUrl,
        subject: pulumi.all([args.serviceAccountNamespace, args.serviceAccountName]).apply(([ns, sa]) => workloadIdentitySubject(ns, sa)),
        audiences: [WORKLOAD_IDENTITY_AUDIENCE],
      },
      childOpts,
    );
    this.clientId = identity.clientId;
    this.principalId = identity.principalId;
    this.tenantId = identity.tenantId;
    this.identityId = identity.id;
    this.registerOutputs({ clientId: this.clientId, principalId: this.principalId, tenantId: this.tenantId, identityId: this.identityId });
  }
}
