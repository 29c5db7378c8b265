import { strict as assert } from "node:assert";
import { routeSubscription, describeSubscription } from "../../connector/config/subscription";
import type { MqttToKafkaRoute } from "../../connector/config/schema";

const route = (extra: Partial<MqttToKafkaRoute> = {}): MqttToKafkaRoute => ({ name: "tele", mqttTopic: "plant/+/t", kafkaTopic: "k", kafkaAcks: "all", qos: 1, ...extra });

describe("route subscription", () => {
  const cases: { what: string; r: MqttToKafkaRoute; instances: number; filter: string; clients: number; mode: string; stale: string[] }[] = [
    { what: "one instance, no share", r: route(), instances: 1, filter: "plant/+/t", clients: 1, mode: "plain", stale: ["$share/conn-tele/plant/+/t"] },
    { what: "two instances, no share: derived group", r: route(), instances: 2, filter: "$share/conn-tele/plant/+/t", clients: 1, mode: "instances", stale: ["plant/+/t"] },
    {
      what: "a configured share wins at any instance count",
      r: route({ sharedSubscription: { groupName: "g", groupMinimumShareNumber: 3 } }),
      instances: 4,
      filter: "$share/g/plant/+/t",
      clients: 3,
      mode: "configured",
      stale: ["plant/+/t", "$share/conn-tele/plant/+/t"],
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const s = routeSubscription(c.r, "conn", c.instances);
      assert.deepEqual(s, { filter: c.filter, clients: c.clients, mode: c.mode, stale: c.stale });
    });
  }

  it("says what will happen", () => {
    assert.equal(describeSubscription(routeSubscription(route(), "conn", 3), 3), "3 instances share $share/conn-tele/plant/+/t (derived because instances > 1; each message goes to one instance)");
    assert.equal(describeSubscription(routeSubscription(route(), "conn", 1), 1), "subscribes plant/+/t (one instance)");
  });
});
