import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from "prom-client";
import type { Pipeline } from "./routes/pipeline";

/** All metric names start with this; see docs/operations.md for the full list. */
export const PREFIX = "mqtt_kafka_connector_";

import type { Direction } from "./config/routes";

export type { Direction };

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/**
 * One registry per connector (not prom-client's global one), so tests and embedders can run
 * several connectors in a process without clashing metric registrations.
 */
export class ConnectorMetrics {
  readonly registry = new Registry();
  readonly messagesIn: Counter<"route" | "direction">;
  readonly messagesOut: Counter<"route" | "direction">;
  readonly bytesIn: Counter<"route" | "direction">;
  readonly bytesOut: Counter<"route" | "direction">;
  readonly batchSize: Histogram<"route">;
  readonly deliveryLatency: Histogram<"route" | "direction">;
  readonly produceLatency: Histogram<"route">;
  readonly errors: Counter<"route" | "direction" | "kind">;
  readonly inFlight: Gauge<"route" | "direction">;
  readonly bufferedBytes: Gauge<"route">;
  readonly deadLettered: Counter<"route" | "direction">;
  readonly dropped: Counter<"route" | "direction" | "reason">;
  readonly loopSuppressed: Counter<"route">;
  readonly reconnects: Counter<"client">;
  readonly consumerLag: Gauge<"route" | "topic" | "partition">;
  readonly ready: Gauge;
  readonly routeReady: Gauge<"route" | "direction">;
  readonly configReloads: Counter<"result">;
  readonly connectionErrors: Counter<"client">;
  readonly kafkajsSeam: Gauge<"part">;
  readonly spoolRecords: Gauge<"route">;
  readonly spoolBytes: Gauge<"route">;
  readonly spoolOldestAge: Gauge<"route">;
  readonly spooling: Gauge<"route">;
  readonly spoolReplayed: Counter<"route">;
  readonly spoolFull: Gauge;
  readonly spoolFsync: Histogram;

  constructor(defaultLabels: Record<string, string> = {}) {
    const r = this.registry;
    r.setDefaultLabels(defaultLabels);
    collectDefaultMetrics({ register: r, prefix: PREFIX });
    const rd = ["route", "direction"] as const;
    this.messagesIn = new Counter({ name: `${PREFIX}messages_received_total`, help: "Messages taken from the source broker.", labelNames: rd, registers: [r] });
    this.messagesOut = new Counter({ name: `${PREFIX}messages_delivered_total`, help: "Messages acknowledged by the target broker.", labelNames: rd, registers: [r] });
    this.bytesIn = new Counter({ name: `${PREFIX}received_bytes_total`, help: "Payload bytes taken from the source broker.", labelNames: rd, registers: [r] });
    this.bytesOut = new Counter({ name: `${PREFIX}delivered_bytes_total`, help: "Payload bytes acknowledged by the target broker.", labelNames: rd, registers: [r] });
    this.batchSize = new Histogram({ name: `${PREFIX}kafka_batch_messages`, help: "Records per Kafka produce request.", labelNames: ["route"], buckets: BATCH_BUCKETS, registers: [r] });
    this.deliveryLatency = new Histogram({
      name: `${PREFIX}delivery_latency_seconds`,
      help: "mqttToKafka: MQTT receive to Kafka ack. kafkaToMqtt: Kafka record timestamp to PUBACK.",
      labelNames: rd,
      buckets: LATENCY_BUCKETS,
      registers: [r],
    });
    this.produceLatency = new Histogram({ name: `${PREFIX}kafka_produce_latency_seconds`, help: "Duration of successful Kafka produce requests.", labelNames: ["route"], buckets: LATENCY_BUCKETS, registers: [r] });
    this.errors = new Counter({ name: `${PREFIX}errors_total`, help: "Errors by kind (kafka_send, mqtt_publish, ...).", labelNames: ["route", "direction", "kind"], registers: [r] });
    this.inFlight = new Gauge({ name: `${PREFIX}messages_in_flight`, help: "Messages received and not yet acknowledged to their source.", labelNames: rd, registers: [r] });
    this.bufferedBytes = new Gauge({ name: `${PREFIX}buffered_bytes`, help: "Bytes waiting to be sent to Kafka.", labelNames: ["route"], registers: [r] });
    this.deadLettered = new Counter({ name: `${PREFIX}dead_lettered_total`, help: "Messages written to the route's dead-letter target.", labelNames: rd, registers: [r] });
    this.dropped = new Counter({ name: `${PREFIX}dropped_total`, help: "Messages given up on, by reason.", labelNames: ["route", "direction", "reason"], registers: [r] });
    this.loopSuppressed = new Counter({ name: `${PREFIX}loop_suppressed_total`, help: "Messages this connector published itself and did not bridge back.", labelNames: ["route"], registers: [r] });
    this.reconnects = new Counter({ name: `${PREFIX}reconnects_total`, help: "Connections re-established after a loss.", labelNames: ["client"], registers: [r] });
    this.consumerLag = new Gauge({ name: `${PREFIX}consumer_lag_messages`, help: "Kafka high watermark minus the next offset to deliver, per partition.", labelNames: ["route", "topic", "partition"], registers: [r] });
    this.ready = new Gauge({ name: `${PREFIX}ready`, help: "1 when both brokers are connected and every route is running.", registers: [r] });
    this.routeReady = new Gauge({
      name: `${PREFIX}route_ready`,
      help: "1 while the route runs with its connections up; 0 while it waits for a broker or its Kafka consumer restarts after a crash.",
      labelNames: rd,
      registers: [r],
    });
    this.connectionErrors = new Counter({ name: `${PREFIX}connection_errors_total`, help: "Failed connection attempts and lost connections.", labelNames: ["client"], registers: [r] });
    this.kafkajsSeam = new Gauge({
      name: `${PREFIX}kafkajs_seam`,
      help: "1 for each part of the kafkajs seam in place (patches, fetchShaping, rejoinHook, murmur2, codecs); 0 when a kafkajs version it was not checked against turned it off.",
      labelNames: ["part"],
      registers: [r],
    });
    this.spoolRecords = new Gauge({ name: `${PREFIX}spool_records`, help: "Records the route holds in the disk spool.", labelNames: ["route"], registers: [r] });
    this.spoolBytes = new Gauge({ name: `${PREFIX}spool_bytes`, help: "Bytes the route holds in the disk spool (records plus overhead).", labelNames: ["route"], registers: [r] });
    this.spoolOldestAge = new Gauge({ name: `${PREFIX}spool_oldest_age_seconds`, help: "Age of the oldest record in the route's spool; 0 when it is empty.", labelNames: ["route"], registers: [r] });
    this.spooling = new Gauge({ name: `${PREFIX}spooling`, help: "1 while the route writes to the disk spool and sends from it.", labelNames: ["route"], registers: [r] });
    this.spoolReplayed = new Counter({ name: `${PREFIX}spool_replayed_total`, help: "Records sent to Kafka from the disk spool.", labelNames: ["route"], registers: [r] });
    this.spoolFull = new Gauge({ name: `${PREFIX}spool_full`, help: "1 while the spool is at --spool-max-bytes: spooling routes take no new messages.", registers: [r] });
    this.spoolFsync = new Histogram({ name: `${PREFIX}spool_fsync_seconds`, help: "Time from a spool append to its data being on disk (commit and fsync).", buckets: LATENCY_BUCKETS, registers: [r] });
    this.configReloads = new Counter({ name: `${PREFIX}config_reloads_total`, help: "Topic-map reloads by result (applied, rejected).", labelNames: ["result"], registers: [r] });
  }

