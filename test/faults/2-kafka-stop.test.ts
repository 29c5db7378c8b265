// Scenario 2: the Kafka broker is stopped for 10 s mid-stream and started
// again, with traffic in both directions. The connector process keeps running:
// MQTT→Kafka must hold its PUBACKs and retry, Kafka→MQTT must resume its
// consumer group, all by itself.
import { strict as assert } from "node:assert";
import { runBrokerFault } from "./support/broker-fault";
import { delay as sleep } from "../helpers/wait";
import { progress } from "./support/env";
import { faultScenario } from "./support/scenario";

const OUTAGE_MS = 10_000;

describe("fault scenario 2: Kafka stopped for 10 s mid-stream, both directions", function () {
  this.timeout(240_000);
  const s = faultScenario();

  it("resumes by itself and delivers every message", async () => {
    await runBrokerFault(s, {
      n: 2,
      dirName: "2-kafka-stop",
      messages: 10_000,
      ratePerSec: 400,
      faultAfter: 1 / 4,
      brokerState: (b) => `kafka ${b.kafka.running ? "up" : "DOWN"}`,
      inject: async (b, tag) => {
        let t = Date.now();
        await b.kafka.stop();
        progress(`${tag}: Kafka stopped (took ${((Date.now() - t) / 1000).toFixed(1)} s); down for ${OUTAGE_MS / 1000} s`);
        await sleep(OUTAGE_MS);
        t = Date.now();
        await b.kafka.start();
        progress(`${tag}: Kafka started again (took ${((Date.now() - t) / 1000).toFixed(1)} s)`);
      },
      afterInject: async (proc) => assert.ok(proc.running, "the connector survived the outage"),
      reportLoadErrors: (_m, kLoad, tag) => {
        if (kLoad.errors) progress(`${tag}: the Kafka-side load generator retried ${kLoad.errors} sends during the outage (a retried batch can land twice at the source)`);
      },
    });
  });
});
