import { strict as assert } from "node:assert";
import { propertiesToHeaders, headersToProperties, remainingExpirySeconds, HEADER } from "../../connector/core/properties";

describe("MQTT properties <-> Kafka headers", () => {
  const props = {
    contentType: "application/json",
    payloadFormatIndicator: true,
    messageExpiryInterval: 120,
    responseTopic: "replies/1",
    correlationData: Buffer.from([0, 1, 2, 255]),
    userProperties: { site: "plant-7", tag: ["a", "b"] },
  };

  it("maps system properties to reserved headers and user properties as they are", () => {
    assert.deepEqual(propertiesToHeaders("t/1", props), {
      site: "plant-7",
      tag: ["a", "b"],
      [HEADER.topic]: "t/1",
      [HEADER.contentType]: "application/json",
      [HEADER.payloadFormatIndicator]: "1",
      [HEADER.messageExpiryInterval]: "120",
      [HEADER.responseTopic]: "replies/1",
      [HEADER.correlationData]: Buffer.from([0, 1, 2, 255]),
    });
  });

  it("a user property cannot impersonate a reserved header", () => {
    const h = propertiesToHeaders("real/topic", { userProperties: { "mqtt-topic": "fake" } });
    assert.equal(h[HEADER.topic], "real/topic");
  });

  it("round-trips everything but the source topic", () => {
    const back = headersToProperties(propertiesToHeaders("t/1", props));
    assert.deepEqual(back.skipped, []);
    assert.deepEqual(back.properties, props);
  });

  it("decodes kafkajs Buffer headers and skips non-UTF-8 user values", () => {
    const r = headersToProperties({
      ok: Buffer.from("yes"),
      bad: Buffer.from([0xff, 0xfe]),
      [HEADER.messageExpiryInterval]: Buffer.from("soon"),
      [HEADER.payloadFormatIndicator]: Buffer.from("0"),
    });
    assert.deepEqual(r.properties, { payloadFormatIndicator: false, userProperties: { ok: "yes" } });
    assert.deepEqual(r.skipped, [
      { header: "bad", reason: "value is not valid UTF-8, which MQTT user properties require" },
      { header: HEADER.messageExpiryInterval, reason: 'not an interval in seconds: "soon"' },
    ]);
  });

  it("empty input gives empty properties", () => {
    assert.deepEqual(headersToProperties(undefined), { properties: {}, skipped: [] });
    assert.deepEqual(propertiesToHeaders("x", undefined), { [HEADER.topic]: "x" });
  });

  it("message expiry: subtracts the time the record waited in Kafka, rounds up, and says when it ran out", () => {
    const t0 = 1_700_000_000_000;
    const cases: [interval: number, timestamp: number, now: number, expected: number | "expired"][] = [
      [60, t0, t0, 60],
      [60, t0, t0 + 1, 60],
      [60, t0, t0 + 1000, 59],
      [60, t0, t0 + 59_001, 1],
      [60, t0, t0 + 60_000, "expired"],
      [60, t0, t0 + 3_600_000, "expired"],
      [60, t0, t0 - 5000, 60], // a producer clock ahead of ours adds nothing
      [0, t0, t0, "expired"],
      [60, -1, t0, 60], // no timestamp: forwarded as received
      [60, NaN, t0, 60],
    ];
    for (const [interval, ts, now, expected] of cases) assert.equal(remainingExpirySeconds(interval, ts, now), expected, JSON.stringify([interval, ts - t0, now - t0]));
  });
});
