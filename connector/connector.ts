import type { ConnectorConfig } from "./config/load";
import type { KafkaConnectorTopicMapResource } from "./config/schema";
import { needsProducer } from "./config/routes";
import { compressionProblems } from "./config/endpoints";
import { ConnectorError, formatProblem } from "./core/errors";
import type { Logger } from "./logger";
import { ConnectorMetrics } from "./metrics";
import { buildPorts, type ConnectorPorts } from "./ports/factory";
import type { KafkaProducerPort } from "./ports/types";
import { connectorOrigin } from "./routes/loop-guard";
import type { Pipeline, SpoolState } from "./routes/pipeline";
import type { MqttToKafkaPipeline } from "./routes/mqtt-to-kafka";
import type { KafkaToMqttPipeline } from "./routes/kafka-to-mqtt";
import { createPipeline, describeRoute, routeDefs, type RouteDef } from "./lifecycle/route-defs";
import { planReload, type ReloadPlan, type RouteState } from "./lifecycle/reload-plan";
import { TopicMetadata, type TopicSnapshot } from "./lifecycle/topic-metadata";
import { backoffMs, sleep } from "./core/backoff";
import { withTimeout } from "./core/timeout";
import { logThroughput } from "./lifecycle/summaries";
import { connectorPortUse, type RuntimeOptions } from "./lifecycle/runtime";
import { loadTopicSnapshot, openSpool, saveTopicSnapshot } from "./lifecycle/spool";
import type { Spool } from "./spool/store";

export { DEFAULT_RUNTIME, type RuntimeOptions } from "./lifecycle/runtime";
export type { ConnectorPorts } from "./ports/factory";

export interface RouteRuntimeState {
  name: string;
  direction: Pipeline["direction"];
  connected: boolean;
  inFlight: number;
  delivered: number;
  /** With a disk spool: what the route holds there, and whether the spool is full. */
  spool?: SpoolState;
}

/**
 * With a spool and saved topic metadata: how long the start waits for Kafka before it goes on without
 * it. Short: while no process holds the MQTT session a stock Mosquitto keeps only 1000 messages for it.
 */
const START_METADATA_MS = 1_000;

export type ConnectorState = "new" | "starting" | "running" | "stopping" | "stopped";

/**
 * One KafkaConnector with its topic maps, as a list of pipelines. `start()` connects and starts
 * every route; `stop()` drains: stop intake → flush batches → await Kafka acks and PUBACKs/commits →
 * disconnect. `reload()` swaps topic maps while running, restarting only the routes that changed.
 */
export class Connector {
  state: ConnectorState = "new";
  readonly metrics: ConnectorMetrics;
  readonly clientIdPrefix: string;
  private readonly routes = new Map<string, { pipeline: Pipeline; state: RouteState }>();
  private topicMaps: KafkaConnectorTopicMapResource[];
  private readonly ports: ConnectorPorts;
  private readonly topics: TopicMetadata;
  private producer: KafkaProducerPort | undefined;
  private summaries: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private drainCompleted = false;
  private reloading: Promise<unknown> = Promise.resolve();
  private readonly abortStart = new AbortController();
  private spool: Spool | undefined;
  /** Started on the topic metadata saved with the spool: Kafka did not answer, the producer connects later. */
  private kafkaDeferred = false;

  constructor(
    readonly config: ConnectorConfig,
    readonly runtime: RuntimeOptions,
    private readonly log: Logger,
    ports?: ConnectorPorts,
  ) {
    const meta = config.connector.metadata;
    this.clientIdPrefix = config.connector.spec.clientIdPrefix ?? meta.name;
    this.topicMaps = config.topicMaps;
    this.metrics = new ConnectorMetrics({ connector: meta.name, instance: String(runtime.instanceIndex) });
    this.checkCompression(config.topicMaps);
    this.ports = ports ?? this.defaultPorts();
    if (this.ports.kafkajs) this.metrics.setKafkajsSeam(this.ports.kafkajs.parts);
    this.topics = new TopicMetadata(this.ports.kafka, log, config.connector.spec.kafkaConnection.endpoint);
  }

  private defaultPorts(): ConnectorPorts {
    const use = connectorPortUse(this.runtime, this.clientIdPrefix);
    return buildPorts(this.config.connector, use, this.log, (client, event) => (event === "reconnect" ? this.metrics.reconnects : this.metrics.connectionErrors).inc({ client }));
  }

