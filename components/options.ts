import * as pulumi from "@pulumi/pulumi";

type DependsOn = pulumi.ResourceOptions["dependsOn"];

/** `dependsOn` of the caller plus `extra`, in whatever shape the caller passed it. */
export function mergeDependsOn(callers: DependsOn, extra: pulumi.Resource[]): DependsOn {
  if (callers === undefined) return extra.length ? extra : undefined;
  if (Array.isArray(callers)) return [...callers, ...extra];
  if (pulumi.Resource.isInstance(callers)) return [callers, ...extra];
  const pending = pulumi.output(callers as pulumi.Input<pulumi.Resource | pulumi.Resource[]>);
  return pending.apply((v) => [...(Array.isArray(v) ? v : [v]), ...extra]);
}

/**
 * Options for a component's children: parented to it, and waiting for what the component waits
 * for (Pulumi does not pass a component's `dependsOn` on to its children by itself).
 */
export function childOptions(parent: pulumi.Resource, opts: pulumi.ComponentResourceOptions | undefined, extra: pulumi.Resource[] = []): pulumi.CustomResourceOptions {
  const dependsOn = mergeDependsOn(opts?.dependsOn, extra);
  return { parent, ...(dependsOn !== undefined ? { dependsOn } : {}) };
}
