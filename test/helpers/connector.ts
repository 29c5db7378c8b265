// The connector in the test process. Every `new Connector(...)` of the tests is in this file.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { parseConfigText, selectConnector } from "../../connector/config/load";
import { Connector, DEFAULT_RUNTIME, type RuntimeOptions } from "../../connector/connector";
import { formatProblem } from "../../connector/core/errors";
import { sharedBrokersFixture, uniqueName, type BrokerProfile } from "./brokers";
import { plainConnections, testConfig, type TestConfig, type TestConfigOptions } from "./config";

export interface TestConnectorOptions {
  /** From testConfig(). */
  config: TestConfig;
  runtime?: Partial<RuntimeOptions>;
  /** Default: an empty temporary directory. */
  secretsDir?: string;
  /** Level of the log file (default info). */
  logLevel?: string;
}

export interface TestConnector {
  connector: Connector;
  logFile: string;
}

/** A connector in this process, not started yet. Logs go to a file so failures can be read afterwards. */
export function buildTestConnector(o: TestConnectorOptions): TestConnector {
  const { resources, problems } = parseConfigText(o.config.text, "test.yaml");
  if (problems.length) throw new Error(problems.map(formatProblem).join("\n"));
  const config = selectConnector(resources);
  const dir = mkdtempSync(join(tmpdir(), "mkc-it-"));
  const logFile = join(dir, "connector.log");
  const log = pino({ level: o.logLevel ?? "info" }, pino.destination({ dest: logFile, sync: true }));
  const connector = new Connector(config, { ...DEFAULT_RUNTIME, instanceIndex: 0, secretsDir: o.secretsDir ?? dir, ...o.runtime }, log);
  return { connector, logFile };
}

/** Builds and starts a connector in this process. */
export async function startTestConnector(o: TestConnectorOptions): Promise<TestConnector> {
  const r = buildTestConnector(o);
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

export interface FixtureConfigOptions {
  /** The connector's name; default a unique one from the fixture's prefix. */
  name?: string;
  /** Spec fields over plain connections to the shared brokers (see testConfig). */
  connector?: Partial<TestConfigOptions["connector"]>;
  maps: TestConfigOptions["maps"];
}

export type FixtureStartOptions = FixtureConfigOptions & Omit<TestConnectorOptions, "config">;

/**
 * Mocha hooks shared by the integration suites: start the shared brokers before, and after each
 * test stop every connector it started (printing the log tail of each when the test failed).
 * `namePrefix` makes the default connector names.
 */
export function connectorFixture(namePrefix = "itest", profile?: BrokerProfile) {
  const running: TestConnector[] = [];
  const brokers = sharedBrokersFixture(profile);
  afterEach(async function () {
    for (const r of running.splice(0)) {
      if (this.currentTest?.state === "failed") process.stderr.write(`--- connector log ---\n${readLog(r.logFile).slice(-4000)}\n`);
      await r.connector.stop(10_000);
    }
  });
  const options = ({ name, connector, maps, ...rest }: FixtureStartOptions): TestConnectorOptions => ({ ...rest, config: fx.config({ name, connector, maps }) });
  const fx = {
    /** The shared brokers (see sharedBrokersFixture). */
    brokers,
    /** A config for the shared brokers: plain connections unless `connector` replaces them. */
    config(o: FixtureConfigOptions): TestConfig {
      return testConfig({
        name: o.name ?? uniqueName(namePrefix).toLowerCase().replace(/[^a-z0-9-]/g, "-"),
        connector: { ...plainConnections(brokers.kafka.bootstrap, brokers.mqtt.url), ...o.connector },
        maps: o.maps,
      });
    },
    /** Builds a connector on the shared brokers (not started, not tracked). */
    build(o: FixtureStartOptions): TestConnector {
      return buildTestConnector(options(o));
    },
    /** Builds, starts and tracks a connector on the shared brokers. */
    async start(o: FixtureStartOptions): Promise<TestConnector> {
      return fx.track(await startTestConnector(options(o)));
    },
    track(r: TestConnector) {
      running.push(r);
      return r;
    },
    /** For a test that stops a connector itself. */
    untrack(c: Connector) {
      const i = running.findIndex((r) => r.connector === c);
      if (i >= 0) running.splice(i, 1);
    },
  };
  return fx;
}

