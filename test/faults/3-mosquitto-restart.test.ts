// Scenario 3: Mosquitto (persistence on) is restarted mid-stream, with traffic
// in both directions. Every MQTT client — the connector's subscription and
// publishers, the load generator, the far-end subscriber — has a persistent
// session, so what the broker had queued survives the restart; the connector
// reconnects by itself and neither loses PUBACK-owed MQTT messages nor commits
// Kafka offsets of publishes that were never acknowledged.
import { runBrokerFault } from "./support/broker-fault";
import { waitFor } from "../helpers/wait";
import { progress } from "./support/env";
import { faultScenario, note } from "./support/scenario";

describe("fault scenario 3: Mosquitto restarted mid-stream (persistence on), both directions", function () {
  this.timeout(240_000);
  const s = faultScenario();
  let restartedAt = 0;

  it("reconnects by itself and delivers every message", async () => {
    await runBrokerFault(s, {
      n: 3,
      dirName: "3-mosquitto-restart",
      messages: 10_000,
      ratePerSec: 400,
      faultAfter: 1 / 3,
      brokerState: (b) => `mosquitto ${b.mqtt.running ? "up" : "DOWN"}`,
      inject: async (b, tag) => {
        restartedAt = Date.now();
        await b.mqtt.stop(); // SIGTERM: mosquitto writes its persistence file on the way out
        await b.mqtt.start();
        progress(`${tag}: Mosquitto back after ${((Date.now() - restartedAt) / 1000).toFixed(1)} s`);
      },
      afterInject: async (proc) => {
        await waitFor("the connector to be ready again", () => proc.isReady(), 60_000, 200);
        note(proc, `ready again ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after the restart began`);
      },
      reportLoadErrors: (mLoad, _k, tag) => {
        if (mLoad.errors) progress(`${tag}: the MQTT load generator re-published ${mLoad.errors} messages (${mLoad.lastError})`);
      },
    });
  });
});
