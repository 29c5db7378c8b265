import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { BrokerProcess } from '../local-brokers/broker-process';
import { freePorts } from '../local-brokers/ports';
import { sleep } from '../local-brokers/proc';
import { engineBinary, etcdBinary, requireEngines } from './engines';
import { ClusterPki, generateClusterPki, issueClientCert } from './pki';
import { writeKubeconfig } from './kubeconfig';

const HOST = '127.0.0.1';
const SERVICE_CIDR = '10.96.0.0/12';
/** First address of SERVICE_CIDR: the `kubernetes` Service's ClusterIP. */
const SERVICE_IP = '10.96.0.1';

export interface LocalClusterOptions {
  /** Where PKI, etcd data, kubeconfigs and logs live. Default: a fresh temp dir, removed by stop(). */
  dataDir?: string;
  /** Start kube-controller-manager (garbage collector, service accounts, ...). Default true. */
  controllerManager?: boolean;
  /** Extra kube-apiserver flags, appended after the defaults (a later flag wins). */
  apiserverArgs?: string[];
  /** Extra kube-controller-manager flags, appended after the defaults. */
  controllerManagerArgs?: string[];
  /** Readiness bound for each process start (and restarts). Default 90 000. */
  startTimeoutMs?: number;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Default 60 000. */
  timeoutMs?: number;
  /** Another kubeconfig (e.g. from kubeconfigFor) instead of the admin one. */
  kubeconfig?: string;
}

/** kubectl exited non-zero; stderr holds the API server's message. */
export class KubectlError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`kubectl ${args.join(' ')} failed (exit ${code}): ${stderr.trim() || stdout.trim()}`);
  }
}

export interface LocalCluster {
  /** Path of the admin kubeconfig (user kubernetes-admin, group system:masters). */
  readonly kubeconfig: string;
  /** The admin kubeconfig's text, with certs embedded (e.g. for `new k8s.Provider(..., { kubeconfig })`). */
  readonly kubeconfigYaml: string;
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** http://127.0.0.1:PORT */
  readonly etcdEndpoint: string;
  readonly dataDir: string;
  readonly pki: ClusterPki;
  readonly logs: { etcd: string; apiserver: string; controllerManager?: string };
  /** Run kubectl against the cluster; resolves stdout, rejects with a KubectlError. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<string>;
  /**
   * Write a kubeconfig for another identity (client cert CN=user, O=groups), for
   * RBAC tests. Returns its path; it has no rights until a (Cluster)RoleBinding grants some.
   */
  kubeconfigFor(user: string, groups?: string[]): Promise<string>;
  /** Stop kube-apiserver and start it again on the same port and etcd; resolves once /readyz is ok. */
  restartApiServer(): Promise<void>;
  /** Stop every process, then remove the data dir if the harness created it. */
  stop(): Promise<void>;
}

interface TlsClient {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
}

function request(url: string, tls: TlsClient | undefined, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ...(tls ?? {}), timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 4096) body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

async function expectOk(url: string, tls: TlsClient | undefined): Promise<void> {
  const { status, body } = await request(url, tls, 3_000);
  if (status !== 200) throw new Error(`GET ${url}: HTTP ${status} ${body.trim().split('\n').slice(-5).join(' | ')}`);
}

class Etcd extends BrokerProcess {
  readonly endpoint: string;
  readonly logFile: string;

  constructor(
    dataDir: string,
    clientPort: number,
    private readonly peerPort: number,
    private readonly startTimeoutMs: number,
  ) {
    super(dataDir, false, 10_000);
    this.endpoint = `http://${HOST}:${clientPort}`;
    this.logFile = path.join(dataDir, 'etcd.log');
  }

  async start(): Promise<void> {
    const peer = `http://${HOST}:${this.peerPort}`;
    const args = [
      '--name=local',
      `--data-dir=${path.join(this.dataDir, 'etcd')}`,
      `--listen-client-urls=${this.endpoint}`,
      `--advertise-client-urls=${this.endpoint}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=local=${peer}`,
      '--initial-cluster-state=new',
      '--logger=zap',
      '--log-level=warn',
      // A test cluster's data is throwaway: keep the backend small and compacted.
      '--quota-backend-bytes=1073741824',
      '--auto-compaction-mode=revision',
      '--auto-compaction-retention=1000',
    ];
    await this.launch(`etcd on ${this.endpoint}`, etcdBinary(), args, this.logFile, this.startTimeoutMs, async () => {
      const { status, body } = await request(`${this.endpoint}/health`, undefined, 2_000);
      if (status !== 200 || !body.includes('"health":"true"')) throw new Error(`etcd /health: HTTP ${status} ${body}`);
    });
  }
}

