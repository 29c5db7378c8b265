import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EngineEvent, LocalWorkspace, Stack } from '@pulumi/pulumi/automation';
import {
  LinkedProject,
  LocalCluster,
  PulumiEnv,
  keepPodsReady,
  linkProject,
  projectWorkspaceOptions,
  pulumiEnv,
  repoRoot,
  startLocalCluster,
} from '../../scripts/local-cluster';

// This repository's own Pulumi project (Pulumi.yaml + infra/), run as shipped by the real engine:
// the pulumi CLI v3.248.0 and pulumi-resource-kubernetes built by scripts/engines/build-engines.sh,
// a real kube-apiserver, and scripts/language-host/pulumi-language-nodejs, a stand-in for the Go
// language host that the module proxy does not serve. The engine reads Pulumi.yaml's `main` and
// runtime options and asks the language host to run the program through @pulumi/pulumi/cmd/run with
// ts-node (pinned 10.9.2), as `pulumi up` does on a workstation.
//
// Each case works on a temp project dir (linkProject): a copy of Pulumi.yaml and a symlink to every
// other top-level entry of the repo, so stack files are written there, not into the repo.

const PROJECT = 'mqtt-kafka-connector';
const NAMESPACE = 'mkc-project';
const CONTEXT = 'kubernetes-admin@local'; // the admin kubeconfig's context (kubeconfig.ts)
const BOOTSTRAP = 'kafka.example:9092';

/** What the infra program plans with its own Kafka: no Azure resource. */
const INFRA_TYPES = [
  'kubernetes:apps/v1:StatefulSet',
  'kubernetes:core/v1:Service',
  'kubernetes:core/v1:ServiceAccount',
  'kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnector',
  'kubernetes:mq.iotoperations.azure.com/v1beta1:KafkaConnectorTopicMap',
  'kubernetes:policy/v1:PodDisruptionBudget',
  'kubernetes:rbac.authorization.k8s.io/v1:Role',
  'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding',
  'mqtt-kafka-connector:index:KafkaConnector',
  'mqtt-kafka-connector:index:MqttKafkaBridge',
  'pulumi:providers:kubernetes',
  'pulumi:pulumi:Stack',
];

/** The Kubernetes objects the program creates in NAMESPACE (connectorName defaults to mqtt-kafka-bridge). */
const OBJECTS = [
  'kafkaconnector.mq.iotoperations.azure.com/mqtt-kafka-bridge',
  'kafkaconnectortopicmap.mq.iotoperations.azure.com/mqtt-kafka-bridge-topics',
  'poddisruptionbudget.policy/mqtt-kafka-bridge',
  'role.rbac.authorization.k8s.io/mqtt-kafka-bridge-connector',
  'rolebinding.rbac.authorization.k8s.io/mqtt-kafka-bridge-connector',
  'service/mqtt-kafka-bridge-headless',
  'serviceaccount/mqtt-kafka-bridge',
  'statefulset.apps/mqtt-kafka-bridge',
];
const OBJECT_KINDS = 'configmaps,kafkaconnectors,kafkaconnectortopicmaps,poddisruptionbudgets,roles,rolebindings,services,serviceaccounts,statefulsets,pods';

interface Planned {
  op: string;
  type: string;
  name: string;
}

