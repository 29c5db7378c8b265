/**
 * The npm package has two audiences: Pulumi programs import the components (`.`), and the connector
 * runs from `./connector` (the CLI module, also the `bin`). A Pulumi program must not load the
 * connector's runtime: kafkajs, mqtt.js, the native lz4 codec and the rest are not its
 * dependencies' business, and some of them patch globals or load native code at require time.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const REPO = join(__dirname, "..", "..", "..");
const PACKAGE_NAME = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { name: string }).name;

/** The connector's runtime dependencies (package.json), none of which the components may load. */
const CONNECTOR_RUNTIME_MODULES = [
  "kafkajs",
  "kafkajs-snappy",
  "mqtt",
  "lz4-napi",
  "@antoniomuso/lz4-napi-", // lz4-napi's per-platform native packages
  "fzstd",
  "@azure/identity",
  "pino",
  "prom-client",
] as const;

/** Which of CONNECTOR_RUNTIME_MODULES the given module file paths belong to. */
function runtimeModulesIn(paths: readonly string[]): string[] {
  const found = new Set<string>();
  for (const p of paths) {
    const norm = p.replace(/\\/g, "/");
    for (const name of CONNECTOR_RUNTIME_MODULES) {
      const prefix = name.endsWith("-") ? `/node_modules/${name}` : `/node_modules/${name}/`;
      if (norm.includes(prefix)) found.add(name);
    }
  }
  return [...found].sort();
}

/** The connector's own files a module list holds, relative to dist/connector/. */
function connectorFilesIn(paths: readonly string[]): string[] {
  const dir = join(REPO, "dist", "connector").replace(/\\/g, "/") + "/";
  return paths.map((p) => p.replace(/\\/g, "/")).filter((p) => p.startsWith(dir)).map((p) => p.slice(dir.length));
}

/** Requires the package's `.` entry in a fresh node (mocha's own process has kafkajs loaded already). */
function loadInFreshNode(specifier: string): { entry: string; loaded: string[] } {
  const script = `
    const entry = require.resolve(${JSON.stringify(specifier)});
    require(entry);
    process.stdout.write(JSON.stringify({ entry, loaded: Object.keys(require.cache) }));`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // nothing preloaded into the child
  // cwd is the repository, so the package's own name resolves through its "exports" (self-reference).
  const out = execFileSync(process.execPath, ["-e", script], { cwd: REPO, env, maxBuffer: 64 << 20 }).toString();
  return JSON.parse(out) as { entry: string; loaded: string[] };
}

interface PackedFile {
  path: string;
}

describe("package entry points", () => {
  it("recognises the connector's runtime modules in a module list", () => {
    const paths = [
      "/x/node_modules/kafkajs/index.js",
      "/x/node_modules/@antoniomuso/lz4-napi-linux-x64-gnu/lz4.node",
      "C:\\x\\node_modules\\@azure\\identity\\dist\\index.js",
      "/x/node_modules/mqtt-packet/index.js", // not mqtt
      "/x/node_modules/pino-std-serializers/index.js", // not pino
      "/x/node_modules/@pulumi/pulumi/index.js",
    ];
    assert.deepEqual(runtimeModulesIn(paths), ["@antoniomuso/lz4-napi-", "@azure/identity", "kafkajs"]);
  });

  it("`.` (the Pulumi components) loads none of the connector's runtime", function () {
    this.timeout(120_000); // the Pulumi SDKs take a few seconds to load
    const { entry, loaded } = loadInFreshNode(PACKAGE_NAME);
    assert.equal(entry, join(REPO, "dist", "components", "index.js"));
    // It did load the components (so an empty list below means something).
    assert.ok(loaded.some((p) => p.replace(/\\/g, "/").includes("/node_modules/@pulumi/pulumi/")), "@pulumi/pulumi loaded");
    assert.ok(loaded.includes(join(REPO, "dist", "components", "kafka-connector.js")), "components loaded");

    assert.deepEqual(runtimeModulesIn(loaded), [], "the components entry loads connector runtime modules");
    // The components share the connector's config schema and its pure core helpers, nothing else:
    // not its ports, routes, logger, metrics or CLI.
    const connectorFiles = connectorFilesIn(loaded);
    assert.ok(connectorFiles.length > 0, "the components use the connector's config");
    // config/ and core/ are pure; k8s/workload.ts is the pod builder the operator shares (with
    // k8s/quantity.ts for volume sizes), k8s/status-schema.ts the status schema for the CRDs, and
    // operator/manifests.ts (with its flags and names) the operator's install manifests (all pure,
    // type-only client imports).
    const pure = ["k8s/workload.js", "k8s/quantity.js", "k8s/status-schema.js", "operator/manifests.js", "operator/flags.js", "operator/names.js"];
    const outside = connectorFiles.filter((f) => !f.startsWith("config/") && !f.startsWith("core/") && !pure.includes(f));
    assert.deepEqual(outside, [], "connector modules outside config/, core/ and the pure workload, status-schema and operator-manifest modules loaded by the components entry");
  });

  it("`./connector` is the connector's CLI module, which does not start when required", () => {
    const out = execFileSync(
      process.execPath,
      ["-e", `const m = require(${JSON.stringify(`${PACKAGE_NAME}/connector`)}); process.stdout.write(JSON.stringify({ file: require.resolve(${JSON.stringify(`${PACKAGE_NAME}/connector`)}), main: typeof m.main, exit: m.EXIT }))`],
      { cwd: REPO },
    ).toString();
    const r = JSON.parse(out) as { file: string; main: string; exit: Record<string, number> };
    assert.equal(r.file, join(REPO, "dist", "connector", "cli.js"));
    assert.equal(r.main, "function");
    assert.equal(r.exit.ok, 0);
  });

  it("the packed package holds both entries, their types and the config modules, and no tests or benchmarks", function () {
    this.timeout(60_000);
    // --ignore-scripts: prepack would rebuild dist/ under the running tests.
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: REPO,
      maxBuffer: 64 << 20,
      stdio: ["ignore", "pipe", "pipe"],
    }).toString();
    const [pack] = JSON.parse(out) as { files: PackedFile[] }[];
    assert.ok(pack, "npm pack --json printed a package");
    const files = new Set(pack.files.map((f) => f.path));

    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
      main: string;
      types: string;
      bin: Record<string, string>;
      exports: Record<string, string | { types: string; default: string }>;
    };
    const required = ["dist/components/index.js", "dist/connector/cli.js", pkg.main, pkg.types, ...Object.values(pkg.bin)];
    for (const [key, target] of Object.entries(pkg.exports)) {
      if (key === "./package.json") continue;
      assert.ok(typeof target === "object", `exports["${key}"] names types and default`);
      for (const t of [target.types, target.default]) {
        const rel = t.replace(/^\.\//, "");
        if (rel.includes("*")) {
          const [before, after] = rel.split("*") as [string, string];
          assert.ok([...files].some((f) => f.startsWith(before) && f.endsWith(after)), `exports["${key}"]: no packed file matches ${t}`);
        } else {
          required.push(rel);
        }
      }
    }
    for (const f of required) {
      assert.ok(files.has(f), `${f} is not in the package`);
      assert.ok(existsSync(join(REPO, f)), `${f} was not built`);
    }

    const unwanted = [...files].filter(
      (f) => /(^|\/)(test|tests|bench|scripts|infra)\//.test(f) || /\.test\.(js|ts|d\.ts)$/.test(f) || f.startsWith("connector/") || f.startsWith("components/"),
    );
    assert.deepEqual(unwanted, [], "test, bench or source files in the package");
  });
});