class ApiServer extends BrokerProcess {
  readonly logFile: string;

  constructor(
    dataDir: string,
    private readonly args: string[],
    private readonly server: string,
    private readonly tls: TlsClient,
    private readonly startTimeoutMs: number,
  ) {
    super(dataDir, false, 30_000);
    this.logFile = path.join(dataDir, 'kube-apiserver.log');
  }

  async start(): Promise<void> {
    await this.launch(
      `kube-apiserver on ${this.server}`,
      engineBinary('kubernetes', 'kube-apiserver'),
      this.args,
      this.logFile,
      this.startTimeoutMs,
      () => expectOk(`${this.server}/readyz`, this.tls),
    );
  }
}

class ControllerManager extends BrokerProcess {
  readonly logFile: string;

  constructor(
    dataDir: string,
    private readonly args: string[],
    private readonly healthUrl: string,
    private readonly startTimeoutMs: number,
  ) {
    super(dataDir, false, 15_000);
    this.logFile = path.join(dataDir, 'kube-controller-manager.log');
  }

  async start(): Promise<void> {
    await this.launch(
      `kube-controller-manager (${this.healthUrl})`,
      engineBinary('kubernetes', 'kube-controller-manager'),
      this.args,
      this.logFile,
      this.startTimeoutMs,
      // It serves a self-signed cert of its own, and /healthz needs no credentials.
      () => expectOk(this.healthUrl, { rejectUnauthorized: false }),
    );
  }
}

/**
 * Start etcd, kube-apiserver and kube-controller-manager on free loopback
 * ports, write an admin kubeconfig and resolve once the API server's /readyz
 * is ok and the controller manager has created the `default` service account.
 * Needs the engines built by scripts/engines/build-engines.sh and Debian's
 * etcd-server package; the error says which command fixes what is missing.
 */
