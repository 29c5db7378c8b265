import { strict as assert } from "node:assert";
import { toMarkdown, toPeerSvg, type BenchResults } from "../../bench/report";
import type { ScaleRow } from "../../bench/scale";
import type { BacklogResult } from "../../bench/backlog";

const row = (instances: number, rate: number, cpuUsPerMsg: number, delivered = 60_000): ScaleRow => ({
  instances,
  publishers: 2,
  sent: 60_000,
  delivered,
  rate,
  offeredRate: rate,
  cpuPercent: 50,
  perInstanceCpuPercent: Array.from({ length: instances }, () => 50 / instances),
  cpuUsPerMsg,
  peakRssMb: Array.from({ length: instances }, () => 150),
  machineBusyPercent: 90,
  batchAvg: 40,
  rounds: [rate],
});

const drain = (rate: number, cpuUsPerMsg: number): BacklogResult => ({ rate, count: 160_000, delivered: 160_000, cpuPercent: 90, cpuUsPerMsg, peakRssMb: 150, drainSeconds: 2 });

function results(over: Partial<BenchResults>): BenchResults {
  return {
    startedAt: "2026-12-05T01:00:00.000Z",
    wallSeconds: 1,
    quick: true,
    latencySeconds: 3,
    mosquittoConfig: [],
    machine: { cpus: 2, cpuModel: "x", memoryGb: 24, kernel: "k", node: "v20", mosquitto: "m", kafka: "k", loadAvgStart: [0, 0, 0], loadAvgEnd: [0, 0, 0] },
    connectorRuntime: "flags",
    ceilings: [],
    scenarios: [],
    targets: [],
    ...over,
  };
}

describe("bench report", () => {
  it("states the scale rows against one instance, and shows duplicates as delivered above sent", () => {
    const md = toMarkdown(results({ scale: [row(1, 30_000, 16), row(2, 21_000, 32, 60_010)] }));
    const lines = md.split("\n");
    const two = lines.find((l) => l.startsWith("| 2 |"));
    assert.ok(two, md);
    assert.match(two, /\| 21,000 \| 0\.70 × \|/);
    assert.match(two, /60,010 \/ 60,000/);
    assert.match(two, /\| 32\.0 \| 2\.00 × \|/);
  });

  it("draws the backlog drain next to the flat-out comparison in the peer chart", () => {
    const svg = toPeerSvg(
      results({
        peer: { name: "Bento", version: "v1.20.0", binary: "b", guarantees: "g", config: "c" },
        scenarios: [
          {
            scenario: { id: "m2k-q1-100b", direction: "m2k", qos: 1, size: 100, batching: "default", compression: "none", subscribers: 1, count: 1 },
            backlog: { connector: drain(100_000, 9.5), peers: [{ ...drain(50_000, 22), variant: "bento-batched", label: "Bento" }] },
          } as unknown as BenchResults["scenarios"][number],
        ],
      }),
    );
    assert.ok(svg);
    assert.match(svg, /m2k-q1-100b backlog/);
    assert.match(svg, /100,000 msg\/s · 10 µs\/msg/);
    assert.match(svg, /50,000 msg\/s · 22 µs\/msg/);
  });
});
