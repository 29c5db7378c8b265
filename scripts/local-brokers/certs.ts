import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of a throwaway test PKI. */
export interface CertPaths {
  dir: string;
  /** CA certificate that signed both server and client certs. */
  caCert: string;
  /** Server cert valid for IP 127.0.0.1 and DNS localhost. */
  serverCert: string;
  serverKey: string;
  /** Client cert with CN=connector (mTLS identity). */
  clientCert: string;
  clientKey: string;
}

let cached: Promise<CertPaths> | undefined;

/** Generates the test PKI once per process with the openssl CLI. */
export function testCerts(): Promise<CertPaths> {
  cached ??= generate().catch((err: unknown) => {
    cached = undefined; // let a later call retry, e.g. after installing openssl
    throw err;
  });
  return cached;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('openssl not found on PATH; run scripts/ensure-deps.sh (npm test and npm run demo run it first)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

async function generate(): Promise<CertPaths> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-certs-'));
  // Throwaway keys: remove them with the process that made them.
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const days = '3650';
  // EC keys: much faster to generate than RSA, and supported by the JVM,
  // librdkafka, mosquitto and Node alike. Keys come out as unencrypted
  // PKCS#8, which Kafka's PEM key store requires.
  const key = (file: string): Promise<void> =>
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], dir);

  await Promise.all([key('ca.key'), key('server.key'), key('tls.key')]);
  await openssl(
    ['req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', days, '-subj', '/CN=mqtt-kafka-connector test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  fs.writeFileSync(
    path.join(dir, 'server.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  fs.writeFileSync(
    path.join(dir, 'client.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
  );
  const sign = async (name: string, keyFile: string, subj: string, ext: string): Promise<void> => {
    await openssl(['req', '-new', '-key', keyFile, '-out', `${name}.csr`, '-subj', subj], dir);
    await openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
        '-out', `${name}.crt`, '-days', days, '-extfile', ext],
      dir,
    );
  };
  // Sequential: both would otherwise race on the CA serial file.
  await sign('server', 'server.key', '/CN=localhost', 'server.ext');
  await sign('tls', 'tls.key', '/CN=connector', 'client.ext');

  const p = (f: string): string => path.join(dir, f);
  return {
    dir,
    caCert: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('tls.crt'),
    clientKey: p('tls.key'),
  };
}
