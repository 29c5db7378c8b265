// Scenarios 9 and 10: what a stock Mosquitto's queue limit (1000 messages per session) does to a
// Kafka outage when the connector cannot take the traffic. 9: a spool too small for the outage
// fills, the connector stops PUBACKing (route not ready), and the broker drops past its queue;
// the connector itself loses nothing it took. 10: no spool at all, the loss the spool exists for.
// Both use a 30 s outage (FAULTS_SPOOL_SHORT_OUTAGE_S): the broker's drops show within seconds.
import { strict as assert } from "node:assert";
import { progress } from "./support/env";
import { faultScenario } from "./support/scenario";
import { SPOOL_RECEIVE_MAXIMUM, STOCK_FAULT_BROKERS } from "./support/spool";
import { runSpoolOutage, type SpoolOutageResult } from "./support/spool-outage";

/** The smallest spool the CLI accepts: ~5,000 records here, filled in ~2.5 s at 2,000 msg/s. */
const SMALL_SPOOL = 2 ** 20;
const OUTAGE_S = Number(process.env.FAULTS_SPOOL_SHORT_OUTAGE_S ?? 30);

/** The connector's part and the broker's part of what never reached Kafka. */
function lossReport(n: number, r: SpoolOutageResult): { received: number } {
  const received = r.lastReceived ?? NaN;
  const notTaken = r.load.acked - received;
  progress(
    `s${n}: the broker PUBACKed ${r.load.acked} publishes and delivered ${received} to the connector; ` +
      `the connector lost ${received - r.tally.distinct} of those (Kafka has ${r.tally.distinct} distinct); ` +
      `the broker dropped ${notTaken} (its $SYS dropped counter: ${r.brokerDropped ?? "n/a"})`,
  );
  return { received };
}

describe("fault scenario 9: a spool too small for the outage, stock Mosquitto queue", function () {
  this.timeout((OUTAGE_S + 300) * 1000);
  const s = faultScenario(STOCK_FAULT_BROKERS);

  it(`stops PUBACKing when the ${SMALL_SPOOL / 2 ** 20} MiB spool is full; the only loss is the broker's`, async () => {
    progress(`s9: ${OUTAGE_S} s outage with --spool-max-bytes ${SMALL_SPOOL}`);
    const r = await runSpoolOutage(s, { n: 9, dirName: "9-spool-full", spoolMaxBytes: SMALL_SPOOL, outageS: OUTAGE_S, beforeS: 5, afterS: 10, receiveMaximum: SPOOL_RECEIVE_MAXIMUM, expectAll: false });
    const { received } = lossReport(9, r);
    progress(`s9: spool seen full: ${r.watch.sawFull}; /readyz not ready while full: ${r.watch.notReadyWhileFull}`);
    assert.ok(r.watch.sawFull, "the spool filled");
    assert.ok(r.watch.notReadyWhileFull, "a full spool shows on /readyz");
    assert.ok(Number.isFinite(received), "the connector's 'connector stopped' line gives what it received");
    assert.equal(r.tally.distinct, received, "everything the connector received is in Kafka");
    assert.ok(r.tally.lost > 0, "the broker dropped what it could not queue (otherwise the spool was not too small)");
    if (r.brokerDropped !== undefined) assert.equal(r.tally.lost, r.brokerDropped, "what is missing is what the broker says it dropped");
  });
});

describe("fault scenario 10: the same kind of outage without a spool, stock Mosquitto queue", function () {
  this.timeout((OUTAGE_S + 300) * 1000);
  const s = faultScenario(STOCK_FAULT_BROKERS);

  it("loses what the broker cannot queue (why the spool exists)", async () => {
    progress(`s10: ${OUTAGE_S} s outage without a spool (shorter than scenario 7's: the loss shows within seconds)`);
    const r = await runSpoolOutage(s, { n: 10, dirName: "10-no-spool", outageS: OUTAGE_S, beforeS: 5, afterS: 10, receiveMaximum: SPOOL_RECEIVE_MAXIMUM, expectAll: false });
    const { received } = lossReport(10, r);
    assert.equal(r.tally.distinct, received, "everything the connector received is in Kafka");
    assert.ok(r.tally.lost > 0, "a stock broker drops most of an outage's traffic when nothing takes it");
  });
});
