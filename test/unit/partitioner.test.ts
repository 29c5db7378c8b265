import { strict as assert } from "node:assert";
import { PartitionChooser, partitionKey } from "../../connector/core/partitioner";
import { installKafkajs } from "../../connector/ports/kafka/seam";

const murmur2 = installKafkajs().hash;

// Reference values printed by the Java client: Utils.murmur2(key.getBytes(UTF_8)) and
// Utils.toPositive(...) % 6, from kafka-clients 3.9.1 run on the JDK.
const JAVA: [string, number, number][] = [
  ["device-1", 1007784178, 4],
  ["device-2", 142171714, 4],
  ["sensors/room1/temp", 1263728998, 4],
  ["", 275646681, 3],
  ["ü-key", 1143377861, 5],
];

describe("partitioning", () => {
  for (const [key, hash, p6] of JAVA) {
    it(`hashes ${JSON.stringify(key)} like the Java client`, () => {
      assert.equal(murmur2(Buffer.from(key, "utf8")), hash);
      const c = new PartitionChooser("topic", 0, murmur2);
      assert.equal(c.choose("t", 6, Buffer.from(key, "utf8")), p6);
    });
  }

  it("round-robins unkeyed records per topic, starting at the instance index", () => {
    const c = new PartitionChooser("default", 2, murmur2);
    assert.deepEqual([0, 1, 2, 3, 4].map(() => c.choose("t", 3, null)), [2, 0, 1, 2, 0]);
    assert.deepEqual([0, 1].map(() => c.choose("other", 4, null)), [2, 3]);
  });

  it("static pins every record of an instance to instanceIndex mod partitions", () => {
    const c = new PartitionChooser("static", 7, murmur2);
    assert.deepEqual([0, 1, 2].map(() => c.choose("t", 4, Buffer.from("k"))), [3, 3, 3]);
  });

  it("rejects a non-positive partition count", () => {
    const c = new PartitionChooser("default", 0, murmur2);
    assert.throws(() => c.choose("t", 0, null), /partition count of t must be positive, got 0/);
  });

  it("derives keys per strategy", () => {
    const props = { "device-id": "d7", other: ["x", "y"] };
    assert.equal(partitionKey("topic", "a/b", props, undefined)!.toString(), "a/b");
    assert.equal(partitionKey("property", "a/b", props, "device-id")!.toString(), "d7");
    assert.equal(partitionKey("property", "a/b", props, "other")!.toString(), "x");
    assert.equal(partitionKey("property", "a/b", props, "missing"), null, "missing property falls back to no key");
    assert.equal(partitionKey("property", "a/b", undefined, "device-id"), null);
    assert.equal(partitionKey("default", "a/b", props, undefined), null);
    assert.equal(partitionKey("static", "a/b", props, undefined), null);
  });
});
