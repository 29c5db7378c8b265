import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConnectorMetrics, PREFIX } from "../../connector/metrics";

describe("Grafana dashboard", () => {
  it("uses only metric names the connector exports", async () => {
    const dashboard = readFileSync(join(__dirname, "..", "..", "..", "deploy", "grafana", "mqtt-kafka-connector.json"), "utf8");
    const used = new Set([...dashboard.matchAll(new RegExp(`${PREFIX}[a-z_]+`, "g"))].map((m) => m[0]));
    const metrics = await new ConnectorMetrics().registry.getMetricsAsJSON();
    const exported = new Set<string>();
    for (const m of metrics) {
      exported.add(m.name);
      if (String(m.type) === "histogram") for (const s of ["_bucket", "_sum", "_count"]) exported.add(m.name + s);
    }
    assert.ok(used.size >= 15, `dashboard should chart the connector's metrics, found ${used.size}`);
    assert.deepEqual([...used].filter((n) => !exported.has(n)), []);
  });
});
