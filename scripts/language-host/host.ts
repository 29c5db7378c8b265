/**
 * A stand-in for `pulumi-language-nodejs`, Pulumi's Node.js language host: test infrastructure,
 * not shipped. The real host is a Go program (sdk/nodejs/cmd/pulumi-language-nodejs in the pulumi
 * repository, its own Go module) that the Go module proxy does not serve, so build-engines.sh
 * cannot build it; without a language host the built CLI can run only Automation API inline
 * programs. This file lets the real engine run this repository's project as shipped (Pulumi.yaml's
 * `main`, runtime options, stack config), through the same @pulumi/pulumi/cmd/run that the Go
 * host starts.
 *
 * Started by the engine as `pulumi-language-nodejs [--logtostderr] [-v=N] [--tracing URL]
 * <engine address>` (sdk/go/common/resource/plugin/langruntime_plugin.go: NewLanguageRuntime;
 * plugin.go: newPlugin, buildPluginArguments). Like every plugin it serves gRPC on a free loopback
 * port and prints that port as the first line of stdout; the engine reads it and connects.
 *
 * What it mirrors from the Go host (main.go in that module):
 * - Run: resolve `@pulumi/pulumi/cmd/run` from the program directory (locateModule, or
 *   PULUMI_LANGUAGE_NODEJS_RUN_PATH), then run `node [nodeargs] <run> --monitor --engine
 *   --organization --project --root-directory --stack --pwd <ProgramInfo.programDirectory>
 *   [--dry-run] --parallel [--tracing] <ProgramInfo.entryPoint> [args]` (constructArguments) with
 *   PULUMI_CONFIG (keys as `<ns>:config:<name>`, constructConfig), PULUMI_CONFIG_SECRET_KEYS,
 *   PULUMI_NODEJS_TYPESCRIPT=true unless the runtime option `typescript` is false (it defaults to
 *   true), PULUMI_NODEJS_TSCONFIG_PATH from the `tsconfig` option (parseOptions); wait, and answer
 *   with the error text (exit code 32 is `bail`: the program already reported its error).
 * - GetRequiredPackages: the resource plugins of every package.json under a node_modules/ below
 *   the program directory with `pulumi.resource: true` (getPackagesFromDir). For this repository's
 *   project (program directory infra/) that is none, as with the Go host; the engine then loads
 *   plugins when the program asks for them.
 * - GetPluginInfo, Handshake (records the engine address), Cancel (interrupts running programs),
 *   RuntimeOptionsPrompts (none), About.
 *
 * Left out, on purpose: the Go host's resource monitor proxy and `--sync` pipes (they serve only
 * synchronous invokes; without `--sync` the SDK calls the engine's monitor directly, as Automation
 * API inline programs do), InstallDependencies (a no-op here: `npm ci` in the repo installs them),
 * tracing/OpenTelemetry, debugger attach, the bun runtime, program/package code generation,
 * RunPlugin, and GetProgramDependencies (only `pulumi about` asks). Unimplemented RPCs answer
 * UNIMPLEMENTED, which the engine treats as "older host" where it has a fallback.
 *
 * Set MKC_LANGUAGE_HOST_LOG to a file path to get one line per RPC call there (which RPCs the
 * engine made, and the node command line of each Run).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { Empty } from 'google-protobuf/google/protobuf/empty_pb';
import * as langproto from '@pulumi/pulumi/proto/language_pb';
import { LanguageRuntimeService } from '@pulumi/pulumi/proto/language_grpc_pb';
import * as plugproto from '@pulumi/pulumi/proto/plugin_pb';

/** The exit code with which @pulumi/pulumi/cmd/run says it already logged an actionable error. */
const EXITED_AFTER_USER_ACTIONABLE_MESSAGE = 32;
/** Same as @pulumi/pulumi's grpcChannelOptions (runtime/settings.js). */
const MAX_RPC_MESSAGE_SIZE = 1024 * 1024 * 400;

