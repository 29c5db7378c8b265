import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const KAFKA_VERSION = '3.9.1';

/** Same location rule as scripts/fetch-kafka.sh; keep the two in sync. */
export function kafkaCacheDir(): string {
  if (process.env.KAFKA_CACHE_DIR) return process.env.KAFKA_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'mqtt-kafka-connector', `kafka-${KAFKA_VERSION}`);
}

function findFetchScript(): string | undefined {
  // Works from scripts/local-brokers (ts sources) and dist/scripts/local-brokers.
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'scripts', 'fetch-kafka.sh');
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

let fetching: Promise<string> | undefined;

/**
 * Directory holding the Kafka server jars, fetching them on first use so that
 * `npm run demo` works on a machine that only has java + mvn.
 */
export function kafkaLibsDir(): Promise<string> {
  const dir = kafkaCacheDir();
  const libs = path.join(dir, 'libs');
  if (fs.existsSync(path.join(dir, '.fetched')) && fs.existsSync(path.join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`))) {
    return Promise.resolve(libs);
  }
  fetching ??= new Promise<string>((resolve, reject) => {
    const script = findFetchScript();
    if (!script) {
      reject(new Error(`Kafka jars missing in ${dir} and scripts/fetch-kafka.sh not found`));
      return;
    }
    process.stderr.write(`[local-brokers] Kafka jars not cached; running ${script}\n`);
    execFile('bash', [script], { timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        fetching = undefined;
        reject(new Error(`fetch-kafka.sh failed: ${err.message}\n${stdout}${stderr}`));
      } else {
        process.stderr.write(stdout);
        resolve(libs);
      }
    });
  });
  return fetching;
}
