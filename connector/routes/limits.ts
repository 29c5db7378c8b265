/** Sizes, limits and client IDs both route directions use. */
import { MAX_REQUEST_BYTES } from "../config/schema";
import { headersSize, type MqttProperties } from "../core/properties";
import type { OutboundRecord } from "../ports/types";

/** Bytes a record adds to a produce request beyond key, value and headers (varints, attributes). */
const RECORD_OVERHEAD = 64;
/**
 * What one held message costs in memory beyond its Kafka record bytes (the MQTT packet, its
 * properties, the record and the settle closure), so the QoS 0 buffer bound counts memory, not
 * payload: 64 MiB of 100-byte records would otherwise be 400,000 messages and several times that in heap.
 */
export const HELD_MESSAGE_OVERHEAD = 512;
/** Room kept for the request, topic and batch headers so a full batch stays under MAX_REQUEST_BYTES. */
const REQUEST_OVERHEAD = 16 * 1024;
export const MAX_BATCH_BYTES = MAX_REQUEST_BYTES - REQUEST_OVERHEAD;
/** A record batch's own header (magic v2); Kafka compares header plus records with max.message.bytes. */
export const RECORD_BATCH_HEADER = 61;

/** A record's size in a produce request. */
export function recordSize(r: OutboundRecord): number {
  const n = r.value.length + (r.key?.length ?? 0) + RECORD_OVERHEAD;
  return r.headers ? n + headersSize(r.headers, 8) : n;
}

/**
 * A generous estimate of a PUBLISH packet's size (fixed header, topic, packet id and properties),
 * to keep under the broker's Maximum Packet Size: a larger packet makes it drop the connection.
 */
export function publishPacketSize(payload: Buffer, topicBytes: number, props: MqttProperties): number {
  let size = payload.length + topicBytes + 16;
  if (props.userProperties) {
    for (const [k, v] of Object.entries(props.userProperties)) for (const x of Array.isArray(v) ? v : [v]) size += Buffer.byteLength(k) + Buffer.byteLength(x) + 5;
  }
  return size + (props.correlationData?.length ?? 0) + Buffer.byteLength(props.contentType ?? "") + Buffer.byteLength(props.responseTopic ?? "") + 16;
}

/**
 * `<prefix>-<instance>-<route>-<suffix>`: stable per instance, route and client, so a restarted
 * instance resumes its persistent sessions (and a share's queue is not stranded under a new ID).
 */
export function mqttClientId(prefix: string, instance: number, route: string, suffix: string | number): string {
  return `${prefix}-${instance}-${route}-${suffix}`;
}
