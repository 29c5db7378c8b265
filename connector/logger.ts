import pino, { type Logger } from "pino";
import type { LogLevel } from "./config/schema";

export type { Logger };

// Belt and braces: no code path logs these, but a future `log.debug({ options })` must not leak them.
const REDACT = [
  "password", "*.password", "*.*.password", "token", "*.token", "accessToken", "*.accessToken",
  "key", "*.key", "*.*.key", "authenticationData", "*.authenticationData", "*.properties.authenticationData",
  "sasl", "*.sasl", "connectionString", "*.connectionString",
];

export function createLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { ...base },
    redact: { paths: REDACT, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
