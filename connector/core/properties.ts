import { isUtf8 } from "node:buffer";

/**
 * Mapping between MQTT v5 PUBLISH properties and Kafka record headers (copyMqttProperties).
 * User properties travel under their own names; system properties under the reserved names below.
 */
export const HEADER = {
  topic: "mqtt-topic",
  contentType: "mqtt-content-type",
  payloadFormatIndicator: "mqtt-payload-format-indicator",
  messageExpiryInterval: "mqtt-message-expiry-interval",
  responseTopic: "mqtt-response-topic",
  correlationData: "mqtt-correlation-data",
} as const;

const RESERVED = new Set<string>(Object.values(HEADER));

export interface MqttProperties {
  contentType?: string;
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: Record<string, string | string[]>;
}

/** Kafka headers in kafkajs shape: several values for one name become an array. */
export type KafkaHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** Bytes of header names and values, plus `perEntry` for each name/value pair's framing. */
export function headersSize(headers: KafkaHeaders, perEntry: number): number {
  let n = 0;
  for (const [k, v] of Object.entries(headers)) {
    for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined) n += k.length + Buffer.byteLength(x) + perEntry;
  }
  return n;
}

export function propertiesToHeaders(mqttTopic: string, props: MqttProperties | undefined): KafkaHeaders {
  const h: KafkaHeaders = {};
  for (const [k, v] of Object.entries(props?.userProperties ?? {})) {
    if (!RESERVED.has(k)) h[k] = v;
  }
  h[HEADER.topic] = mqttTopic;
  if (!props) return h;
  if (props.contentType !== undefined) h[HEADER.contentType] = props.contentType;
  if (props.payloadFormatIndicator !== undefined) h[HEADER.payloadFormatIndicator] = props.payloadFormatIndicator ? "1" : "0";
  if (props.messageExpiryInterval !== undefined) h[HEADER.messageExpiryInterval] = String(props.messageExpiryInterval);
  if (props.responseTopic !== undefined) h[HEADER.responseTopic] = props.responseTopic;
  if (props.correlationData !== undefined) h[HEADER.correlationData] = props.correlationData;
  return h;
}

export interface HeaderMappingResult {
  properties: MqttProperties;
  /** Headers that could not become properties, with the reason (logged at debug). */
  skipped: { header: string; reason: string }[];
}

export function headersToProperties(headers: KafkaHeaders | undefined): HeaderMappingResult {
  const properties: MqttProperties = {};
  const skipped: { header: string; reason: string }[] = [];
  const user: Record<string, string | string[]> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    if (raw === undefined) continue;
    const values = (Array.isArray(raw) ? raw : [raw]).map((v) => (typeof v === "string" ? Buffer.from(v, "utf8") : v));
    const first = values[0];
    if (first === undefined) continue;
    const text = first.toString("utf8");
    switch (name) {
      case HEADER.topic:
        break; // the route decides the MQTT topic; the source topic is informational only
      case HEADER.contentType:
        properties.contentType = text;
        break;
      case HEADER.payloadFormatIndicator:
        properties.payloadFormatIndicator = text === "1";
        break;
      case HEADER.messageExpiryInterval: {
        const n = Number(text);
        if (Number.isInteger(n) && n >= 0 && n <= 0xffffffff) properties.messageExpiryInterval = n;
        else skipped.push({ header: name, reason: `not an interval in seconds: ${JSON.stringify(text)}` });
        break;
      }
      case HEADER.responseTopic:
        properties.responseTopic = text;
        break;
      case HEADER.correlationData:
        properties.correlationData = first;
        break;
      default: {
        const strings = values.filter((v) => isUtf8(v)).map((v) => v.toString("utf8"));
        if (strings.length < values.length) skipped.push({ header: name, reason: "value is not valid UTF-8, which MQTT user properties require" });
        if (strings.length === 1) user[name] = strings[0]!;
        else if (strings.length > 1) user[name] = strings;
      }
    }
  }
  if (Object.keys(user).length) properties.userProperties = user;
  return { properties, skipped };
}

/**
 * What is left of a Message Expiry Interval after the record waited in Kafka since `timestampMs`.
 * MQTT v5 §3.3.2.3.3: a server forwarding a message sends the received interval minus the time it
 * waited, and must not forward it once expired. Whole seconds, rounded up, so a message with time
 * left never goes out with 0 (which would read as no time at all).
 */
export function remainingExpirySeconds(intervalSeconds: number, timestampMs: number, nowMs: number): number | "expired" {
  if (!(timestampMs > 0)) return intervalSeconds; // no usable timestamp: nothing to subtract
  const leftMs = intervalSeconds * 1000 - Math.max(0, nowMs - timestampMs);
  return leftMs > 0 ? Math.ceil(leftMs / 1000) : "expired";
}
