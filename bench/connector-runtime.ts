/**
 * Runs the benchmarked connector the way it runs in production: with the node flags of the
 * image's ENTRYPOINT, under the memory limit the KafkaConnector component sets by default. Node
 * sizes V8's heap from the container's memory limit (half of it for the old generation), and that
 * heap size changes how often V8 collects, so a bench on a large host without a limit would measure
 * a different program.
 */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_RESOURCES } from "../components/workload";

/** Node flags between `node` and the script in the image's `ENTRYPOINT ["node", ..., "/app/dist/connector/cli.js"]`. */
export function imageNodeFlags(dockerfile: string): string[] {
  const m = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile);
  if (!m) throw new Error("connector/Dockerfile: no ENTRYPOINT in exec form");
  const argv = JSON.parse(m[1]!) as unknown;
  if (!Array.isArray(argv) || argv[0] !== "node" || !argv.every((a): a is string => typeof a === "string")) {
    throw new Error(`connector/Dockerfile: ENTRYPOINT ${m[1]} does not start with "node"`);
  }
  const script = argv.findIndex((a, i) => i > 0 && !a.startsWith("-"));
  return argv.slice(1, script < 0 ? undefined : script);
}

/** "512Mi", "1Gi", "768M" as MiB. */
export function quantityMiB(q: string): number {
  const m = /^(\d+)(Mi|Gi|M|G)$/.exec(q);
  if (!m) throw new Error(`memory quantity "${q}": expected a whole number with Mi, Gi, M or G`);
  const n = Number(m[1]);
  const unit = m[2]!;
  if (unit === "Gi") return n * 1024;
  if (unit === "G") return Math.floor((n * 1e9) / 1048576);
  if (unit === "M") return Math.floor((n * 1e6) / 1048576);
  return n;
}

export const DEFAULT_LIMIT_MIB = quantityMiB(DEFAULT_RESOURCES.memoryLimit);

/** How the connector process is confined; `describe` goes into the report. */
export interface ConnectorRuntime {
  /** Node flags: the image's, plus any emulation of the memory limit. */
  nodeArgs: string[];
  /** A cgroup directory to move the connector into before it starts, if one could be made. */
  cgroupDir?: string;
  describe: string;
  dispose(): void;
}

/**
 * A memory cgroup with the limit (v2 `memory.max` or v1 `memory.limit_in_bytes`) when this process
 * may create one (root, writable cgroup fs). Otherwise the old-space size Node would pick under that
 * limit is passed as a flag, which leaves out only the limit's effect on RSS itself.
 */
export function connectorRuntime(repoRoot: string, limitMiB: number | undefined): ConnectorRuntime {
  const flags = imageNodeFlags(readFileSync(join(repoRoot, "connector", "Dockerfile"), "utf8"));
  const shown = flags.length ? flags.join(" ") : "(none)";
  if (limitMiB === undefined) {
    return { nodeArgs: flags, describe: `image node flags ${shown}, no memory limit`, dispose: () => undefined };
  }
  const dir = makeMemoryCgroup(limitMiB);
  if (dir) {
    return {
      nodeArgs: flags,
      cgroupDir: dir,
      describe: `image node flags ${shown}, memory limit ${limitMiB} MiB (cgroup ${dir})`,
      dispose: () => {
        try {
          rmdirSync(dir);
        } catch {
          // still has a process in it (a connector that outlived the bench); harmless
        }
      },
    };
  }
  const emulate = [`--max-old-space-size=${Math.floor(limitMiB / 2)}`];
  return {
    nodeArgs: [...emulate, ...flags],
    describe: `image node flags ${shown}, memory limit ${limitMiB} MiB emulated with ${emulate.join(" ")} (no writable memory cgroup)`,
    dispose: () => undefined,
  };
}

function makeMemoryCgroup(limitMiB: number): string | undefined {
  const bytes = String(limitMiB * 1048576);
  const name = `mkc-bench-${process.pid}`;
  const candidates: Array<{ parent: string; limitFile: string }> = [
    { parent: "/sys/fs/cgroup/memory", limitFile: "memory.limit_in_bytes" }, // v1
    { parent: "/sys/fs/cgroup", limitFile: "memory.max" }, // v2
  ];
  for (const { parent, limitFile } of candidates) {
    if (limitFile === "memory.max" && !readable(join(parent, "cgroup.subtree_control")).includes("memory")) continue;
    if (!existsSync(parent)) continue;
    const dir = join(parent, name);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, limitFile), bytes);
      return dir;
    } catch {
      try {
        rmdirSync(dir);
      } catch {
        // never made
      }
    }
  }
  return undefined;
}

function readable(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
