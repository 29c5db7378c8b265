/** `mqtt-kafka-connector operator` flags: what the operator passes to every connector's workload. */
import { parseArgs } from "node:util";
import { LOG_LEVELS, type LogLevel } from "../config/schema";
import { DEFAULT_RESOURCES } from "../k8s/workload";
import type { OperatorDefaults } from "./reconcile";

/** What the Azure IoT Operations MQTT broker checks in a K8S-SAT token (as the Pulumi component's default). */
export const DEFAULT_MQTT_TOKEN_AUDIENCE = "aio-internal";

export const USAGE = `usage: mqtt-kafka-connector operator [options]

Watches KafkaConnector resources and runs each as a StatefulSet with its service account, Role,
RoleBinding, headless Service, PodDisruptionBudget (and SecretProviderClasses for Key Vault).

  --namespace NS                 watch only this namespace (env WATCH_NAMESPACE; default: all)
  --resync-seconds N             apply every connector again this often, repairing drift (default 300)
  --mqtt-token-audience A        audience of the pods' MQTT K8S-SAT token (default ${DEFAULT_MQTT_TOKEN_AUDIENCE})
  --cpu-request Q                connector container CPU request (default ${DEFAULT_RESOURCES.cpuRequest})
  --cpu-limit Q                  CPU limit (default none)
  --memory-request Q             memory request (default ${DEFAULT_RESOURCES.memoryRequest})
  --memory-limit Q               memory limit (default ${DEFAULT_RESOURCES.memoryLimit})
  --termination-grace-seconds N  time a pod gets to drain after SIGTERM (default 60)
  --max-unavailable N            PodDisruptionBudget maxUnavailable (default 1)
  --image-pull-secret NAME       image pull Secret of every pod; repeatable
  --allow-image REPO             run only images of this repository (exact, or a prefix ending in /); repeatable
  --http-port N                  /healthz and /readyz (env HTTP_PORT; default 8080; 0 disables)
  --log-level L                  ${LOG_LEVELS.join(", ")} (env LOG_LEVEL; default info)
  -h, --help                     this text

exit codes: 0 stopped by SIGTERM/SIGINT, 2 invalid flag values, 3 no Kubernetes API, 64 bad usage`;

export interface OperatorOptions {
  namespace?: string;
  resyncMs: number;
  httpPort: number;
  logLevel: LogLevel;
  defaults: OperatorDefaults;
}

/** Bad flag values (exit 2); unknown flags are parseArgs' own errors (exit 64). */
export class FlagError extends Error {}

const OPTIONS = {
  namespace: { type: "string" },
  "resync-seconds": { type: "string" },
  "mqtt-token-audience": { type: "string" },
  "cpu-request": { type: "string" },
  "cpu-limit": { type: "string" },
  "memory-request": { type: "string" },
  "memory-limit": { type: "string" },
  "termination-grace-seconds": { type: "string" },
  "max-unavailable": { type: "string" },
  "image-pull-secret": { type: "string", multiple: true },
  "allow-image": { type: "string", multiple: true },
  "http-port": { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

// A Kubernetes quantity, loosely: the API server has the last word.
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw) || n < min || n > max) throw new FlagError(`--${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

function quantity(flag: string, raw: string | undefined, fallback: string): string {
  const v = raw ?? fallback;
  if (!QUANTITY.test(v)) throw new FlagError(`--${flag} must be a Kubernetes quantity such as 100m or 512Mi, got ${JSON.stringify(v)}`);
  return v;
}

/** `help` when -h was given; throws parseArgs' TypeError for usage errors, FlagError for bad values. */
export function parseOperatorFlags(argv: string[], env: NodeJS.ProcessEnv): OperatorOptions | "help" {
  const { values: f, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  if (f.help) return "help";
  if (positionals.length) throw new TypeError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const namespace = f.namespace ?? (env["WATCH_NAMESPACE"] || undefined);
  if (namespace !== undefined && !DNS_LABEL.test(namespace)) throw new FlagError(`--namespace must be a namespace name, got ${JSON.stringify(namespace)}`);
  const logLevel = f["log-level"] ?? (env["LOG_LEVEL"] || "info");
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new FlagError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(logLevel)}`);
  const cpuLimit = f["cpu-limit"] === undefined ? undefined : quantity("cpu-limit", f["cpu-limit"], "");
  const pullSecrets = f["image-pull-secret"] ?? [];
  for (const s of pullSecrets) if (!DNS_SUBDOMAIN.test(s)) throw new FlagError(`--image-pull-secret must be a Secret name, got ${JSON.stringify(s)}`);
  const allowedImages = f["allow-image"] ?? [];
  for (const a of allowedImages) if (!a || /\s/.test(a)) throw new FlagError(`--allow-image must be an image repository, got ${JSON.stringify(a)}`);
  const audience = f["mqtt-token-audience"] ?? DEFAULT_MQTT_TOKEN_AUDIENCE;
  if (!audience) throw new FlagError("--mqtt-token-audience must not be empty");
  return {
    ...(namespace ? { namespace } : {}),
    resyncMs: integer("resync-seconds", f["resync-seconds"], 300, 1, 86_400) * 1000,
    httpPort: integer("http-port", f["http-port"] ?? (env["HTTP_PORT"] || undefined), 8080, 0, 65_535),
    logLevel: logLevel as LogLevel,
    defaults: {
      allowedImages,
      workload: {
        mqttTokenAudience: audience,
        resources: {
          requests: { cpu: quantity("cpu-request", f["cpu-request"], DEFAULT_RESOURCES.cpuRequest), memory: quantity("memory-request", f["memory-request"], DEFAULT_RESOURCES.memoryRequest) },
          limits: { memory: quantity("memory-limit", f["memory-limit"], DEFAULT_RESOURCES.memoryLimit), ...(cpuLimit ? { cpu: cpuLimit } : {}) },
        },
        imagePullSecrets: pullSecrets,
        terminationGracePeriodSeconds: integer("termination-grace-seconds", f["termination-grace-seconds"], 60, 0, 3600),
        maxUnavailable: integer("max-unavailable", f["max-unavailable"], 1, 0, 1000),
      },
    },
  };
}
