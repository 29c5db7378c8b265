import pino, { type Logger } from "pino";
import type { LogLevel } from "./config/schema";

export type { Logger };

// Belt and braces: no code path logs these, but a future `log.debug({ options })` must not leak them.
const REDACT = [
  "password", "*.password", "*.*.password", "token", "*.token", "accessToken", "*.accessToken",
  "key", "*.key", "*.*.key", "authenticationData", "*.authenticationData", "*.properties.authenticationData",
  "sasl", "*.sasl", "connectionString", "*.connectionString",
];

/** Called for each warn-or-worse line a logger bound to a route writes (the level must be enabled). */
export type RouteProblemSink = (route: string, message: string) => void;

const WARN = 40;

export function createLogger(level: LogLevel, base: Record<string, unknown> = {}, onRouteProblem?: RouteProblemSink): Logger {
  const children = new Set<WeakRef<Logger>>();
  const root = pino({
    level,
    // Children copy the level when created; remembering them lets setLogLevel reach them all.
    onChild: (child) => void children.add(new WeakRef(child)),
    ...(onRouteProblem ? { hooks: { logMethod: routeProblemHook(onRouteProblem) } } : {}),
    base: { ...base },
    redact: { paths: REDACT, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
  families.set(root, children);
  return root;
}

const families = new WeakMap<Logger, Set<WeakRef<Logger>>>();

/** Changes the level of a logger made by createLogger and of every child it has. */
export function setLogLevel(root: Logger, level: LogLevel): void {
  root.level = level;
  const children = families.get(root);
  if (!children) return;
  for (const ref of children) {
    const child = ref.deref();
    if (child) child.level = level;
    else children.delete(ref);
  }
}

/** Passes route warnings on (e.g. to status as a route's last error), then logs as usual. */
function routeProblemHook(sink: RouteProblemSink) {
  return function (this: Logger, args: Parameters<pino.LogFn>, method: pino.LogFn, level: number): void {
    if (level >= WARN) {
      const route = this.bindings()["route"];
      if (typeof route === "string") {
        const [first, second] = args as unknown[];
        const msg = typeof first === "string" ? first : typeof second === "string" ? second : "";
        const err = typeof first === "object" && first !== null ? (first as { err?: unknown }).err : undefined;
        const detail = typeof err === "string" ? err : err instanceof Error ? err.message : undefined;
        sink(route, detail ? `${msg}: ${detail}` : msg);
      }
    }
    method.apply(this, args);
  };
}
