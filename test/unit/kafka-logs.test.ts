import { strict as assert } from "node:assert";
import { logLevel } from "kafkajs";
import { kafkajsLogLevel } from "../../connector/ports/kafka/logs";
import { kafkaFailureSummary } from "../../connector/ports/kafka/errors";

describe("Kafka log mapping", () => {
  it("asks kafkajs for what the connector's level shows: trace reaches kafkajs DEBUG", () => {
    const table: [string, logLevel][] = [
      ["trace", logLevel.DEBUG],
      ["debug", logLevel.INFO],
      ["info", logLevel.WARN],
      ["warn", logLevel.WARN],
      ["error", logLevel.ERROR],
      ["fatal", logLevel.ERROR],
    ];
    for (const [ours, theirs] of table) assert.equal(kafkajsLogLevel(ours), theirs, ours);
  });

  it("names the cause of a failed connection when kafkajs knows it", () => {
    const sasl = Object.assign(new Error("SASL PLAIN authentication failed: Authentication failed: Invalid username or password"), { name: "KafkaJSSASLAuthenticationError" });
    assert.equal(kafkaFailureSummary(sasl), "Kafka authentication failed; retrying");
    assert.equal(kafkaFailureSummary(Object.assign(new Error("retries exceeded"), { name: "KafkaJSNumberOfRetriesExceeded", cause: sasl })), "Kafka authentication failed; retrying");
    assert.equal(kafkaFailureSummary(new Error("unable to verify the first certificate")), "Kafka TLS handshake failed; retrying");
    assert.equal(kafkaFailureSummary(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:9")), "Kafka unreachable; retrying");
  });
});
