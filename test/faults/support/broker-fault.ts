// The shape shared by the broker-fault scenarios (2: Kafka stopped, 3: Mosquitto restarted):
// steady traffic both ways through one connector process, a fault injected once part of the
// stream is through, then every message counted at the far ends.
import { strict as assert } from "node:assert";
import type { SharedBrokers } from "../../helpers/brokers";
import type { ConnectorProcess } from "../../helpers/connector-process";
import { waitFor } from "../../helpers/wait";
import { progress, secondsUntilGrowth } from "./env";
import type { FaultScenario } from "./scenario";
import type { KafkaLoad, MqttLoad } from "./streams";
import { finishTwoWay, prepareTwoWay, startLoads } from "./two-way-streams";

export interface BrokerFault {
  /** Scenario number: topic names, tags ("s2m", "s2k") and the summary use it. */
  n: number;
  dirName: string;
  messages: number;
  ratePerSec: number;
  /** Share of the stream that must be through, both ways, before the fault. */
  faultAfter: number;
  /** The broker's state for the progress line, e.g. "kafka up". */
  brokerState(b: SharedBrokers): string;
  /** Injects the fault and returns once the broker is back. */
  inject(b: SharedBrokers, tag: string): Promise<void>;
  /** Runs right after inject(), while traffic resumes (e.g. checks on the connector). */
  afterInject?(proc: ConnectorProcess, b: SharedBrokers): Promise<void>;
  /** Which load generator errors are worth reporting (they explain duplicates at the source). */
  reportLoadErrors(mLoad: MqttLoad, kLoad: KafkaLoad, tag: string): void;
}

export async function runBrokerFault(s: FaultScenario, f: BrokerFault): Promise<void> {
  const b = s.brokers;
  const N = f.messages;
  const t = await prepareTwoWay(s, f.n, f.dirName, N);
  const { tag, k2mTally } = t;
  const proc = await s.startConnector(t.files, { label: "connector" });
  const loads = await startLoads(s, t, f.ratePerSec, () => f.brokerState(b));
  const { mLoad, kLoad, inKafka } = loads;

  const share = `${Math.round(f.faultAfter * 100)} % of the stream through, both ways`;
  await waitFor(share, () => inKafka.value >= N * f.faultAfter && k2mTally.total >= N * f.faultAfter, 60_000);
  progress(`${tag}: fault now (mqtt→kafka in Kafka ${inKafka.value}, kafka→mqtt received ${k2mTally.total})`);
  await f.inject(b, tag);
  // How long each direction takes to move again (reported, not asserted; Kafka's end is polled every 0.5 s).
  const resumed = Promise.all([secondsUntilGrowth(() => inKafka.value, 90_000), secondsUntilGrowth(() => k2mTally.total, 90_000)]);
  await f.afterInject?.(proc, b);

  const [m2kResume, k2mResume] = await resumed;
  const fmt = (x: number | undefined) => (x === undefined ? "not within 90 s" : `${x.toFixed(1)} s`);
  progress(`${tag}: after the broker was back, mqtt→kafka moved again after ${fmt(m2kResume)}, kafka→mqtt after ${fmt(k2mResume)}`);
  const { m2kTally } = await finishTwoWay(s, t, loads, proc);
  f.reportLoadErrors(mLoad, kLoad, tag);
  assert.equal(m2kTally.lost, 0, `mqtt->kafka lost ${m2kTally.lost}: ${m2kTally.missing()}`);
  assert.equal(k2mTally.lost, 0, `kafka->mqtt lost ${k2mTally.lost}: ${k2mTally.missing()}`);
}