const logFile = process.env.MKC_LANGUAGE_HOST_LOG;
function trace(line: string): void {
  if (logFile) fs.appendFileSync(logFile, `${new Date().toISOString()} pid=${process.pid} ${line}\n`);
}

interface HostFlags {
  engineAddress: string;
  tracing: string;
}

/** The engine's plugin arguments: logging flags, an optional `--tracing URL`, the engine address last. */
function parseArgs(argv: string[]): HostFlags {
  let tracing = '';
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--tracing' || a === '-tracing') tracing = argv[++i] ?? '';
    else if (a.startsWith('--tracing=') || a.startsWith('-tracing=')) tracing = a.slice(a.indexOf('=') + 1);
    else if (a.startsWith('-')) continue; // --logtostderr, -v=N, --logflow: Go glog flags
    else positional.push(a);
  }
  return { engineAddress: positional[0] ?? '', tracing };
}

/** Runtime options of Pulumi.yaml (`runtime.options`), as the Go host's parseOptions reads them. */
interface NodeOptions {
  typescript: boolean;
  tsconfigPath: string;
  nodeArgs: string[];
}

function parseOptions(info: langproto.ProgramInfo | undefined): NodeOptions {
  const raw = (info?.getOptions()?.toJavaScript() ?? {}) as Record<string, unknown>;
  const opts: NodeOptions = { typescript: true, tsconfigPath: '', nodeArgs: [] };
  if ('typescript' in raw) {
    if (typeof raw.typescript !== 'boolean') throw new Error('typescript option must be a boolean');
    opts.typescript = raw.typescript;
  }
  if ('tsconfig' in raw) {
    if (typeof raw.tsconfig !== 'string') throw new Error('tsconfigpath option must be a string');
    opts.tsconfigPath = raw.tsconfig;
  }
  if ('nodeargs' in raw) {
    if (typeof raw.nodeargs !== 'string') throw new Error('nodeargs option must be a string');
    // The Go host splits with shlex; plain whitespace splitting is enough for test projects.
    opts.nodeArgs = raw.nodeargs.split(/\s+/).filter(Boolean);
  }
  return opts;
}

/** constructConfig: `<namespace>:<name>` keys become `<namespace>:config:<name>` (the SDK reads both). */
function configJson(req: langproto.RunRequest): string {
  const out: Record<string, string> = {};
  for (const [k, v] of req.getConfigMap().entries()) {
    const i = k.indexOf(':');
    if (i < 0) throw new Error(`config key ${JSON.stringify(k)} has no namespace`);
    const ns = k.slice(0, i);
    const rest = k.slice(i + 1);
    out[`${ns}:config:${rest.startsWith('config:') ? rest.slice('config:'.length) : rest}`] = v;
  }
  return JSON.stringify(out);
}

