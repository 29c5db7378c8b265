import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfigText, selectConnector } from "../../connector/config/load";
import { Connector, DEFAULT_RUNTIME, type RuntimeOptions } from "../../connector/connector";
import pino from "pino";
import { sharedBrokers, type SharedBrokers } from "./brokers";
import { formatProblem } from "../../connector/core/errors";

export { delay, waitFor } from "./wait";
export { secretsDir } from "./config";

export interface TestConnectorOptions {
  /** YAML of the KafkaConnector spec body (indented two spaces), endpoints included. */
  connectorSpec: string;
  /** YAML of the topic map spec body without kafkaConnectorRef. */
  mapSpec: string;
  runtime?: Partial<RuntimeOptions>;
  secretsDir?: string;
}

export function connectorYaml(o: TestConnectorOptions, name = "itest"): string {
  return [
    "apiVersion: mq.iotoperations.azure.com/v1beta1",
    "kind: KafkaConnector",
    `metadata: {name: ${name}}`,
    "spec:",
    o.connectorSpec,
    "---",
    "apiVersion: mq.iotoperations.azure.com/v1beta1",
    "kind: KafkaConnectorTopicMap",
    `metadata: {name: ${name}-map}`,
    "spec:",
    `  kafkaConnectorRef: ${name}`,
    o.mapSpec,
  ].join("\n");
}

/** Plain endpoints for the shared brokers. */
export function plainConnectorSpec(kafkaBootstrap: string, mqttUrl: string, extra = "", instances = 1): string {
  const port = new URL(mqttUrl).port;
  return [
    "  image: {}",
    `  instances: ${instances}`,
    "  logLevel: warn",
    `  kafkaConnection: {endpoint: "${kafkaBootstrap}", tls: {tlsEnabled: false}}`,
    `  localBrokerConnection: {endpoint: "127.0.0.1:${port}", tls: {tlsEnabled: false}}`,
    extra,
  ].join("\n");
}

/** A connector in this process, not started yet. Logs go to a file so failures can be read afterwards. */
export function buildTestConnector(o: TestConnectorOptions, name = "itest", level = "info"): { connector: Connector; logFile: string } {
  const { resources, problems } = parseConfigText(connectorYaml(o, name), "test.yaml");
  if (problems.length) throw new Error(problems.map(formatProblem).join("\n"));
  const config = selectConnector(resources);
  const dir = mkdtempSync(join(tmpdir(), "mkc-it-"));
  const logFile = join(dir, "connector.log");
  const log = pino({ level }, pino.destination({ dest: logFile, sync: true }));
  const connector = new Connector(config, { ...DEFAULT_RUNTIME, instanceIndex: 0, secretsDir: o.secretsDir ?? dir, ...o.runtime }, log);
  return { connector, logFile };
}

/** Builds and starts a connector in this process. */
export async function startTestConnector(o: TestConnectorOptions, name = "itest"): Promise<{ connector: Connector; logFile: string }> {
  const r = buildTestConnector(o, name);
  await r.connector.start();
  return r;
}

export function readLog(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/**
 * Mocha hooks shared by the integration suites: start the shared brokers before, and after each
 * test stop every connector it started (printing the log tail of each when the test failed).
 */
export function connectorFixture() {
  const running: { connector: Connector; logFile: string }[] = [];
  let brokers: SharedBrokers | undefined;
  before(async () => {
    brokers = await sharedBrokers();
  });
  afterEach(async function () {
    for (const r of running.splice(0)) {
      if (this.currentTest?.state === "failed") process.stderr.write(`--- connector log ---\n${readLog(r.logFile).slice(-4000)}\n`);
      await r.connector.stop(10_000);
    }
  });
  return {
    get brokers(): SharedBrokers {
      if (!brokers) throw new Error("brokers not started yet");
      return brokers;
    },
    track(r: { connector: Connector; logFile: string }) {
      running.push(r);
      return r;
    },
    /** For a test that stops a connector itself. */
    untrack(c: Connector) {
      const i = running.findIndex((r) => r.connector === c);
      if (i >= 0) running.splice(i, 1);
    },
  };
}
