#!/usr/bin/env node
/**
 * Runs the operator directly (`node dist/connector/operator/bin.js [flags]`), for tests and local
 * runs; in the image it is `mqtt-kafka-connector operator`.
 */
import { runOperator } from "./main";

if (require.main === module) {
  runOperator(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`fatal: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(3);
    },
  );
}
