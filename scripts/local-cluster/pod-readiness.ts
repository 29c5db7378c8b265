import { sleep } from '../local-brokers/proc';
import type { LocalCluster } from './cluster';

export interface PodReadiness {
  /** Pods marked ready so far (namespace/name). */
  readonly marked: string[];
  /** Stop the loop; resolves once the current pass has finished. */
  stop(): Promise<void>;
}

interface PodList {
  items: {
    metadata: { name: string; deletionTimestamp?: string };
    status?: { phase?: string; conditions?: { type: string; status: string }[] };
  }[];
}

/**
 * Play the kubelet's part in readiness: the local cluster has no kubelet (nor scheduler), so Pods
 * stay Pending and a StatefulSet never gets ready replicas. Every `intervalMs` this marks each Pod of
 * `namespace` that is not Ready as Running with the PodScheduled, Initialized, ContainersReady and
 * Ready conditions (status subresource, as a kubelet writes it). The controllers then count it
 * ready, so awaits that wait for workloads (the Pulumi Kubernetes provider's StatefulSet await)
 * complete as they would on a real cluster. Nothing runs: no container is started. Unscheduled
 * Pods are still deleted at once (no grace period without a node), so deletions need nothing more.
 */
export function keepPodsReady(cluster: LocalCluster, namespace: string, intervalMs = 500): PodReadiness {
  const marked: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const pods = JSON.parse(await cluster.kubectl(['get', 'pods', '-n', namespace, '-o', 'json'])) as PodList;
        for (const pod of pods.items) {
          const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
          if (ready || pod.metadata.deletionTimestamp) continue;
          const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
          const conditions = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: now }));
          await cluster.kubectl([
            'patch', 'pod', pod.metadata.name, '-n', namespace, '--subresource=status', '--type=merge',
            '-p', JSON.stringify({ status: { phase: 'Running', startTime: now, conditions } }),
          ]);
          marked.push(`${namespace}/${pod.metadata.name}`);
        }
      } catch {
        // A Pod deleted between get and patch, or the namespace not there yet: try again next pass.
      }
      await sleep(intervalMs);
    }
  })();
  return {
    marked,
    async stop(): Promise<void> {
      stopped = true;
      await loop;
    },
  };
}