/** locateModule: `require.resolve` of the run script from the program directory. */
function locateRunScript(programDirectory: string): string {
  const mod = process.env.PULUMI_LANGUAGE_NODEJS_RUN_PATH || '@pulumi/pulumi/cmd/run';
  try {
    return require.resolve(mod, { paths: [programDirectory] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new Error('It looks like the Pulumi SDK has not been installed. Have you run pulumi install?');
    }
    throw err;
  }
}

/** getPackagesFromDir: `pulumi.resource` packages in node_modules/ below `dir` (symlinks followed once). */
function packagesFromDir(dir: string, inNodeModules: boolean, visited: Set<string>): plugproto.PackageDependency[] {
  dir = path.resolve(dir);
  if (visited.has(dir)) return [];
  visited.add(dir);
  const found: plugproto.PackageDependency[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    let full = path.join(dir, entry.name);
    let isDir = entry.isDirectory();
    if (entry.isSymbolicLink()) {
      try {
        full = fs.realpathSync(full);
        isDir = fs.statSync(full).isDirectory();
      } catch {
        continue;
      }
    }
    if (isDir) {
      if (fs.existsSync(path.join(full, 'PulumiPolicy.yaml'))) continue; // a policy pack's plugins are not the program's
      found.push(...packagesFromDir(full, inNodeModules || path.basename(dir) === 'node_modules', visited));
    } else if (inNodeModules && entry.name === 'package.json') {
      let pkg: { name?: string; version?: string; pulumi?: { resource?: boolean; name?: string; version?: string; server?: string } };
      try {
        pkg = JSON.parse(fs.readFileSync(full, 'utf8')) as typeof pkg;
      } catch {
        continue;
      }
      if (!pkg.pulumi?.resource) continue;
      const name = pkg.pulumi.name || (pkg.name?.startsWith('@pulumi/') ? pkg.name.slice('@pulumi/'.length) : '');
      const version = pkg.pulumi.version || pkg.version || '';
      if (!name || !version) continue; // the Go host reports these as errors and skips them too
      const dep = new plugproto.PackageDependency();
      dep.setName(name);
      dep.setKind('resource');
      dep.setVersion(version.startsWith('v') ? version : `v${version}`);
      dep.setServer(pkg.pulumi.server ?? '');
      found.push(dep);
    }
  }
  return found;
}

function sdkVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(require.resolve('@pulumi/pulumi/package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

class LanguageHost {
  private readonly running = new Set<ChildProcess>();

  constructor(private flags: HostFlags) {}

  handshake(req: langproto.LanguageHandshakeRequest): langproto.LanguageHandshakeResponse {
    this.flags = { ...this.flags, engineAddress: req.getEngineAddress() };
    return new langproto.LanguageHandshakeResponse();
  }

  getRequiredPackages(req: langproto.GetRequiredPackagesRequest): langproto.GetRequiredPackagesResponse {
    const dir = req.getInfo()?.getProgramDirectory() ?? '';
    const resp = new langproto.GetRequiredPackagesResponse();
    // Errors while walking are logged and ignored by the Go host; so here.
    try {
      resp.setPackagesList(dir ? packagesFromDir(dir, false, new Set()) : []);
    } catch (err) {
      trace(`GetRequiredPackages walk error: ${(err as Error).message}`);
    }
    trace(`GetRequiredPackages ${dir} -> [${resp.getPackagesList().map((p) => `${p.getName()}@${p.getVersion()}`).join(', ')}]`);
    return resp;
  }

  /** Run the program to completion; resolves the RunResponse (program errors are data, not RPC errors). */
  async run(req: langproto.RunRequest): Promise<langproto.RunResponse> {
    const resp = new langproto.RunResponse();
    const info = req.getInfo();
    const programDirectory = info?.getProgramDirectory() || req.getPwd();
    let opts: NodeOptions;
    let runScript: string;
    let config: string;
    try {
      opts = parseOptions(info);
      runScript = locateRunScript(programDirectory);
      config = configJson(req);
    } catch (err) {
      resp.setError((err as Error).message);
      return resp;
    }

    // constructArguments, in the Go host's order; empty values are left out.
    const args = [...opts.nodeArgs, runScript];
    const flag = (name: string, value: string): void => {
      if (value) args.push(`--${name}`, value);
    };
    flag('monitor', req.getMonitorAddress());
    flag('engine', this.flags.engineAddress);
    flag('organization', req.getOrganization());
    flag('project', req.getProject());
    flag('root-directory', info?.getRootDirectory() ?? '');
    flag('stack', req.getStack());
    flag('pwd', programDirectory);
    if (req.getDryrun()) args.push('--dry-run');
    flag('parallel', String(req.getParallel()));
    flag('tracing', this.flags.tracing);
    args.push(info?.getEntryPoint() || req.getProgram() || '.', ...req.getArgsList());

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PULUMI_CONFIG: config,
      PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList() ?? []),
    };
    if (opts.typescript) env.PULUMI_NODEJS_TYPESCRIPT = 'true';
    if (opts.tsconfigPath) env.PULUMI_NODEJS_TSCONFIG_PATH = opts.tsconfigPath;
    trace(`Run dryRun=${req.getDryrun()} typescript=${opts.typescript}: ${process.execPath} ${args.join(' ')}`);

    // The Go host runs the `node` it found on PATH; the wrapper script started this process with it.
    // Working directory: inherited (run.js changes to --pwd itself). Output goes to the engine,
    // which shows the program's stdout and stderr.
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
      const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
      this.running.add(child);
      child.once('error', (spawnError) => {
        this.running.delete(child);
        resolve({ code: null, signal: null, spawnError });
      });
      child.once('exit', (code, signal) => {
        this.running.delete(child);
        resolve({ code, signal });
      });
    });
    trace(`Run exit code=${result.code} signal=${result.signal}`);

    if (result.spawnError) {
      resp.setError(`Problem executing program (could not run language executor): ${result.spawnError.message}`);
    } else if (result.code === EXITED_AFTER_USER_ACTIONABLE_MESSAGE) {
      resp.setBail(true);
    } else if (result.code !== 0) {
      // Go's ExitCode() is -1 for a process ended by a signal.
      resp.setError(`Program exited with non-zero exit code: ${result.code ?? -1}`);
    }
    return resp;
  }

  getPluginInfo(): plugproto.PluginInfo {
    // The Go host reports the version it was built with, the CLI's; the SDK's is the same here (3.248.0).
    const info = new plugproto.PluginInfo();
    info.setVersion(sdkVersion());
    return info;
  }

  cancel(): Empty {
    for (const child of this.running) child.kill('SIGINT');
    return new Empty();
  }

  runtimeOptionsPrompts(): langproto.RuntimeOptionsResponse {
    return new langproto.RuntimeOptionsResponse();
  }

  about(): langproto.AboutResponse {
    const resp = new langproto.AboutResponse();
    resp.setExecutable(process.execPath);
    resp.setVersion(process.version);
    return resp;
  }
}

