import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RUNTIME_OPTIONS, optionsUsage, resolveRuntime, runtimeEnvironment, UsageError } from "../../connector/config/runtime-options";
import { DEFAULT_RUNTIME } from "../../connector/connector";

describe("runtime options table", () => {
  it("takes a flag over its environment variable over the fallback over the default", () => {
    const v = resolveRuntime({ "receive-maximum": "50" }, { MQTT_RECEIVE_MAXIMUM: "70", KAFKA_TO_MQTT_CONNECTIONS: "2", LOG_LEVEL: "" }, { logLevel: "info" });
    assert.equal(v.receiveMaximum, 50);
    assert.equal(v.kafkaToMqttConnections, 2);
    assert.equal(v.logLevel, "info", "an empty variable counts as unset");
    assert.equal(v.commitIntervalMs, 1000);
    assert.equal(v.keepSharedSessions, false);
    assert.equal(resolveRuntime({}, { MQTT_KEEP_SHARED_SESSIONS: "true" }).keepSharedSessions, true);
  });

  it("names the flag, its variable, the value and what is allowed", () => {
    const bad: [Record<string, string>, NodeJS.ProcessEnv, string][] = [
      [{ "commit-interval-ms": "100" }, {}, '--commit-interval-ms (env KAFKA_COMMIT_INTERVAL_MS) must be an integer >= 250, got "100"'],
      [{}, { KAFKA_OFFSET_RESET: "middle" }, '--offset-reset (env KAFKA_OFFSET_RESET) must be one of earliest, latest, got "middle"'],
      [{ "http-port": "80x" }, {}, '--http-port (env HTTP_PORT) must be an integer >= 0, got "80x"'],
      [{ "log-level": "verbose" }, {}, '--log-level (env LOG_LEVEL) must be one of trace, debug, info, warn, error, fatal, got "verbose"'],
    ];
    for (const [flags, env, message] of bad) assert.throws(() => resolveRuntime(flags, env), (e: unknown) => e instanceof UsageError && e.message === message, message);
  });

  it("gives the connector its defaults and the usage text its lines", () => {
    assert.equal(DEFAULT_RUNTIME.receiveMaximum, RUNTIME_OPTIONS.receiveMaximum.default);
    assert.equal(DEFAULT_RUNTIME.leaveSharedOnStop, !RUNTIME_OPTIONS.keepSharedSessions.default);
    const usage = optionsUsage();
    for (const o of Object.values(RUNTIME_OPTIONS)) assert.ok(usage.includes(`--${o.flag}`) && usage.includes(`env ${o.env}`), o.flag);
    assert.match(usage, /--receive-maximum N\n {6}MQTT Receive Maximum .* \(env MQTT_RECEIVE_MAXIMUM; default 1000\)/);
  });

  it("renders component values as container environment, with the CLI's bounds, and refuses what the pod sets itself", () => {
    assert.deepEqual(runtimeEnvironment({ receiveMaximum: 200, offsetReset: "latest", keepSharedSessions: true }), {
      MQTT_RECEIVE_MAXIMUM: "200",
      KAFKA_OFFSET_RESET: "latest",
      MQTT_KEEP_SHARED_SESSIONS: "true",
    });
    assert.throws(() => runtimeEnvironment({ commitIntervalMs: 10 }), /runtime\.commitIntervalMs: --commit-interval-ms \(env KAFKA_COMMIT_INTERVAL_MS\) must be an integer >= 250, got "10"/);
    assert.throws(() => runtimeEnvironment({ httpPort: 9000 }), /runtime.httpPort: set by the component itself/);
  });

  it("is what the README's options table lists: every flag with its variable and default", () => {
    const readme = readFileSync(join(__dirname, "..", "..", "..", "README.md"), "utf8");
    const rows = readme.split("\n").filter((l) => l.startsWith("| `--"));
    for (const o of Object.values(RUNTIME_OPTIONS)) {
      const row = rows.find((r) => r.startsWith(`| \`--${o.flag}`));
      assert.ok(row, `README has no row for --${o.flag}`);
      assert.ok(row.includes(`\`${o.env}`), `README's --${o.flag} row names ${o.env}`);
      if (o.kind === "int" && o.flag !== "instance") assert.ok(row.includes(`| ${o.default} `), `README's --${o.flag} row says default ${o.default}`);
    }
  });
});