  /** Event Hubs refuses snappy and lz4: say so before connecting rather than after the first send. */
  private checkCompression(maps: KafkaConnectorTopicMapResource[]): void {
    const endpoint = this.config.connector.spec.kafkaConnection.endpoint;
    const problems = compressionProblems(endpoint, maps);
    if (problems.length) throw new ConnectorError("CONFIG_INVALID", problems.map(formatProblem).join("\n"));
    for (const p of compressionProblems(endpoint, maps, false)) this.log.warn({ topicMap: p.document }, p.message);
  }

  /** The running pipelines of one direction (tests and the benchmark read their stats). */
  get m2k(): MqttToKafkaPipeline[] {
    return this.pipelines.filter((p): p is MqttToKafkaPipeline => p.direction === "mqttToKafka");
  }

  get k2m(): KafkaToMqttPipeline[] {
    return this.pipelines.filter((p): p is KafkaToMqttPipeline => p.direction === "kafkaToMqtt");
  }

  private get pipelines(): Pipeline[] {
    return [...this.routes.values()].map((r) => r.pipeline);
  }

  async start(): Promise<void> {
    if (this.state !== "new") throw new ConnectorError("LIFECYCLE", `start() called in state ${this.state}`);
    this.state = "starting";
    if (this.runtime.spool) this.spool = openSpool(this.runtime.spool, this.runtime.instanceIndex, this.metrics, this.log);
    this.topics.use(await this.firstSnapshot());
    this.topics.refreshEvery(this.runtime.partitionRefreshMs, () => this.topicMaps);
    const defs = [...routeDefs(this.config.connector, this.topicMaps).values()];
    await this.startRoutes(defs);
    this.spool?.warnStranded();
    this.state = "running";
    this.log.info({ routes: defs.map((d) => describeRoute(d, this.config.connector)) }, "connector running");
    this.summaries = logThroughput(() => this.pipelines, this.runtime.summaryIntervalMs, this.log);
  }

  /**
   * The topic metadata to start with. Without a spool, the start waits for Kafka. With one, a Kafka
   * that does not answer within START_METADATA_MS does not hold the routes back when an earlier run
   * saved the metadata next to the spool: the routes subscribe and spool what they take, instead of
   * leaving it to a broker that drops everything past its queue limit (say, a restart in an outage).
   */
  private async firstSnapshot(): Promise<TopicSnapshot> {
    const spool = this.spool;
    const saved = spool && loadTopicSnapshot(spool, this.topicMaps);
    if (spool && saved) {
      try {
        const s = await withTimeout(this.topics.fetch(this.topicMaps), START_METADATA_MS, "Kafka topic metadata");
        saveTopicSnapshot(spool, s, this.log);
        return s;
      } catch (e) {
        if (e instanceof ConnectorError && e.code === "KAFKA_TOPIC_MISSING") throw e;
        this.log.warn({ err: (e as Error).message }, "Kafka does not answer at start: using the topic metadata saved with the spool; messages are spooled until Kafka is back");
        this.kafkaDeferred = true;
        return saved;
      }
    }
    const s = await this.topics.fetchRetrying(this.topicMaps, this.abortStart.signal);
    if (spool) saveTopicSnapshot(spool, s, this.log);
    return s;
  }

  /** Connects the producer until it works (a start on saved metadata); sends fail, and are spooled, meanwhile. */
  private connectInBackground(producer: KafkaProducerPort): void {
    void (async () => {
      for (let attempt = 0; !this.abortStart.signal.aborted; attempt++) {
        try {
          await producer.connect();
          this.log.info("Kafka producer connected");
          return;
        } catch (e) {
          const delay = backoffMs(attempt, 500, 5_000);
          this.log.warn({ err: (e as Error).message, attempt, retryInMs: delay }, "Kafka producer cannot connect yet");
          await sleep(delay, this.abortStart.signal);
        }
      }
    })();
  }

  /** Creates (the shared producer first, when a route produces) and starts the pipelines of `defs`. */
  private async startRoutes(defs: RouteDef[]): Promise<void> {
    if (!this.producer && needsProducer(this.topicMaps)) {
      const producer = this.ports.kafka.producer();
      if (this.kafkaDeferred) this.connectInBackground(producer);
      else await producer.connect();
      this.producer = producer;
    }
    const spool = this.spool && this.runtime.spool ? { spool: this.spool, mode: this.runtime.spool.mode } : undefined;
    const ctx = { connector: this.config.connector, clientIdPrefix: this.clientIdPrefix, ports: this.ports, topics: this.topics, runtime: this.runtime, metrics: this.metrics, log: this.log, ...(spool ? { spool } : {}) };
    const origin = connectorOrigin(this.config.connector.metadata.namespace, this.config.connector.metadata.name);
    const started = defs.map((d) => {
      const pipeline = createPipeline(d, { ...ctx, origin, producer: () => this.producer! });
      this.routes.set(d.route.key, { pipeline, state: d });
      return pipeline.start();
    });
    await Promise.all(started);
  }

