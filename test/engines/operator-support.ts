// Helpers of test/engines/operator.test.ts: the operator as a child process, a kubeconfig that acts
// as a service account (a real token from the TokenRequest API), and kubectl reads as JSON.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { KubectlError, waitFor, type LocalCluster } from "../../scripts/local-cluster";

const ROOT = join(__dirname, "..", "..", "..");
export const OPERATOR_NS = "mqtt-kafka-connector-system";
export const OPERATOR_SA = "mqtt-kafka-connector-operator";

export type Json = Record<string, unknown> & { metadata: { name: string; uid: string; generation?: number; resourceVersion: string; ownerReferences?: Json[]; labels?: Record<string, string>; managedFields?: { manager: string }[] } };

export interface OperatorProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** The last lines of stdout and stderr, for a failure message. */
  tail(): string;
  /** SIGTERM; resolves with the exit code (or the signal, if it had to be killed). */
  stop(timeoutMs?: number): Promise<number | string>;
}

export function startOperator(kubeconfig: string, args: string[]): OperatorProcess {
  const child = spawn(process.execPath, [join(ROOT, "dist", "connector", "operator", "bin.js"), ...args], {
    env: { ...process.env, KUBECONFIG: kubeconfig, HOME: "/nonexistent" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")));
  return {
    child,
    logs: () =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    tail: () => `operator stdout:\n${out.slice(-4000)}\noperator stderr:\n${err.slice(-2000)}`,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode ?? "?";
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** A kubeconfig with a bound token of `namespace/serviceAccount`: what the operator's pod would have. */
export async function serviceAccountKubeconfig(cluster: LocalCluster, namespace: string, serviceAccount: string): Promise<string> {
  const token = (await cluster.kubectl(["create", "token", serviceAccount, "-n", namespace, "--duration=2h"])).trim();
  const file = join(cluster.dataDir, `${namespace}-${serviceAccount}.kubeconfig`);
  writeFileSync(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "local", cluster: { server: cluster.server, "certificate-authority": cluster.pki.caCert } }],
      users: [{ name: serviceAccount, user: { token } }],
      contexts: [{ name: "sa", context: { cluster: "local", user: serviceAccount, namespace } }],
      "current-context": "sa",
    }),
    { mode: 0o600 },
  );
  return file;
}

export async function getJson(cluster: LocalCluster, args: string[]): Promise<Json> {
  return JSON.parse(await cluster.kubectl(["get", ...args, "-o", "json", "--show-managed-fields"])) as Json;
}

/** `kubectl auth can-i` as a subject: true for yes, false for no (kubectl exits 1 on "no"). */
export async function canI(cluster: LocalCluster, as: string, verb: string, resource: string, namespace: string): Promise<boolean> {
  const [res, sub] = resource.split("/");
  try {
    return (await cluster.kubectl(["auth", "can-i", verb, res!, ...(sub ? [`--subresource=${sub}`] : []), `--as=${as}`, "-n", namespace])).trim() === "yes";
  } catch (e) {
    if (e instanceof KubectlError && e.stdout.trim() === "no") return false;
    throw e;
  }
}

export async function waitGone(cluster: LocalCluster, what: string, args: string[], timeoutMs = 60_000): Promise<void> {
  await waitFor(`${what} to be deleted`, timeoutMs, async () => {
    const out = await cluster.kubectl(["get", ...args, "--ignore-not-found", "-o", "name"]);
    if (out.trim() !== "") throw new Error(`still there: ${out.trim()}`);
  });
}

/** Events recorded for a KafkaConnector, oldest first. */
export async function eventsFor(cluster: LocalCluster, namespace: string, name: string): Promise<{ reason: string; message: string; type: string }[]> {
  const list = JSON.parse(await cluster.kubectl(["get", "events", "-n", namespace, "--field-selector", `involvedObject.kind=KafkaConnector,involvedObject.name=${name}`, "-o", "json"])) as {
    items: { reason: string; message: string; type: string }[];
  };
  return list.items;
}
