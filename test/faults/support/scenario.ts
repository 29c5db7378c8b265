// What every fault scenario shares: its brokers and mocha hooks, names and topics, the connector
// config and files, connector processes that end with the scenario, and a background watcher of a
// topic's end offset.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Admin } from "kafkajs";
import { sharedBrokersFixture, type BrokerProfile, type SharedBrokers } from "../../helpers/brokers";
import { plainConnections, secretsDir, testConfig, writeConfigDir, type KafkaToMqttSpec, type MapSpec, type MqttToKafkaSpec, type RouteSpec, type TestConfig } from "../../helpers/config";
import { ConnectorProcess } from "../../helpers/connector-process";
import { CONNECTOR_CLI, progress, scenarioDir, Scope } from "./env";
import { topicEnd } from "./streams";

/**
 * The fault suite's brokers: one Kafka and one Mosquitto with persistence (sessions and their
 * queues survive a restart), shared by the scenario files, which stop and restart them.
 */
export const FAULT_BROKERS: BrokerProfile = {
  name: "faults",
  kafka: { heapMb: 512 },
  mqtt: {
    persistence: true,
    // The harness autosaves every second. Scenario 4 piles up hundreds of
    // MB for a stopped Kafka, and mosquitto 2.0 rewrites its whole
    // database on each save; the restart in scenario 3 is a graceful stop,
    // which saves the database anyway. The later line overrides the harness's.
    extraConfig: ["autosave_interval 120"],
  },
  onStarted: (b, ms) => progress(`brokers up in ${(ms / 1000).toFixed(1)} s: kafka ${b.kafka.bootstrap}, mosquitto ${b.mqtt.url} (persistence on)`),
};

/** Restart whichever broker a previous scenario left stopped. */
export async function ensureRunning(b: SharedBrokers): Promise<void> {
  if (!b.kafka.running) {
    progress("kafka was left stopped; starting it");
    await b.kafka.start();
  }
  if (!b.mqtt.running) {
    progress("mosquitto was left stopped; starting it");
    await b.mqtt.start();
  }
}

/** Where a scenario's connector reads its config and secrets and writes its log. */
export interface ScenarioFiles {
  dir: string;
  configDir: string;
  secretsDir: string;
  logFile: string;
}

/** Writes `config` as `<run dir>/<dirName>/config/config.yaml`, next to an empty secrets dir. */
export function scenarioFiles(dirName: string, config: TestConfig): ScenarioFiles {
  const dir = scenarioDir(dirName);
  return {
    dir,
    configDir: writeConfigDir({ "config.yaml": config.text }, join(dir, "config")),
    secretsDir: secretsDir({}, join(dir, "secrets")),
    logFile: join(dir, "connector.log"),
  };
}

export interface ScenarioConnectorOptions {
  /** Name in progress lines. */
  label: string;
  receiveMaximum?: number;
  /** Default 30. */
  drainTimeoutS?: number;
  /** Default 60 s. */
  readyWithinMs?: number;
  /** More CLI arguments, e.g. the spool's. */
  extraArgs?: string[];
  /** SIGKILL after this long no matter what; default 600 s. */
  hardLimitMs?: number;
}

/**
 * Mocha hooks of a fault scenario: the suite's brokers (any left stopped are started again) before,
 * and after, the scope's cleanup (connectors killed, clients closed) and the brokers back up.
 */
export function faultScenario(profile: BrokerProfile = FAULT_BROKERS) {
  const scope = new Scope();
  const brokers = sharedBrokersFixture(profile);
  let up = false;
  before(async () => {
    up = true;
    await ensureRunning(brokers);
  });
  after(async () => {
    await scope.dispose();
    if (up) await ensureRunning(brokers);
  });
  return {
    scope,
    brokers,
    /**
     * Starts the connector CLI on the scenario's files as instance 0 (a replacement resumes the
     * same MQTT sessions and consumer groups), killed when the scenario ends; resolves once ready.
     */
    async startConnector(files: ScenarioFiles, o: ScenarioConnectorOptions): Promise<ConnectorProcess> {
      const p = await ConnectorProcess.serve({
        cli: CONNECTOR_CLI,
        config: files.configDir,
        secretsDir: files.secretsDir,
        logFile: files.logFile,
        instance: 0,
        drainTimeoutS: o.drainTimeoutS ?? 30,
        receiveMaximum: o.receiveMaximum,
        label: o.label,
        hardLimitMs: o.hardLimitMs ?? 600_000,
        ...(o.extraArgs ? { extraArgs: o.extraArgs } : {}),
      });
      scope.add(() => p.kill());
      const t = Date.now();
      await p.waitReady(o.readyWithinMs ?? 60_000);
      note(p, `ready after ${((Date.now() - t) / 1000).toFixed(1)} s`);
      return p;
    },
  };
}

