import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LocalWorkspaceOptions } from '@pulumi/pulumi/automation';
import { PulumiCommand } from '@pulumi/pulumi/automation';
import { engineBinary, pieceBinDir, pieceDir, requireEngines } from './engines';

export interface PulumiEnvOptions {
  /** Root for the backend, PULUMI_HOME and the workspace dir. Default: a fresh temp dir, removed by cleanup(). */
  dir?: string;
  /** PULUMI_CONFIG_PASSPHRASE for the stack's secrets. Default: a fixed test passphrase. */
  passphrase?: string;
  /** Also export KUBECONFIG, so a default provider (one not given explicitly) targets this cluster too. */
  kubeconfig?: string;
}

export interface PulumiEnv {
  /**
   * Environment for the pulumi CLI (LocalWorkspaceOptions.envVars): PATH with the
   * built pulumi and pulumi-resource-kubernetes first, a private PULUMI_HOME, a
   * file:// backend, the passphrase, and no update checks or plugin downloads.
   */
  readonly env: Record<string, string>;
  /** The built CLI's root (bin/pulumi below it), for PulumiCommand.get({ root }). */
  readonly pulumiRoot: string;
  readonly pulumiBinary: string;
  readonly providerBinary: string;
  readonly backendDir: string;
  readonly homeDir: string;
  /** A workspace dir for LocalWorkspace (inline programs otherwise leave a temp dir behind). */
  readonly workDir: string;
  /** envVars, workDir and a PulumiCommand for the built CLI, ready for LocalWorkspace.create*(). */
  workspaceOptions(): Promise<LocalWorkspaceOptions>;
  /** Remove the dirs this helper created. */
  cleanup(): void;
}

/**
 * How the Pulumi engine is made to use the locally built provider: the
 * @pulumi/kubernetes npm SDK (4.34.x) asks for a kubernetes plugin of its own
 * version, which cannot be downloaded here. The engine takes any
 * `pulumi-resource-<name>` found on PATH before its plugin cache, whatever the
 * version asked for ("ambient" plugins), unless PULUMI_IGNORE_AMBIENT_PLUGINS
 * is set. So PATH gets the built provider's bin/ and that variable is removed.
 * PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION makes a missing plugin an
 * immediate error instead of a download attempt.
 */
export function pulumiEnv(opts: PulumiEnvOptions = {}): PulumiEnv {
  requireEngines(['pulumi', 'provider']);
  const pulumiBinary = engineBinary('pulumi', 'pulumi');
  const providerBinary = engineBinary('provider', 'pulumi-resource-kubernetes');
  const ownsDir = !opts.dir;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-pulumi-'));
  const backendDir = path.join(dir, 'backend');
  const homeDir = path.join(dir, 'home');
  const workDir = path.join(dir, 'workspace');
  for (const d of [backendDir, homeDir, workDir]) fs.mkdirSync(d, { recursive: true });

  const inherited = { ...process.env };
  delete inherited.PULUMI_IGNORE_AMBIENT_PLUGINS;
  delete inherited.PULUMI_ACCESS_TOKEN;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(inherited)) if (v !== undefined) env[k] = v;
  Object.assign(env, {
    PATH: [pieceBinDir('pulumi'), pieceBinDir('provider'), process.env.PATH ?? '/usr/bin:/bin'].join(path.delimiter),
    PULUMI_HOME: homeDir,
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: opts.passphrase ?? 'local-cluster-test-passphrase',
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
  });
  if (opts.kubeconfig) env.KUBECONFIG = opts.kubeconfig;

  return {
    env,
    pulumiRoot: pieceDir('pulumi'),
    pulumiBinary,
    providerBinary,
    backendDir,
    homeDir,
    workDir,
    async workspaceOptions(): Promise<LocalWorkspaceOptions> {
      const pulumiCommand = await PulumiCommand.get({ root: pieceDir('pulumi') });
      return { envVars: env, workDir, pulumiHome: homeDir, pulumiCommand };
    },
    cleanup(): void {
      if (ownsDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
