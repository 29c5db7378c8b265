// Mocha root hooks of the fault suite (.mocharc.faults.json): no connector
// process and no broker outlives the run, whatever failed.
import { stopSharedBrokers } from "../../helpers/brokers";
import { killAllConnectors } from "../../helpers/connector-process";
import { CONNECTOR_CLI, progress } from "./env";

let started = 0;

export const mochaHooks = {
  beforeAll(): void {
    started = Date.now();
    progress(`connector under test: ${CONNECTOR_CLI}`);
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(90_000);
    await killAllConnectors();
    await stopSharedBrokers();
    progress(`fault suite wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
  },
};
