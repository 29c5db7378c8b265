// Mocha root hook plugin (`require: dist/test/helpers/root-hooks.js`): once the whole run is over,
// stops any connector process still running and the brokers shared across test files.
import { stopSharedBrokers } from './brokers';
import { killAllConnectors } from './connector-process';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await killAllConnectors();
    await stopSharedBrokers();
  },
};
