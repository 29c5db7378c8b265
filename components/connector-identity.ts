import * as pulumi from "@pulumi/pulumi";
import { childOptions } from "./options";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import { WORKLOAD_IDENTITY_AUDIENCE, workloadIdentitySubject } from "./rbac";
import { InvalidArgsError } from "./connector-config";

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
  /**
   * Federate an identity that exists already instead of creating one: its resource ID
   * (`/subscriptions/…/resourceGroups/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/…`).
   */
  existingIdentityId?: string;
  /** With `existingIdentityId`: its client ID. */
  existingClientId?: pulumi.Input<string>;
  /** With `existingIdentityId`: its principal (object) ID. */
  existingPrincipalId?: pulumi.Input<string>;
}

/** Resource group and name of a user-assigned identity from its resource ID; throws naming what is wrong. */
export function parseIdentityId(id: string): { subscriptionId: string; resourceGroupName: string; name: string } {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([^/]+)$/i.exec(id);
  if (!m) throw new Error(`not a user-assigned identity resource ID: ${JSON.stringify(id)} (expected /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>)`);
  return { subscriptionId: m[1]!, resourceGroupName: m[2]!, name: m[3]! };
}

/**
 * A user-assigned managed identity the connector uses through AKS workload identity: the federated
 * credential trusts the cluster's tokens for one service account. Creates the identity, or
 * federates an existing one (`existingIdentityId`).
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
    let target: { resourceGroupName: pulumi.Input<string>; name: pulumi.Input<string> };
    if (args.existingIdentityId !== undefined) {
      let parsed;
      try {
        parsed = parseIdentityId(args.existingIdentityId);
      } catch (e) {
        throw new InvalidArgsError(`ConnectorIdentity ${JSON.stringify(name)}`, `existingIdentityId: ${(e as Error).message}`);
      }
      if (args.existingClientId === undefined || args.existingPrincipalId === undefined) {
        throw new InvalidArgsError(`ConnectorIdentity ${JSON.stringify(name)}`, "existingIdentityId needs existingClientId and existingPrincipalId");
      }
      target = parsed;
      this.clientId = pulumi.output(args.existingClientId);
      this.principalId = pulumi.output(args.existingPrincipalId);
      this.tenantId = pulumi.output("");
      this.identityId = pulumi.output(args.existingIdentityId);
    } else {
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
      target = { resourceGroupName: args.resourceGroupName, name: identity.name };
      this.clientId = identity.clientId;
      this.principalId = identity.principalId;
      this.tenantId = identity.tenantId;
      this.identityId = identity.id;
    }
    new managedidentity.FederatedIdentityCredential(
      `${name}-federation`,
      {
        resourceGroupName: target.resourceGroupName,
        resourceName: target.name,
        issuer: args.oidcIssuerUrl,
        subject: pulumi.all([args.serviceAccountNamespace, args.serviceAccountName]).apply(([ns, sa]) => workloadIdentitySubject(ns, sa)),
        audiences: [WORKLOAD_IDENTITY_AUDIENCE],
      },
      childOpts,
    );
    this.registerOutputs({ clientId: this.clientId, principalId: this.principalId, tenantId: this.tenantId, identityId: this.identityId });
  }
}
