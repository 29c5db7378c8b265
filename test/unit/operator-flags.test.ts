import { strict as assert } from "node:assert";
import { FlagError, parseOperatorFlags, USAGE } from "../../connector/operator/flags";
import { DEFAULT_RESOURCES } from "../../connector/k8s/workload";

describe("operator: flags", () => {
  it("defaults to every namespace and the Pulumi component's workload defaults", () => {
    const o = parseOperatorFlags([], {});
    assert.ok(o !== "help");
    assert.equal(o.namespace, undefined);
    assert.equal(o.resyncMs, 300_000);
    assert.equal(o.httpPort, 8080);
    assert.equal(o.logLevel, "info");
    assert.deepEqual(o.defaults, {
      allowedImages: [],
      workload: {
        mqttTokenAudience: "aio-internal",
        resources: { requests: { cpu: DEFAULT_RESOURCES.cpuRequest, memory: DEFAULT_RESOURCES.memoryRequest }, limits: { memory: DEFAULT_RESOURCES.memoryLimit } },
        imagePullSecrets: [],
        terminationGracePeriodSeconds: 60,
        maxUnavailable: 1,
      },
    });
  });

  it("takes flags over the environment", () => {
    const o = parseOperatorFlags(["--namespace", "plant", "--cpu-limit", "1", "--image-pull-secret", "a", "--image-pull-secret", "b", "--allow-image", "example.com/", "--log-level", "debug"], { WATCH_NAMESPACE: "other", HTTP_PORT: "9090" });
    assert.ok(o !== "help");
    assert.equal(o.namespace, "plant");
    assert.equal(o.httpPort, 9090);
    assert.equal(o.logLevel, "debug");
    assert.deepEqual(o.defaults.workload.resources.limits, { memory: "512Mi", cpu: "1" });
    assert.deepEqual(o.defaults.workload.imagePullSecrets, ["a", "b"]);
    assert.deepEqual(o.defaults.allowedImages, ["example.com/"]);
    const env = parseOperatorFlags([], { WATCH_NAMESPACE: "other", LOG_LEVEL: "warn" });
    assert.ok(env !== "help" && env.namespace === "other" && env.logLevel === "warn");
  });

  it("refuses bad values with FlagError naming the flag, unknown flags with parseArgs' error", () => {
    const bad: [string[], RegExp][] = [
      [["--resync-seconds", "0"], /^--resync-seconds must be an integer from 1 to 86400, got "0"$/],
      [["--memory-limit", "lots"], /^--memory-limit must be a Kubernetes quantity/],
      [["--namespace", "Bad_NS"], /^--namespace must be a namespace name/],
      [["--log-level", "verbose"], /^--log-level must be one of/],
      [["--http-port", "70000"], /^--http-port must be an integer from 0 to 65535/],
    ];
    for (const [argv, re] of bad) assert.throws(() => parseOperatorFlags(argv, {}), (e: unknown) => e instanceof FlagError && re.test(e.message), argv.join(" "));
    assert.throws(() => parseOperatorFlags(["--bogus"], {}), (e: unknown) => e instanceof TypeError && !(e instanceof FlagError));
    assert.throws(() => parseOperatorFlags(["extra"], {}), TypeError);
    assert.equal(parseOperatorFlags(["-h"], {}), "help");
    for (const flag of ["--namespace", "--resync-seconds", "--allow-image", "--http-port"]) assert.ok(USAGE.includes(flag), flag);
  });
});
