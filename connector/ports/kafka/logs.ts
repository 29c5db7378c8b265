/** kafkajs' log lines in the connector's log: levels mapped both ways, repeats held back, transients demoted. */
import type { LogEntry, logLevel as KafkaLogLevelType } from "kafkajs";
import type { Logger } from "../../logger";
import { RepeatLimiter } from "../../core/repeat-limiter";

/** kafkajs' logLevel values (an enum kafkajs exports; mirrored so this module does not load kafkajs). */
const KafkaLogLevel = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const satisfies Record<string, KafkaLogLevelType>;

/**
 * kafkajs errors that are part of normal operation (a new broker electing its group coordinator, a
 * leader moving, a rebalance): logged at info, not error. They are retried, and a failure that
 * lasts surfaces through the connector's own retry lines.
 */
const TRANSIENT = /group coordinator is not available|not the correct coordinator|coordinator is loading|no leader for this topic-partition|leadership election|rebalance in progress|The group is rebalancing/i;

/** kafkajs log level that yields what the connector's level shows (kafkajs INFO is our debug). */
export function kafkajsLogLevel(level: string): KafkaLogLevelType {
  switch (level) {
    case "trace":
      return KafkaLogLevel.DEBUG;
    case "debug":
      return KafkaLogLevel.INFO;
    case "info":
    case "warn":
      return KafkaLogLevel.WARN;
    default:
      return KafkaLogLevel.ERROR;
  }
}

export function kafkaLogCreator(log: Logger, onEvent: (e: "reconnect" | "error") => void) {
  // kafkajs logs one failure on several layers (request, connection, retrier), and again on every
  // retry; the connector's own retry line carries the count, so each distinct message shows once a minute.
  const errors = new RepeatLimiter();
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      if (level === KafkaLogLevel.ERROR && /Connection error|Failed to connect|Connection timeout/.test(message)) onEvent("error");
      const fields = { namespace: rest.namespace, broker: rest["broker"], error: rest["error"], retryCount: rest["retryCount"] };
      const text = `kafka: ${message}`;
      if (level === KafkaLogLevel.ERROR || level === KafkaLogLevel.WARN) {
        if (TRANSIENT.test(`${message} ${String(rest["error"] ?? "")}`)) return log.info(fields, text);
        const { log: show, repeated } = errors.check(`${message}|${String(rest["error"] ?? "")}`);
        if (!show) return log.debug(fields, text);
        const withCount = repeated ? { ...fields, repeatedSinceLastLog: repeated } : fields;
        return level === KafkaLogLevel.ERROR ? log.error(withCount, text) : log.warn(withCount, text);
      }
      // kafkajs logs routine rebalances at INFO; they are debug detail for us.
      if (level === KafkaLogLevel.INFO) log.debug(fields, text);
      else log.trace(fields, text);
    };
}

