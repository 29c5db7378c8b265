import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Versions built by scripts/engines/build-engines.sh; keep the two in sync. */
export const KUBERNETES_VERSION = 'v1.37.2';
export const PULUMI_VERSION = 'v3.248.0';
export const PULUMI_KUBERNETES_VERSION = '4.25.0';
/** Debian's etcd-server package installs it here. */
export const ETCD_BINARY = '/usr/bin/etcd';

export type EnginePiece = 'kubernetes' | 'pulumi' | 'provider';

/** Same location rule as scripts/engines/build-engines.sh; keep the two in sync. */
export function enginesCacheDir(): string {
  if (process.env.ENGINES_CACHE_DIR) return process.env.ENGINES_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'mqtt-kafka-connector', 'engines');
}

const PIECES: Record<EnginePiece, { dir: string; binaries: string[] }> = {
  kubernetes: { dir: `kubernetes-${KUBERNETES_VERSION}`, binaries: ['kube-apiserver', 'kube-controller-manager', 'kubectl'] },
  pulumi: { dir: `pulumi-${PULUMI_VERSION}`, binaries: ['pulumi'] },
  provider: { dir: `pulumi-kubernetes-v${PULUMI_KUBERNETES_VERSION}`, binaries: ['pulumi-resource-kubernetes'] },
};

/** Root of one built piece (holds bin/ and the .built marker). */
export function pieceDir(piece: EnginePiece): string {
  return path.join(enginesCacheDir(), PIECES[piece].dir);
}

/** bin/ of one built piece. */
export function pieceBinDir(piece: EnginePiece): string {
  return path.join(pieceDir(piece), 'bin');
}

function buildScript(): string {
  // Works from scripts/local-cluster (ts sources) and dist/scripts/local-cluster.
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'scripts', 'engines', 'build-engines.sh');
    if (fs.existsSync(candidate)) return candidate;
  }
  return 'scripts/engines/build-engines.sh';
}

/**
 * Absolute path of an engine binary, or an error naming what is missing and
 * the one command that builds it. Nothing is built implicitly: a cold build
 * takes many minutes and belongs in CI's set-up step, not inside a test.
 */
export function engineBinary(piece: EnginePiece, name: string): string {
  const dir = pieceDir(piece);
  const bin = path.join(dir, 'bin', name);
  if (!fs.existsSync(path.join(dir, '.built')) || !isExecutable(bin)) {
    throw new Error(
      `${name} (${piece} engine) is not built in ${dir}; run: bash ${buildScript()} ${piece}`,
    );
  }
  return bin;
}

/** Throws the same kind of error for every missing piece at once. */
export function requireEngines(pieces: EnginePiece[]): void {
  const missing = pieces.filter((p) => {
    try {
      for (const b of PIECES[p].binaries) engineBinary(p, b);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) {
    throw new Error(
      `engines not built in ${enginesCacheDir()}: ${missing.join(', ')}; run: bash ${buildScript()} ${missing.join(' ')}`,
    );
  }
}

/** /usr/bin/etcd, or an error naming the Debian package. */
export function etcdBinary(): string {
  const candidates = [process.env.ETCD_BINARY, ETCD_BINARY].filter((c): c is string => !!c);
  for (const c of candidates) if (isExecutable(c)) return c;
  throw new Error(`etcd not found at ${candidates.join(' or ')}; run: apt-get install -y etcd-server`);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
