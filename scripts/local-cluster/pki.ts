import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of a throwaway cluster PKI, all in one directory. */
export interface ClusterPki {
  dir: string;
  caCert: string;
  caKey: string;
  /** kube-apiserver serving cert: IP 127.0.0.1, localhost and the in-cluster names. */
  apiserverCert: string;
  apiserverKey: string;
  /** CN=kubernetes-admin, O=system:masters. */
  adminCert: string;
  adminKey: string;
  /** CN=system:kube-controller-manager (bound by the bootstrap RBAC policy). */
  controllerManagerCert: string;
  controllerManagerKey: string;
  /** Service-account token signing key pair. */
  serviceAccountKey: string;
  serviceAccountPub: string;
}

export interface ClientCert {
  cert: string;
  key: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('openssl not found on PATH; run: apt-get install -y openssl');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

// EC P-256 throughout: fast to generate, and accepted by Go's TLS stack, by
// kube-apiserver for service-account signing (ES256) and by the CSR signer.
const genKey = (dir: string, file: string): Promise<void> =>
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], dir);

// A random serial per cert lets certs be signed in parallel (no shared
// serial file).
const serial = (): string => `0x${randomBytes(12).toString('hex')}`;

async function signCert(
  dir: string,
  name: string,
  subj: string,
  extensions: string,
): Promise<{ cert: string; key: string }> {
  await genKey(dir, `${name}.key`);
  fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
  await openssl(['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subj], dir);
  await openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', serial(),
      '-out', `${name}.crt`, '-days', '3650', '-extfile', `${name}.ext`],
    dir,
  );
  fs.rmSync(path.join(dir, `${name}.csr`));
  fs.rmSync(path.join(dir, `${name}.ext`));
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

const CLIENT_EXT = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';

/** Distinguished name for a Kubernetes user: CN is the user name, each O a group. */
function subjectFor(user: string, groups: string[]): string {
  const esc = (s: string): string => s.replace(/[/\\=+,]/g, (c) => `\\${c}`);
  return `${groups.map((g) => `/O=${esc(g)}`).join('')}/CN=${esc(user)}`;
}

/** Generates the cluster PKI in `dir` with the openssl CLI. */
export async function generateClusterPki(dir: string, serviceIp: string): Promise<ClusterPki> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  await Promise.all([genKey(dir, 'ca.key'), genKey(dir, 'sa.key')]);
  await Promise.all([
    openssl(
      ['req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-set_serial', serial(),
        '-subj', '/CN=mqtt-kafka-connector local cluster CA',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'],
      dir,
    ),
    openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir),
  ]);
  const sans = [
    'IP:127.0.0.1',
    `IP:${serviceIp}`,
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ].join(',');
  const [apiserver, admin, cm] = await Promise.all([
    signCert(
      dir,
      'apiserver',
      '/CN=kube-apiserver',
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans}\n`,
    ),
    signCert(dir, 'admin', subjectFor('kubernetes-admin', ['system:masters']), CLIENT_EXT),
    signCert(dir, 'controller-manager', subjectFor('system:kube-controller-manager', []), CLIENT_EXT),
  ]);
  const p = (f: string): string => path.join(dir, f);
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    apiserverCert: apiserver.cert,
    apiserverKey: apiserver.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    controllerManagerCert: cm.cert,
    controllerManagerKey: cm.key,
    serviceAccountKey: p('sa.key'),
    serviceAccountPub: p('sa.pub'),
  };
}

let clientSeq = 0;

/** A client cert for `user` in `groups`, signed by the cluster CA (for RBAC tests). */
export async function issueClientCert(pki: ClusterPki, user: string, groups: string[] = []): Promise<ClientCert> {
  const name = `client-${++clientSeq}-${user.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
  return signCert(pki.dir, name, subjectFor(user, groups), CLIENT_EXT);
}
