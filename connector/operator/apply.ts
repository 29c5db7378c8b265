/**
 * Server-side apply of a connector's objects, one at a time and in order, stopping at the first
 * failure: the StatefulSet is never applied before the service account, Role and
 * SecretProviderClasses its pods use.
 */
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { apiErrorMessage, apiStatus, kube } from "../k8s/kube";
import { FIELD_MANAGER } from "./names";
import { objectKey, type OwnedManifest } from "./reconcile";

/** What apply needs from the API; the engine test uses the real one, unit tests a fake. */
export interface Applier {
  apply(object: OwnedManifest): Promise<void>;
}

export class ApplyError extends Error {
  constructor(
    readonly object: string,
    readonly status: number | undefined,
    detail: string,
  ) {
    super(`apply ${object}: ${detail}`);
  }
}

/**
 * Applies with `force`: the operator owns these fields, and a hand edit (`kubectl scale`,
 * `kubectl edit`) is drift that the next reconcile takes back.
 */
export function serverSideApplier(kc: KubeConfig): Applier {
  const k = kube();
  const api = k.KubernetesObjectApi.makeApiClient(kc);
  return {
    async apply(object) {
      await api.patch(object as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, k.PatchStrategy.ServerSideApply);
    },
  };
}

/** Applies every object; resolves with their keys, or throws an ApplyError naming the one that failed. */
export async function applyAll(applier: Applier, objects: readonly OwnedManifest[]): Promise<string[]> {
  const done: string[] = [];
  for (const o of objects) {
    try {
      await applier.apply(o);
    } catch (e) {
      throw new ApplyError(objectKey(o), apiStatus(e), explain(o, e));
    }
    done.push(objectKey(o));
  }
  return done;
}

function explain(o: OwnedManifest, e: unknown): string {
  const msg = apiErrorMessage(e);
  // client-node finds the resource of a kind through discovery; an uninstalled CRD fails there.
  if (o.kind === "SecretProviderClass" && /unrecognized|not found|404/i.test(msg)) {
    return `${msg} (the Secrets Store CSI driver and its Azure provider must be installed for Key Vault references)`;
  }
  return msg;
}
