// The shape shared by the broker-fault scenarios (2: Kafka stopped, 3: Mosquitto restarted):
// steady traffic both ways through one connector process, a fault injected once part of the
// stream is through, then every message counted at the far ends.
import { strict as assert } from "node:assert";
import type { FaultBrokers } from "./brokers";
import { ConnectorProcess, note } from "./connector-process";
import { progress, type Scope, secondsUntilGrowth, waitUntil } from "./env";
import { printSummary, type KafkaLoad, type MqttLoad } from "./streams";
import { awaitBothWays, prepareTwoWay, startLoads } from "./two-way-streams";

export interface BrokerFault {
  /** Scenario number: topic names, tags ("s2m", "s2k") and the summary use it. */
  n: number;
  dirName: string;
  messages: number;
  ratePerSec: number;
  /** Share of the stream that must be through, both ways, before the fault. */
  faultAfter: number;
  /** The broker's state for the progress line, e.g. "kafka up". */
  brokerState(b: FaultBrokers): string;
  /** Injects the fault and returns once the broker is back. */
  inject(b: FaultBrokers, tag: string): Promise<void>;
  /** Runs right after inject(), while traffic resumes (e.g. checks on the connector). */
  afterInject?(proc: ConnectorProcess, b: FaultBrokers): Promise<void>;
  /** Which load generator errors are worth reporting (they explain duplicates at the source). */
  reportLoadErrors(mLoad: MqttLoad, kLoad: KafkaLoad, tag: string): void;
}

export async function runBrokerFault(b: FaultBrokers, scope: Scope, f: BrokerFault): Promise<void> {
  const N = f.messages;
  const t = await prepareTwoWay(b, scope, f.n, f.dirName, N);
  const { tag, k2mTally } = t;
  const proc = await ConnectorProcess.start({ configDir: t.configDir, logFile: t.logFile, instance: 0, label: "connector" });
  scope.add(() => proc.kill());
  await proc.waitReady(60_000);
  note(proc, "ready");
  const { mLoad, kLoad, inKafka, stopTicker } = await startLoads(b, scope, t, f.ratePerSec, () => f.brokerState(b));

  const share = `${Math.round(f.faultAfter * 100)} % of the stream through, both ways`;
  await waitUntil(share, () => inKafka.value >= N * f.faultAfter && k2mTally.total >= N * f.faultAfter, 60_000);
  progress(`${tag}: fault now (mqtt→kafka in Kafka ${inKafka.value}, kafka→mqtt received ${k2mTally.total})`);
  await f.inject(b, tag);
  // How long each direction takes to move again (reported, not asserted; Kafka's end is polled every 0.5 s).
  const resumed = Promise.all([secondsUntilGrowth(() => inKafka.value, 90_000), secondsUntilGrowth(() => k2mTally.total, 90_000)]);
  await f.afterInject?.(proc, b);

  const [m2kResume, k2mResume] = await resumed;
  const fmt = (x: number | undefined) => (x === undefined ? "not within 90 s" : `${x.toFixed(1)} s`);
  progress(`${tag}: after the broker was back, mqtt→kafka moved again after ${fmt(m2kResume)}, kafka→mqtt after ${fmt(k2mResume)}`);
  await waitUntil("both load generators to finish", () => mLoad.acked >= N && kLoad.produced >= N, 120_000, 250);
  progress(`${tag}: streams sent (${mLoad.describe()}; ${kLoad.describe()}); waiting for delivery`);
  const m2kTally = await awaitBothWays(b, t);
  stopTicker();
  const exit = await proc.terminate();
  note(proc, `SIGTERM: exit ${exit.code}; ${proc.statsSummary()}`);

  printSummary(f.n, [
    { label: "mqtt->kafka", sent: N, tally: m2kTally },
    { label: "kafka->mqtt", sent: N, tally: k2mTally },
  ]);
  f.reportLoadErrors(mLoad, kLoad, tag);
  assert.equal(m2kTally.lost, 0, `mqtt->kafka lost ${m2kTally.lost}: ${m2kTally.missing()}`);
  assert.equal(k2mTally.lost, 0, `kafka->mqtt lost ${k2mTally.lost}: ${k2mTally.missing()}`);
}
