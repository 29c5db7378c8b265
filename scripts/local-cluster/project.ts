import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LocalWorkspaceOptions } from '@pulumi/pulumi/automation';
import { PulumiCommand } from '@pulumi/pulumi/automation';
import { pieceDir } from './engines';
import type { PulumiEnv } from './pulumi-env';

/**
 * Helpers to run this repository's own Pulumi project (Pulumi.yaml, infra/) with the real engine,
 * as opposed to Automation API inline programs: the engine then needs a Node language host, and
 * scripts/language-host/ holds a stand-in for the Go one (see host.ts there).
 */

/** The repository root: the nearest ancestor of this file holding Pulumi.yaml and package.json. */
export function repoRoot(): string {
  // Works from scripts/local-cluster (ts sources) and dist/scripts/local-cluster.
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'Pulumi.yaml')) && fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no Pulumi.yaml with a package.json above ${__dirname}`);
}

/**
 * The directory holding the `pulumi-language-nodejs` stand-in (scripts/language-host/), or an
 * error naming the command that builds its compiled server.
 */
export function languageHostDir(): string {
  const dir = path.join(repoRoot(), 'scripts', 'language-host');
  const compiled = path.join(repoRoot(), 'dist', 'scripts', 'language-host', 'host.js');
  if (!fs.existsSync(path.join(dir, 'pulumi-language-nodejs'))) throw new Error(`${dir}/pulumi-language-nodejs is missing`);
  if (!fs.existsSync(compiled)) throw new Error(`${compiled} is missing; run: npx tsc -p tsconfig.json`);
  return dir;
}

/** `penv.env` with the language host stand-in first on PATH, where the engine looks for `pulumi-language-<runtime>`. */
export function languageHostEnv(penv: PulumiEnv, extra: Record<string, string> = {}): Record<string, string> {
  return { ...penv.env, PATH: [languageHostDir(), penv.env.PATH].join(path.delimiter), ...extra };
}

/** LocalWorkspaceOptions for a project directory (a local program, not an inline one), with the language host on PATH. */
export async function projectWorkspaceOptions(
  penv: PulumiEnv,
  workDir: string,
  extraEnv: Record<string, string> = {},
): Promise<LocalWorkspaceOptions> {
  const pulumiCommand = await PulumiCommand.get({ root: pieceDir('pulumi') });
  return { envVars: languageHostEnv(penv, extraEnv), workDir, pulumiHome: penv.homeDir, pulumiCommand };
}

export interface LinkedProjectOptions {
  /** The repository to mirror. Default: repoRoot(). */
  repoRoot?: string;
  /** Rewrite Pulumi.yaml's text before it is written into the copy (e.g. another `main`). */
  editProjectFile?: (text: string) => string;
  /** Top-level entries to copy (recursively) instead of linking, so a test can edit them, e.g. ['infra']. */
  copy?: string[];
}

export interface LinkedProject {
  /** The project directory: Pulumi.yaml plus a symlink to every other top-level entry of the repo. */
  readonly dir: string;
  /** Remove the directory (the links, not what they point to). */
  cleanup(): void;
}

/**
 * A temp project directory that is the repository as far as Pulumi and Node are concerned, without
 * writing into it: Pulumi.yaml is copied (optionally edited) and every other top-level entry is a
 * symlink, so `main: infra/index.ts` resolves, node_modules resolve and imports like
 * `../components` work, while stack files (Pulumi.<stack>.yaml) are written into the temp dir.
 * The repo's own stack files (Pulumi.*.yaml) and .git are left out.
 */
export function linkProject(opts: LinkedProjectOptions = {}): LinkedProject {
  const root = opts.repoRoot ?? repoRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-project-'));
  const cleanup = (): void => fs.rmSync(dir, { recursive: true, force: true });
  const copy = new Set(opts.copy ?? []);
  try {
    for (const name of fs.readdirSync(root)) {
      if (name === '.git' || /^Pulumi\..+\.ya?ml$/.test(name)) continue;
      const src = path.join(root, name);
      const dst = path.join(dir, name);
      if (name === 'Pulumi.yaml') {
        const text = fs.readFileSync(src, 'utf8');
        fs.writeFileSync(dst, opts.editProjectFile ? opts.editProjectFile(text) : text);
      } else if (copy.has(name)) {
        fs.cpSync(src, dst, { recursive: true });
      } else {
        fs.symlinkSync(src, dst);
      }
    }
  } catch (err) {
    cleanup();
    throw err;
  }
  return { dir, cleanup };
}
