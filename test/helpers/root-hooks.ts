// Mocha root hook plugin (`require: dist/test/helpers/root-hooks.js`): stops
// the brokers shared across test files once the whole run is over.
import { stopSharedBrokers } from './brokers';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await stopSharedBrokers();
  },
};