/** A unary handler that logs the call and turns a thrown error into an UNKNOWN status. */
function unary<Req, Res>(name: string, fn: (req: Req) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    trace(name);
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (err: Error) => callback({ code: grpc.status.UNKNOWN, details: err.message }),
      );
  };
}

function main(): void {
  const flags = parseArgs(process.argv.slice(2));
  const host = new LanguageHost(flags);
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_RPC_MESSAGE_SIZE });
  // Methods not listed answer UNIMPLEMENTED (grpc-js fills them in).
  server.addService(LanguageRuntimeService, {
    handshake: unary('Handshake', (req: langproto.LanguageHandshakeRequest) => host.handshake(req)),
    getRequiredPackages: unary('GetRequiredPackages', (req: langproto.GetRequiredPackagesRequest) => host.getRequiredPackages(req)),
    run: unary('Run', (req: langproto.RunRequest) => host.run(req)),
    getPluginInfo: unary('GetPluginInfo', () => host.getPluginInfo()),
    cancel: unary('Cancel', () => host.cancel()),
    runtimeOptionsPrompts: unary('RuntimeOptionsPrompts', () => host.runtimeOptionsPrompts()),
    about: unary('About', () => host.about()),
    installDependencies: (call: grpc.ServerWritableStream<langproto.InstallDependenciesRequest, langproto.InstallDependenciesResponse>) => {
      trace('InstallDependencies');
      const msg = new langproto.InstallDependenciesResponse();
      msg.setStdout(Buffer.from('pulumi-language-nodejs (test stand-in): dependencies come from npm ci in the repository; nothing to install\n'));
      call.write(msg);
      call.end();
    },
  });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      process.stderr.write(`could not start language host RPC server: ${err.message}\n`);
      process.exit(1);
    }
    trace(`listening on ${port}, engine ${flags.engineAddress || '(none)'}`);
    // The port, alone on the first line of stdout, is how the engine finds us.
    process.stdout.write(`${port}\n`);
  });

  // The engine stops plugins by interrupting their process group (SIGINT, then SIGKILL after 5 s).
  // The Go host also health-checks the engine; here: exit once the engine (our parent) is gone.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) {
      host.cancel();
      process.exit(0);
    }
  }, 1000).unref();
}

main();
