export { startLocalCluster, LocalCluster, LocalClusterOptions, KubectlOptions, KubectlError, waitFor } from './cluster';
export { pulumiEnv, PulumiEnv, PulumiEnvOptions } from './pulumi-env';
export {
  enginesCacheDir,
  engineBinary,
  requireEngines,
  etcdBinary,
  EnginePiece,
  KUBERNETES_VERSION,
  PULUMI_VERSION,
  PULUMI_KUBERNETES_VERSION,
} from './engines';
export { ClusterPki, issueClientCert } from './pki';
export { kubeconfigYaml } from './kubeconfig';
export {
  repoRoot,
  languageHostDir,
  languageHostEnv,
  projectWorkspaceOptions,
  linkProject,
  LinkedProject,
  LinkedProjectOptions,
} from './project';
export { keepPodsReady, PodReadiness } from './pod-readiness';
