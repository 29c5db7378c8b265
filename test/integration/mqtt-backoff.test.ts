import { strict as assert } from "node:assert";
import { Writable } from "node:stream";
import pino from "pino";
import { MqttJsPort } from "../../connector/ports/mqtt/port";
import { freePort } from "../../scripts/local-brokers";

describe("MQTT reconnect backoff", function () {
  it("an unreachable broker is retried with growing delays, and each failure is logged", async () => {
    const port = await freePort(); // nothing listens here
    const lines: { msg: string; nextRetryMs?: number; level: number }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split("\n")) if (l) lines.push(JSON.parse(l) as { msg: string; level: number });
        cb();
      },
    });
    const mqttPort = new MqttJsPort({ url: `mqtt://127.0.0.1:${port}`, reconnectPeriodMs: 100 }, pino({ level: "debug" }, sink));
    const sub = mqttPort.subscribe({ clientId: "backoff-test", filter: "x", qos: 1, receiveMaximum: 10, sessionExpirySeconds: 0 }, () => undefined);
    void sub.start();
    await new Promise((r) => setTimeout(r, 3000));
    await sub.close();
    const delays = lines.filter((l) => l.msg === "MQTT reconnecting").map((l) => l.nextRetryMs);
    // 100 ms doubling: 200, 400, 800, 1600 ... fits about five attempts in 3 s; a fixed 100 ms would be ~30.
    assert.ok(delays.length >= 3 && delays.length <= 6, `attempts in 3 s: ${delays.length}`);
    assert.deepEqual(delays.slice(0, 3), [200, 400, 800]);
    assert.ok(lines.some((l) => l.msg === "MQTT error" && l.level === 50), "connection failures are logged at error");
  });
});
