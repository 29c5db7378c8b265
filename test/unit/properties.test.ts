import { strict as assert } from "node:assert";
import { propertiesToHeaders, headersToProperties, HEADER } from "../../connector/core/properties";

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
});
