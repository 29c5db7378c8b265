/**
 * kafkajs errors as the connector's own: routes and the lifecycle branch on a code, never on
 * kafkajs' error classes or fields. kafkajs' `retriable` flag is kept.
 */
import { ConnectorError, type ErrorCode } from "../../core/errors";

/** Kafka error types meaning the broker refused the records themselves, not the connection or permissions. */
const RECORD_REJECTIONS = new Set(["MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE", "INVALID_RECORD", "CORRUPT_MESSAGE", "INVALID_TIMESTAMP"]);

interface KafkaJsErrorLike {
  name?: string;
  message?: string;
  type?: unknown;
  retriable?: boolean;
  originalError?: unknown;
  cause?: unknown;
}

/** The error and its causes, outermost first (kafkajs wraps in `originalError`, Node in `cause`). */
function* chain(e: unknown): Generator<KafkaJsErrorLike> {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === "object" && depth < 6; depth++) {
    const x = cur as KafkaJsErrorLike;
    yield x;
    cur = x.originalError ?? x.cause;
  }
}

/** The Kafka error type when the broker refused the records themselves. */
export function recordRejection(e: unknown): string | undefined {
  for (const x of chain(e)) if (typeof x.type === "string" && RECORD_REJECTIONS.has(x.type)) return x.type;
  return undefined;
}

function codeOf(e: unknown): ErrorCode {
  if (recordRejection(e)) return "KAFKA_RECORD_REJECTED";
  for (const x of chain(e)) {
    if (x.name === "KafkaJSSASLAuthenticationError" || /authentication failed|SaslAuthenticate/i.test(x.message ?? "")) return "KAFKA_AUTH_FAILED";
    if (/certificate|self[- ]signed|unable to verify|SSL routines|TLS/i.test(x.message ?? "")) return "KAFKA_TLS_FAILED";
    if (x.name === "KafkaJSNotImplemented") return "KAFKA_UNSUPPORTED";
    if (x.name === "KafkaJSConnectionError" || /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|Connection (error|timeout)|Failed to connect/i.test(x.message ?? "")) return "KAFKA_UNREACHABLE";
  }
  return "KAFKA_ERROR";
}

/** A kafkajs (or Node) error as a ConnectorError; one that already is one passes through. */
export function kafkaError(e: unknown, context?: string): ConnectorError {
  if (e instanceof ConnectorError) return e;
  const first = [...chain(e)];
  const message = (e as Error | undefined)?.message ?? String(e);
  const retriable = first.some((x) => x.retriable === true || x.name === "KafkaJSNumberOfRetriesExceeded");
  const code = codeOf(e);
  const rejection = recordRejection(e);
  return new ConnectorError(code, context ? `${context}: ${message}` : message, {
    cause: e,
    retriable: retriable && code !== "KAFKA_RECORD_REJECTED",
    ...(rejection ? { reason: rejection } : {}),
  });
}

const SUMMARY: Partial<Record<ErrorCode, string>> = {
  KAFKA_AUTH_FAILED: "Kafka authentication failed; retrying",
  KAFKA_TLS_FAILED: "Kafka TLS handshake failed; retrying",
};

/** What a failed connection attempt to Kafka says to an operator: the cause when it is known. */
export function kafkaFailureSummary(e: unknown): string {
  const code = e instanceof ConnectorError ? e.code : codeOf(e);
  return SUMMARY[code] ?? "Kafka unreachable; retrying";
}