export async function startLocalCluster(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
  const withCm = opts.controllerManager ?? true;
  requireEngines(['kubernetes']);
  etcdBinary();
  const ownsDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-cluster-'));
  fs.mkdirSync(dataDir, { recursive: true });
  const startTimeoutMs = opts.startTimeoutMs ?? 90_000;

  const started: BrokerProcess[] = [];
  const cleanup = async (): Promise<void> => {
    for (const p of [...started].reverse()) await p.stop().catch(() => undefined);
    if (ownsDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const [pki, [etcdPort, peerPort, apiPort, cmPort]] = await Promise.all([
      generateClusterPki(path.join(dataDir, 'pki'), SERVICE_IP),
      freePorts(4),
    ]);
    const server = `https://${HOST}:${apiPort}`;
    const adminTls: TlsClient = {
      ca: fs.readFileSync(pki.caCert),
      cert: fs.readFileSync(pki.adminCert),
      key: fs.readFileSync(pki.adminKey),
    };

    const etcd = new Etcd(dataDir, etcdPort, peerPort, startTimeoutMs);
    started.push(etcd);
    await etcd.start();

    const apiArgs = [
      `--etcd-servers=${etcd.endpoint}`,
      `--bind-address=${HOST}`,
      `--advertise-address=${HOST}`,
      `--secure-port=${apiPort}`,
      `--cert-dir=${path.join(dataDir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--authorization-mode=RBAC',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      // Privileged containers are allowed by the cluster, so Pod Security
      // admission (on by default) is what rejects them in restricted namespaces.
      '--allow-privileged=true',
      // The Endpoints of the `kubernetes` Service would name 127.0.0.1, which
      // Endpoints validation rejects; nothing in this cluster needs them.
      '--endpoint-reconciler-type=none',
      // On SIGTERM, end open watches (the controller manager's) after 2 s;
      // otherwise the HTTP server waits for them until --request-timeout
      // (60 s) and restartApiServer() takes half a minute.
      '--shutdown-watch-termination-grace-period=2s',
      '--profiling=false',
      '--v=1',
      ...(opts.apiserverArgs ?? []),
    ];
    const apiserver = new ApiServer(dataDir, apiArgs, server, adminTls, startTimeoutMs);
    started.push(apiserver);
    await apiserver.start();

    const kubeconfig = path.join(dataDir, 'admin.kubeconfig');
    const kubeconfigText = writeKubeconfig(kubeconfig, {
      server,
      caCertFile: pki.caCert,
      clientCertFile: pki.adminCert,
      clientKeyFile: pki.adminKey,
      user: 'kubernetes-admin',
    });
    const kubectlBin = engineBinary('kubernetes', 'kubectl');
    const kubectl = (args: string[], kopts: KubectlOptions = {}): Promise<string> =>
      runKubectl(kubectlBin, kopts.kubeconfig ?? kubeconfig, args, kopts);

    let controllerManager: ControllerManager | undefined;
    if (withCm) {
      const cmKubeconfig = path.join(dataDir, 'controller-manager.kubeconfig');
      writeKubeconfig(cmKubeconfig, {
        server,
        caCertFile: pki.caCert,
        clientCertFile: pki.controllerManagerCert,
        clientKeyFile: pki.controllerManagerKey,
        user: 'system:kube-controller-manager',
      });
      const cmArgs = [
        `--kubeconfig=${cmKubeconfig}`,
        `--authentication-kubeconfig=${cmKubeconfig}`,
        `--authorization-kubeconfig=${cmKubeconfig}`,
        `--bind-address=${HOST}`,
        `--secure-port=${cmPort}`,
        `--cert-dir=${path.join(dataDir, 'controller-manager-certs')}`,
        '--leader-elect=false',
        // Each controller acts as its own service account (as in a real
        // cluster), e.g. the garbage collector that foreground deletion needs.
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--root-ca-file=${pki.caCert}`,
        `--cluster-signing-cert-file=${pki.caCert}`,
        `--cluster-signing-key-file=${pki.caKey}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--profiling=false',
        '--v=1',
        ...(opts.controllerManagerArgs ?? []),
      ];
      controllerManager = new ControllerManager(
        dataDir,
        cmArgs,
        `https://${HOST}:${cmPort}/healthz`,
        startTimeoutMs,
      );
      started.push(controllerManager);
      await controllerManager.start();
      // Namespaces get their `default` service account from the controller
      // manager; Pods cannot be created before it exists.
      await waitFor('the default/default service account', startTimeoutMs, () =>
        kubectl(['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'name'], { timeoutMs: 10_000 }),
      );
    }

    let restarting: Promise<void> | undefined;
    return {
      kubeconfig,
      kubeconfigYaml: kubeconfigText,
      server,
      etcdEndpoint: etcd.endpoint,
      dataDir,
      pki,
      logs: { etcd: etcd.logFile, apiserver: apiserver.logFile, controllerManager: controllerManager?.logFile },
      kubectl,
      async kubeconfigFor(user: string, groups: string[] = []): Promise<string> {
        const c = await issueClientCert(pki, user, groups);
        const file = path.join(dataDir, `${path.basename(c.cert, '.crt')}.kubeconfig`);
        writeKubeconfig(file, { server, caCertFile: pki.caCert, clientCertFile: c.cert, clientKeyFile: c.key, user });
        return file;
      },
      restartApiServer(): Promise<void> {
        restarting ??= (async () => {
          await apiserver.stop();
          await apiserver.start();
        })().finally(() => (restarting = undefined));
        return restarting;
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function runKubectl(bin: string, kubeconfig: string, args: string[], opts: KubectlOptions): Promise<string> {
  const fullArgs = [`--kubeconfig=${kubeconfig}`, ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(
      bin,
      fullArgs,
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, KUBECONFIG: kubeconfig } },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
          const code = e.killed ? `killed after ${opts.timeoutMs ?? 60_000} ms` : (e.code ?? null);
          reject(new KubectlError(args, code, stdout, stderr));
        } else {
          resolve(stdout);
        }
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Retry `probe` every 250 ms until it resolves or `timeoutMs` passes. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    try {
      return await probe();
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last error: ${last})`);
}
