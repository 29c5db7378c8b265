import assert from 'node:assert/strict';
import * as k8s from '@pulumi/kubernetes';
import { LocalWorkspace, OutputMap, Stack } from '@pulumi/pulumi/automation';
import {
  KubectlError,
  LocalCluster,
  PulumiEnv,
  pulumiEnv,
  startLocalCluster,
  waitFor,
} from '../../scripts/local-cluster';

// Real engines: etcd (Debian etcd-server), kube-apiserver and
// kube-controller-manager v1.37.2, kubectl, the pulumi CLI and
// pulumi-resource-kubernetes, built by scripts/engines/build-engines.sh.

const manifest = (obj: unknown): string => JSON.stringify(obj);

async function expectKubectlError(p: Promise<unknown>): Promise<KubectlError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KubectlError) return err;
    throw err;
  }
  assert.fail('kubectl was expected to fail');
}

async function waitGone(cluster: LocalCluster, what: string, args: string[], timeoutMs = 60_000): Promise<void> {
  await waitFor(`${what} to be deleted`, timeoutMs, async () => {
    const out = await cluster.kubectl(['get', ...args, '--ignore-not-found', '-o', 'name']);
    if (out.trim() !== '') throw new Error(`still there: ${out.trim()}`);
  });
}

describe('engines: local cluster (etcd + kube-apiserver + kube-controller-manager)', function () {
  this.timeout(600_000);
  let cluster: LocalCluster;

  before(async function () {
    this.timeout(180_000);
    cluster = await startLocalCluster();
  });

  after(async () => {
    await cluster?.stop();
  });

  it('serves the built-in namespaces on 127.0.0.1', async () => {
    assert.match(cluster.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    const names = (await cluster.kubectl(['get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}'])).split(/\s+/);
    assert.ok(names.includes('default'), `namespaces: ${names.join(' ')}`);
    assert.ok(names.includes('kube-system'), `namespaces: ${names.join(' ')}`);
    const version = JSON.parse(await cluster.kubectl(['version', '-o', 'json'])) as {
      serverVersion: { gitVersion: string };
    };
    assert.equal(version.serverVersion.gitVersion, 'v1.37.2');
  });

  it('creates and reads a ConfigMap with kubectl', async () => {
    await cluster.kubectl(['create', 'configmap', 'harness-cm', '--from-literal=answer=42']);
    assert.equal(await cluster.kubectl(['get', 'configmap', 'harness-cm', '-o', 'jsonpath={.data.answer}']), '42');
  });

  it('Pod Security admission rejects a privileged Pod in a restricted namespace', async () => {
    await cluster.kubectl(['apply', '-f', '-'], {
      input: manifest({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'restricted-ns', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
      }),
    });
    // The ServiceAccount admission plugin needs the namespace's default
    // service account, which the controller manager creates.
    await waitFor('restricted-ns/default service account', 60_000, () =>
      cluster.kubectl(['get', 'serviceaccount', 'default', '-n', 'restricted-ns', '-o', 'name']),
    );
    const pod = (name: string, containerSecurity: object, podSecurity: object = {}): string =>
      manifest({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'restricted-ns' },
        spec: {
          securityContext: podSecurity,
          containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', securityContext: containerSecurity }],
        },
      });

    const err = await expectKubectlError(cluster.kubectl(['apply', '-f', '-'], { input: pod('privileged', { privileged: true }) }));
    assert.match(err.stderr, /forbidden/i);
    assert.match(err.stderr, /violates PodSecurity "restricted:latest"/);
    assert.match(err.stderr, /privileged \(container "c" must not set securityContext\.privileged=true\)/);

    // A Pod that meets the restricted profile is admitted (nothing runs it: there is no kubelet).
    await cluster.kubectl(['apply', '-f', '-'], {
      input: pod(
        'compliant',
        { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      ),
    });
    assert.equal(
      await cluster.kubectl(['get', 'pod', 'compliant', '-n', 'restricted-ns', '-o', 'jsonpath={.status.phase}']),
      'Pending',
    );
  });

  it('foreground deletion removes dependents (the garbage collector runs)', async () => {
    await cluster.kubectl(['create', 'configmap', 'gc-owner', '--from-literal=role=owner']);
    const uid = await cluster.kubectl(['get', 'configmap', 'gc-owner', '-o', 'jsonpath={.metadata.uid}']);
    await cluster.kubectl(['apply', '-f', '-'], {
      input: manifest({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'gc-dependent',
          namespace: 'default',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'gc-owner', uid, blockOwnerDeletion: true }],
        },
        data: { role: 'dependent' },
      }),
    });
    await cluster.kubectl(['delete', 'configmap', 'gc-owner', '--cascade=foreground', '--wait=false']);
    // The owner itself only goes once the GC has removed its dependents and
    // then its foregroundDeletion finalizer.
    await waitGone(cluster, 'the dependent ConfigMap', ['configmap', 'gc-dependent']);
    await waitGone(cluster, 'the owner ConfigMap', ['configmap', 'gc-owner']);
  });

  it('a Deployment gets a ReplicaSet and Pods, and foreground deletion removes them all', async () => {
    await cluster.kubectl(['create', 'deployment', 'web', '--image=registry.k8s.io/pause:3.10', '--replicas=2']);
    await waitFor('the ReplicaSet to create 2 Pods', 60_000, async () => {
      const pods = await cluster.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'name']);
      if (pods.trim().split('\n').filter(Boolean).length !== 2) throw new Error(`pods: ${pods.trim() || 'none'}`);
    });
    const rs = await cluster.kubectl(['get', 'replicasets', '-l', 'app=web', '-o', 'name']);
    assert.match(rs, /^replicaset\.apps\/web-/);
    await cluster.kubectl(['delete', 'deployment', 'web', '--cascade=foreground', '--wait=false']);
    await waitGone(cluster, 'the Pods', ['pods', '-l', 'app=web']);
    await waitGone(cluster, 'the ReplicaSet', ['replicasets', '-l', 'app=web']);
    await waitGone(cluster, 'the Deployment', ['deployment', 'web']);
  });

  it('RBAC: another identity is forbidden until a RoleBinding grants it access', async () => {
    const kubeconfig = await cluster.kubeconfigFor('alice', ['developers']);
    const err = await expectKubectlError(cluster.kubectl(['get', 'configmaps', '-n', 'default'], { kubeconfig }));
    assert.match(err.stderr, /User "alice" cannot list resource "configmaps"/);
    await cluster.kubectl(['create', 'rolebinding', 'developers-view', '--clusterrole=view', '--group=developers', '-n', 'default']);
    await waitFor('the RoleBinding to take effect', 30_000, () =>
      cluster.kubectl(['get', 'configmap', 'harness-cm', '-n', 'default', '-o', 'name'], { kubeconfig }),
    );
    const denied = await expectKubectlError(cluster.kubectl(['delete', 'configmap', 'harness-cm'], { kubeconfig }));
    assert.match(denied.stderr, /cannot delete resource "configmaps"/);
  });

  it('restartApiServer keeps the port and the data, and controllers carry on', async () => {
    const server = cluster.server;
    await cluster.kubectl(['create', 'configmap', 'before-restart', '--from-literal=k=v']);
    await cluster.restartApiServer();
    assert.equal(cluster.server, server);
    assert.equal(await cluster.kubectl(['get', 'configmap', 'before-restart', '-o', 'jsonpath={.data.k}']), 'v');
    assert.equal(await cluster.kubectl(['get', 'configmap', 'harness-cm', '-o', 'jsonpath={.data.answer}']), '42');
    // The controller manager's watches reconnect: a new namespace gets its
    // service account and the GC still honours foreground deletion.
    await cluster.kubectl(['create', 'namespace', 'after-restart']);
    await waitFor('after-restart/default service account', 60_000, () =>
      cluster.kubectl(['get', 'serviceaccount', 'default', '-n', 'after-restart', '-o', 'name']),
    );
    await cluster.kubectl(['create', 'configmap', 'gc-owner-2']);
    const uid = await cluster.kubectl(['get', 'configmap', 'gc-owner-2', '-o', 'jsonpath={.metadata.uid}']);
    await cluster.kubectl(['apply', '-f', '-'], {
      input: manifest({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'gc-dependent-2',
          namespace: 'default',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'gc-owner-2', uid }],
        },
      }),
    });
    await cluster.kubectl(['delete', 'configmap', 'gc-owner-2', '--cascade=foreground', '--wait=false']);
    await waitGone(cluster, 'the dependent ConfigMap after the restart', ['configmap', 'gc-dependent-2']);
  });

  describe('Pulumi Automation API (inline program, @pulumi/kubernetes)', () => {
    let penv: PulumiEnv;
    let stack: Stack | undefined;
    let stage = 'one';
    let greeting = 'hello';
    const output: string[] = [];
    const onOutput = (s: string): void => {
      output.push(s);
    };

    before(() => {
      penv = pulumiEnv();
    });

    after(async () => {
      if (stack) await stack.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
      penv?.cleanup();
    });

    afterEach(function () {
      if (this.currentTest?.state === 'failed') process.stderr.write(`pulumi output:\n${output.join('')}\n`);
      output.length = 0;
    });

    const program = async (): Promise<OutputMap | Record<string, unknown>> => {
      const provider = new k8s.Provider('local', { kubeconfig: cluster.kubeconfigYaml });
      const cm = new k8s.core.v1.ConfigMap(
        'greeting',
        { metadata: { name: 'pulumi-greeting', namespace: 'default', labels: { stage } }, data: { greeting } },
        { provider },
      );
      // No kubelet runs its Pods, so the provider must not wait for them;
      // deleting it (foreground) needs the garbage collector.
      new k8s.apps.v1.Deployment(
        'web',
        {
          metadata: { name: 'pulumi-web', namespace: 'default', annotations: { 'pulumi.com/skipAwait': 'true' } },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'pulumi-web' } },
            template: {
              metadata: { labels: { app: 'pulumi-web' } },
              spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }] },
            },
          },
        },
        { provider },
      );
      return { name: cm.metadata.name };
    };

    it('up creates a ConfigMap and a Deployment', async () => {
      stack = await LocalWorkspace.createOrSelectStack(
        { stackName: 'harness', projectName: 'local-cluster-harness', program },
        await penv.workspaceOptions(),
      );
      const up = await stack.up({ onOutput });
      assert.equal(up.summary.result, 'succeeded');
      // stack, provider, ConfigMap, Deployment
      assert.equal(up.summary.resourceChanges?.create, 4, JSON.stringify(up.summary.resourceChanges));
      assert.equal(up.outputs.name.value, 'pulumi-greeting');
      assert.equal(
        await cluster.kubectl(['get', 'configmap', 'pulumi-greeting', '-o', 'jsonpath={.data.greeting}']),
        'hello',
      );
      await waitFor('the Deployment to get a ReplicaSet', 60_000, async () => {
        const rs = await cluster.kubectl(['get', 'replicasets', '-l', 'app=pulumi-web', '-o', 'name']);
        if (!rs.trim()) throw new Error('no ReplicaSet yet');
      });
      // The engine ran the provider built from source, found on PATH.
      assert.match(output.join(''), /using pulumi-resource-kubernetes from \$PATH/);
    });

    it('preview after a change shows one update and changes nothing', async () => {
      assert.ok(stack, 'up must have run');
      stage = 'two';
      const preview = await stack.preview({ onOutput });
      assert.deepEqual(preview.changeSummary, { same: 3, update: 1 });
      assert.equal(
        await cluster.kubectl(['get', 'configmap', 'pulumi-greeting', '-o', 'jsonpath={.metadata.labels.stage}']),
        'one',
      );
    });

    it('preview of a data change shows a replacement (the provider treats ConfigMap data as immutable)', async () => {
      assert.ok(stack, 'up must have run');
      greeting = 'changed';
      const preview = await stack.preview({ onOutput });
      assert.equal(preview.changeSummary.replace, 1, JSON.stringify(preview.changeSummary));
      stage = 'one';
      greeting = 'hello';
    });

    it('destroy removes the ConfigMap, and the Deployment with its ReplicaSet (foreground deletion)', async () => {
      assert.ok(stack, 'up must have run');
      const destroy = await stack.destroy({ onOutput });
      assert.equal(destroy.summary.result, 'succeeded');
      assert.equal(destroy.summary.resourceChanges?.delete, 4, JSON.stringify(destroy.summary.resourceChanges));
      assert.equal(
        await cluster.kubectl(['get', 'configmap', 'pulumi-greeting', '--ignore-not-found', '-o', 'name']),
        '',
      );
      // destroy returned only after the Deployment was gone, which with
      // foreground propagation means its dependents went first.
      assert.equal(await cluster.kubectl(['get', 'deployment', 'pulumi-web', '--ignore-not-found', '-o', 'name']), '');
      assert.equal(await cluster.kubectl(['get', 'replicasets,pods', '-l', 'app=pulumi-web', '-o', 'name']), '');
    });
  });
});