export type FaultScenario = ReturnType<typeof faultScenario>;

/** Log a line about a process event with its pid. */
export function note(p: ConnectorProcess, what: string): void {
  progress(`${p.opts.label} (pid ${p.pid}): ${what}`);
}

export interface Topology {
  scenario: number;
  /** Unique per run: part of every name, so runs and scenarios never share state. */
  id: string;
  connectorName: string;
  m2k?: { route: string; mqttTopic: string; kafkaTopic: string; partitions: number };
  k2m?: { route: string; kafkaTopic: string; mqttTopic: string; partitions: number; group: string };
}

export function makeTopology(scenario: number, directions: { m2k: boolean; k2m: boolean }, partitions = 3): Topology {
  const id = `s${scenario}-${Date.now().toString(36)}-${randomBytes(2).toString("hex")}`;
  return {
    scenario,
    id,
    connectorName: `faults-${id}`,
    ...(directions.m2k ? { m2k: { route: "m2k", mqttTopic: `faults/${id}/in`, kafkaTopic: `faults-${id}-m2k`, partitions } } : {}),
    ...(directions.k2m ? { k2m: { route: "k2m", kafkaTopic: `faults-${id}-k2m`, mqttTopic: `faults/${id}/out`, partitions, group: `faults-${id}-k2m` } } : {}),
  };
}

export async function createTopics(b: SharedBrokers, t: Topology): Promise<void> {
  if (t.m2k) await b.kafka.createTopic(t.m2k.kafkaTopic, t.m2k.partitions);
  if (t.k2m) await b.kafka.createTopic(t.k2m.kafkaTopic, t.k2m.partitions);
}

export interface TopologyOverrides {
  /** Fields over the mqttToKafka / kafkaToMqtt route, e.g. `deadLetter`. */
  m2k?: Partial<MqttToKafkaSpec>;
  k2m?: Partial<KafkaToMqttSpec>;
  /** Topic-map spec fields besides the routes. */
  map?: Partial<MapSpec>;
}

/**
 * KafkaConnector + KafkaConnectorTopicMap for the scenario's brokers, QoS 1 both ways, at
 * logLevel info so the final "connector stopped" line carries per-route stats.
 */
export function topologyConfig(b: SharedBrokers, t: Topology, o: TopologyOverrides = {}): TestConfig {
  const routes: RouteSpec[] = [];
  if (t.m2k) routes.push({ mqttToKafka: { name: t.m2k.route, mqttTopic: t.m2k.mqttTopic, kafkaTopic: t.m2k.kafkaTopic, qos: 1, kafkaAcks: "all", ...o.m2k } });
  if (t.k2m) routes.push({ kafkaToMqtt: { name: t.k2m.route, kafkaTopic: t.k2m.kafkaTopic, mqttTopic: t.k2m.mqttTopic, consumerGroupId: t.k2m.group, qos: 1, ...o.k2m } });
  return testConfig({
    name: t.connectorName,
    connector: { ...plainConnections(b.kafka.bootstrap, b.mqtt.url), logLevel: "info" },
    maps: [{ spec: { ...o.map, routes } }],
  });
}

/** Keeps `value` at the topic's end offset (sum over partitions), polled every `everyMs`. */
export class TopicEndWatch {
  value = 0;
  private timer: NodeJS.Timeout;
  private busy = false;

  constructor(admin: Admin, topic: string, everyMs = 500) {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      void topicEnd(admin, topic)
        .then((v) => {
          if (v !== undefined) this.value = v;
        })
        .finally(() => (this.busy = false));
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