describe("engines: this repo's Pulumi project (Pulumi.yaml + infra/) through the real engine", function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let penv: PulumiEnv;
  const projects: LinkedProject[] = [];
  const stacks: Stack[] = [];
  const output: string[] = [];
  const hostLog = (): string => path.join(penv.homeDir, 'language-host.log');

  before(async function () {
    this.timeout(180_000);
    cluster = await startLocalCluster();
    penv = pulumiEnv();
    // The program creates KafkaConnector and KafkaConnectorTopicMap objects; the stack leaves the
    // cluster-wide CRDs to a cluster-level install (installCrds: false), as documented.
    await cluster.kubectl(['apply', '-f', path.join(repoRoot(), 'deploy', 'crds')]);
    await cluster.kubectl(['create', 'namespace', NAMESPACE]);
  });

  after(async () => {
    for (const s of stacks) await s.workspace.removeStack(s.name, { force: true }).catch(() => undefined);
    for (const p of projects) p.cleanup();
    penv?.cleanup();
    await cluster?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      process.stderr.write(`pulumi output:\n${output.join('')}\n`);
      if (fs.existsSync(hostLog())) process.stderr.write(`language host log:\n${fs.readFileSync(hostLog(), 'utf8')}\n`);
    }
    output.length = 0;
  });

  /** A stack of a linked copy of the project, configured as a "bring your own Kafka" stack of the local cluster. */
  async function projectStack(name: string, opts: Parameters<typeof linkProject>[0] = {}, config: Record<string, unknown> = {}): Promise<{ stack: Stack; project: LinkedProject }> {
    const project = linkProject(opts);
    projects.push(project);
    const stack = await LocalWorkspace.createStack(
      { stackName: name, workDir: project.dir },
      await projectWorkspaceOptions(penv, project.dir, { MKC_LANGUAGE_HOST_LOG: hostLog() }),
    );
    stacks.push(stack);
    // Written as an operator writes Pulumi.<stack>.yaml: kafkaConnection is an object, as in a KafkaConnector.
    const settings = await stack.workspace.stackSettings(name);
    settings.config = {
      ...(settings.config ?? {}),
      [`${PROJECT}:kafkaConnection`]: { endpoint: BOOTSTRAP, tls: { tlsEnabled: false } },
      [`${PROJECT}:kubeContext`]: CONTEXT,
      [`${PROJECT}:kubeconfig`]: cluster.kubeconfig,
      [`${PROJECT}:kubernetesNamespace`]: NAMESPACE,
      ...config,
    };
    await stack.workspace.saveStackSettings(name, settings);
    return { stack, project };
  }

  /** Preview; resolves the planned steps and the stack's outputs as the preview computed them. */
  async function preview(stack: Stack): Promise<{ planned: Planned[]; outputs: Record<string, unknown> }> {
    const planned: Planned[] = [];
    let outputs: Record<string, unknown> = {};
    const onEvent = (e: EngineEvent): void => {
      const pre = e.resourcePreEvent?.metadata;
      if (pre) planned.push({ op: pre.op, type: pre.type, name: pre.urn.split('::').pop() ?? '' });
      const out = e.resOutputsEvent?.metadata;
      if (out?.type === 'pulumi:pulumi:Stack') outputs = (out.new?.outputs as Record<string, unknown> | undefined) ?? {};
    };
    await stack.preview({ onEvent, onOutput: (s) => output.push(s) });
    return { planned, outputs };
  }

  const namesIn = async (): Promise<string[]> =>
    (await cluster.kubectl(['get', OBJECT_KINDS, '-n', NAMESPACE, '-o', 'name'])).split('\n').filter(Boolean).sort();

  let infraStack: Stack | undefined;

  it('main: infra/index.ts: preview plans the infra program (bridge, cluster provider, connector objects; nothing from azure-native)', async () => {
    const { stack } = await projectStack('byo-kafka');
    const t0 = Date.now();
    const { planned, outputs } = await preview(stack);
    process.stderr.write(`      (preview of infra/index.ts, type-checked by ts-node: ${Date.now() - t0} ms)\n`);
    assert.deepEqual([...new Set(planned.map((p) => p.op))], ['create'], JSON.stringify(planned));
    assert.deepEqual(planned.map((p) => p.type).sort(), INFRA_TYPES);
    assert.deepEqual(planned.filter((p) => p.type.startsWith('azure-native:')), []);
    assert.ok(planned.some((p) => p.type === 'pulumi:providers:kubernetes' && p.name === 'cluster'));
    assert.ok(planned.some((p) => p.type === 'mqtt-kafka-connector:index:MqttKafkaBridge' && p.name === 'mqtt-kafka-bridge'));
    // The program's exports, not the component library's.
    assert.equal(outputs.bootstrapServers, BOOTSTRAP);
    assert.equal(outputs.kubernetesNamespace, NAMESPACE);
    assert.equal(outputs.MqttKafkaBridge, undefined);
    // The engine ran the project's program file through the language host: pwd infra/, entry point index.ts.
    const log = fs.readFileSync(hostLog(), 'utf8');
    assert.match(log, /Run dryRun=true typescript=true: .*@pulumi\/pulumi\/cmd\/run\/index\.js .*--pwd \S+\/infra --dry-run .* index\.ts\n/);
    assert.match(output.join(''), /using pulumi-language-nodejs from \$PATH/);
    infraStack = stack;
  });

  it('main: infra/ (a directory) runs the component library instead: only the stack is planned', async () => {
    const { stack } = await projectStack('main-directory', {
      editProjectFile: (text) => {
        assert.match(text, /^main: infra\/index\.ts$/m);
        return text.replace(/^main: infra\/index\.ts$/m, 'main: infra/');
      },
    });
    const { planned, outputs } = await preview(stack);
    // The engine passes "." from infra/; @pulumi/pulumi/cmd/run then loads package.json's
    // exports["."] (dist/components/index.js), which registers no resource and exports constants.
    assert.deepEqual(planned.map((p) => p.type), ['pulumi:pulumi:Stack']);
    assert.equal(outputs.bootstrapServers, undefined);
    assert.ok('MqttKafkaBridge' in outputs && 'ConnectorCrds' in outputs, `outputs: ${Object.keys(outputs).join(', ')}`);
    assert.match(fs.readFileSync(hostLog(), 'utf8'), /Run dryRun=true .*--pwd \S+\/infra --dry-run .* \.\n/);
  });

  it('a type error in the program fails the preview with the TypeScript diagnostic (ts-node type-checks)', async () => {
    const { stack, project } = await projectStack('type-error', { copy: ['infra'] });
    const program = path.join(project.dir, 'infra', 'index.ts');
    fs.appendFileSync(program, '\nexport const notANumber: number = "a";\n');
    const line = fs.readFileSync(program, 'utf8').split('\n').length - 1;
    const err = await preview(stack).then(
      () => assert.fail('preview was expected to fail'),
      (e: Error) => e,
    );
    // The diagnostic of that very line (ts-node reports it relative to infra/, where the program runs).
    assert.match(err.message, new RegExp(`\\bindex\\.ts\\(${line},\\d+\\): error TS2322: Type 'string' is not assignable to type 'number'`));
  });

  it('with Event Hubs (kafkaConnection {}), a stack without eventHubsNamespace fails the preview naming the key', async () => {
    const { stack } = await projectStack('no-namespace', {}, { [`${PROJECT}:kafkaConnection`]: {}, [`${PROJECT}:oidcIssuerUrl`]: 'https://issuer.example/' });
    const err = await preview(stack).then(
      () => assert.fail('preview was expected to fail'),
      (e: Error) => e,
    );
    assert.match(err.message, /eventHubsNamespace is required with Event Hubs/);
    assert.doesNotMatch(err.message, /is missing configuration value/);
  });

  it('up creates the objects on the API server; bootstrapServers is the own Kafka', async () => {
    assert.ok(infraStack, 'the first preview must have passed');
    // No kubelet: the StatefulSet's pod would never be Ready and the provider's StatefulSet await
    // would time out after 10 minutes. pulumi-resource-kubernetes v4.25.0 has no environment
    // variable or provider option to skip awaits (only the pulumi.com/skipAwait annotation in the
    // resource's own inputs, which only the program could set), so the test plays the kubelet's part
    // instead: keepPodsReady marks the pod Running and Ready, and the real await completes.
    const kubelet = keepPodsReady(cluster, NAMESPACE);
    const t0 = Date.now();
    const up = await infraStack.up({ onOutput: (s) => output.push(s) }).finally(() => kubelet.stop());
    process.stderr.write(`      (up: ${Date.now() - t0} ms; pods marked ready: ${kubelet.marked.join(', ') || 'none'})\n`);
    assert.equal(up.summary.result, 'succeeded');
    assert.equal(up.summary.resourceChanges?.create, INFRA_TYPES.length, JSON.stringify(up.summary.resourceChanges));
    assert.equal(up.outputs.bootstrapServers?.value, BOOTSTRAP);
    assert.deepEqual(
      (await namesIn()).filter((n) => OBJECTS.includes(n)),
      OBJECTS,
    );
    assert.equal(await cluster.kubectl(['get', 'statefulset', 'mqtt-kafka-bridge', '-n', NAMESPACE, '-o', 'jsonpath={.status.readyReplicas}']), '1');
    const endpoint = await cluster.kubectl(['get', 'kafkaconnector', 'mqtt-kafka-bridge', '-n', NAMESPACE, '-o', 'jsonpath={.spec.kafkaConnection.endpoint}']);
    assert.equal(endpoint, BOOTSTRAP, 'the pods read this custom resource');
    assert.deepEqual(kubelet.marked, [`${NAMESPACE}/mqtt-kafka-bridge-0`]);
  });

  it('destroy leaves none of the objects behind', async () => {
    assert.ok(infraStack, 'the first preview must have passed');
    const destroy = await infraStack.destroy({ onOutput: (s) => output.push(s) });
    assert.equal(destroy.summary.result, 'succeeded');
    assert.equal(destroy.summary.resourceChanges?.delete, INFRA_TYPES.length, JSON.stringify(destroy.summary.resourceChanges));
    // Left: what the namespace itself comes with.
    assert.deepEqual(await namesIn(), ['configmap/kube-root-ca.crt', 'serviceaccount/default']);
  });
});