  /** Sets the gauges read from the pipelines at scrape time. */
  observe(pipelines: readonly Pipeline[], ready: boolean): void {
    for (const p of pipelines) {
      const labels = { route: p.name, direction: p.direction };
      this.inFlight.set(labels, p.inFlight);
      this.routeReady.set(labels, p.ready ? 1 : 0);
      if (p.direction === "mqttToKafka") this.bufferedBytes.set({ route: p.name }, p.buffered);
      const spool = p.spoolState?.();
      if (spool) {
        const route = { route: p.name };
        this.spoolRecords.set(route, spool.records);
        this.spoolBytes.set(route, spool.bytes);
        this.spoolOldestAge.set(route, spool.oldestAgeSeconds);
        this.spooling.set(route, spool.spooling ? 1 : 0);
        this.spoolFull.set(spool.full ? 1 : 0);
      }
    }
    this.ready.set(ready ? 1 : 0);
  }

  setKafkajsSeam(parts: Record<string, boolean>): void {
    for (const [part, on] of Object.entries(parts)) this.kafkajsSeam.set({ part }, on ? 1 : 0);
  }

  /** Bound children for one route: label lookups happen once, not per message. */
  route(route: string, direction: Direction) {
    const l = { route, direction };
    return {
      messagesIn: this.messagesIn.labels(l),
      messagesOut: this.messagesOut.labels(l),
      bytesIn: this.bytesIn.labels(l),
      bytesOut: this.bytesOut.labels(l),
      batchSize: this.batchSize.labels({ route }),
      deliveryLatency: this.deliveryLatency.labels(l),
      produceLatency: this.produceLatency.labels({ route }),
      error: (kind: string) => this.errors.inc({ ...l, kind }),
      inFlight: this.inFlight.labels(l),
      bufferedBytes: this.bufferedBytes.labels({ route }),
      deadLettered: this.deadLettered.labels(l),
      dropped: (reason: string) => this.dropped.inc({ ...l, reason }),
      loopSuppressed: this.loopSuppressed.labels({ route }),
      spoolReplayed: this.spoolReplayed.labels({ route }),
      lag: (topic: string, partition: number, value: number) => this.consumerLag.set({ route, topic, partition: String(partition) }, value),
    };
  }

  /** Forgets a removed route's series so dashboards do not show it as stuck. */
  async removeRoute(route: string): Promise<void> {
    const all = [this.messagesIn, this.messagesOut, this.bytesIn, this.bytesOut, this.batchSize, this.deliveryLatency, this.produceLatency, this.errors,
      this.inFlight, this.bufferedBytes, this.deadLettered, this.dropped, this.loopSuppressed, this.consumerLag, this.routeReady,
      this.spoolRecords, this.spoolBytes, this.spoolOldestAge, this.spooling, this.spoolReplayed];
    for (const m of all) {
      const { values } = await m.get();
      for (const v of values) if (v.labels["route"] === route) (m as { remove(labels: object): void }).remove(stripHistogramLabels(v.labels));
    }
  }
}

export type RouteMetrics = ReturnType<ConnectorMetrics["route"]>;

// Histogram series carry `le`; removal wants only the metric's own labels.
function stripHistogramLabels(labels: Record<string, string | number | undefined>): Record<string, string | number | undefined> {
  const { le: _le, ...rest } = labels;
  return rest;
}
