import fs from 'node:fs';
import { stringify } from 'yaml';

export interface KubeconfigParams {
  server: string;
  caCertFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  user: string;
  clusterName?: string;
}

/**
 * A kubeconfig with the CA, client cert and key embedded as base64 data, so
 * the text alone is enough (e.g. as the Pulumi provider's `kubeconfig`).
 */
export function kubeconfigYaml(p: KubeconfigParams): string {
  const cluster = p.clusterName ?? 'local';
  const b64 = (file: string): string => fs.readFileSync(file).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: p.server, 'certificate-authority-data': b64(p.caCertFile) } }],
    users: [
      {
        name: p.user,
        user: { 'client-certificate-data': b64(p.clientCertFile), 'client-key-data': b64(p.clientKeyFile) },
      },
    ],
    contexts: [{ name: `${p.user}@${cluster}`, context: { cluster, user: p.user, namespace: 'default' } }],
    'current-context': `${p.user}@${cluster}`,
    preferences: {},
  });
}

export function writeKubeconfig(file: string, p: KubeconfigParams): string {
  const text = kubeconfigYaml(p);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return text;
}