  /** True when every route is running with its connections up. */
  get ready(): boolean {
    return this.state === "running" && this.pipelines.every((p) => p.ready);
  }

  /** Per-route state for /readyz and the custom resources' status. */
  routeStates(): Record<string, RouteRuntimeState> {
    return Object.fromEntries(
      this.pipelines.map((p) => {
        const spool = p.spoolState?.();
        return [p.key, { name: p.name, direction: p.direction, connected: p.ready, inFlight: p.inFlight, delivered: p.stats.delivered, ...(spool ? { spool } : {}) }];
      }),
    );
  }

  /** Updates the gauges that are cheaper to read at scrape time than to track per message. */
  refreshGauges(): void {
    this.metrics.observe(this.pipelines, this.ready);
  }

  /**
   * Applies new topic maps while running (lifecycle/reload-plan.ts decides what restarts). Topics
   * are checked first: a reload naming a missing topic is rejected and nothing changes.
   */
  reload(maps: KafkaConnectorTopicMapResource[]): Promise<ReloadPlan> {
    const run = this.reloading.then(() => this.applyMaps(maps));
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async applyMaps(maps: KafkaConnectorTopicMapResource[]): Promise<ReloadPlan> {
    if (this.state !== "running") throw new ConnectorError("LIFECYCLE", `reload in state ${this.state}`);
    this.checkCompression(maps);
    const snapshot = await this.topics.fetch(maps);
    const defs = routeDefs(this.config.connector, maps);
    const plan = planReload(new Map([...this.routes].map(([k, r]) => [k, r.state])), defs);
    this.topics.use(snapshot);
    this.topicMaps = maps;
    await Promise.all(
      [...plan.removed, ...plan.changed].map(async (key) => {
        const { pipeline } = this.routes.get(key)!;
        const gone = plan.removed.includes(key);
        await pipeline.drain({ leave: plan.leave.includes(key) });
        await pipeline.disconnect({ endSession: gone });
        this.routes.delete(key);
        if (gone) await this.metrics.removeRoute(pipeline.name);
      }),
    );
    await this.startRoutes([...plan.added, ...plan.changed].map((k) => defs.get(k)!));
    const { leave: _leave, ...summary } = plan;
    this.log.info(summary, "topic maps reloaded");
    return plan;
  }

  /**
   * Idempotent; every caller gets the same promise. Resolves true when the drain completed within
   * the timeout, false when it gave up (unacknowledged MQTT messages are then redelivered by the broker).
   */
  stop(timeoutMs = 30_000): Promise<boolean> {
    this.stopping ??= this.drain(timeoutMs);
    return this.stopping.then(() => this.drainCompleted);
  }

  private async drain(timeoutMs: number): Promise<void> {
    this.state = "stopping";
    this.abortStart.abort();
    this.topics.stop();
    if (this.summaries) clearInterval(this.summaries);
    await this.reloading;
    const pipelines = this.pipelines;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    const outcome = await Promise.race([Promise.all(pipelines.map((p) => p.drain())).then(() => "done" as const), timedOut]);
    clearTimeout(timer);
    this.drainCompleted = outcome === "done";
    if (!this.drainCompleted) {
      this.log.error({ timeoutMs }, "drain timed out; unacknowledged messages stay with the brokers and will be redelivered");
      for (const p of pipelines) p.abort();
    }
    await Promise.all(pipelines.map((p) => p.disconnect()));
    await this.spool?.close().catch((e: unknown) => this.log.error({ err: (e as Error).message }, "closing the spool failed"));
    await this.ports.kafka.close();
    this.state = "stopped";
    const stats = (dir: Pipeline["direction"]) => Object.fromEntries(pipelines.filter((p) => p.direction === dir).map((p) => [p.name, { ...p.stats, receivedByClient: undefined }]));
    this.log.info({ drained: this.drainCompleted, mqttToKafka: stats("mqttToKafka"), kafkaToMqtt: stats("kafkaToMqtt") }, "connector stopped");
  }
}
