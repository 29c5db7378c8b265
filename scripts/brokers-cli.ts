// `npm run brokers`: run a local Kafka + mosquitto until Ctrl-C, for manual
// testing and demos. Prints the endpoints; `--env-file F` also writes them as
// KEY=value lines that a shell (`set -a; . F`) or a dotenv loader can read.
// Node 20 itself grabs `--env-file` even after the script name (and aborts if
// the file does not exist yet), so `--write-env F`, or `-- --env-file F`,
// is the spelling that works with plain `node`.
import fs from 'node:fs';
import { LocalBrokers, startLocalBrokers } from './local-brokers';

interface CliArgs {
  envFile?: string;
  secure: boolean;
  persistence: boolean;
}

const USAGE = `usage: node dist/scripts/brokers-cli.js [--write-env FILE] [--secure] [--persistence]
  --write-env FILE also write the endpoints to FILE as KEY=value lines
                   (--env-file FILE works too, after a \`--\` that keeps node off it)
  --secure         add Kafka SASL/SSL listeners and MQTT TLS/mTLS listeners
  --persistence    enable mosquitto persistence`;

function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { secure: false, persistence: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue;
    if ((a === '--env-file' || a === '--write-env') && argv[i + 1]) args.envFile = argv[++i];
    else if (a.startsWith('--env-file=')) args.envFile = a.slice('--env-file='.length);
    else if (a.startsWith('--write-env=')) args.envFile = a.slice('--write-env='.length);
    else if (a === '--secure') args.secure = true;
    else if (a === '--persistence') args.persistence = true;
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`unknown argument: ${a}\n${USAGE}`);
      process.exit(2);
    }
  }
  return args;
}

function endpoints(b: LocalBrokers): Record<string, string> {
  const { kafka, mqtt } = b;
  const env: Record<string, string | number | undefined> = {
    KAFKA_BOOTSTRAP: kafka.bootstrap,
    KAFKA_SASL_BOOTSTRAP: kafka.saslBootstrap,
    KAFKA_SASL_USERNAME: kafka.saslUser?.username,
    KAFKA_SASL_PASSWORD: kafka.saslUser?.password,
    KAFKA_SSL_BOOTSTRAP: kafka.sslBootstrap,
    KAFKA_LOG_FILE: kafka.logFile,
    MQTT_URL: mqtt.url,
    MQTT_HOST: mqtt.host,
    MQTT_PORT: mqtt.port,
    MQTT_TLS_URL: mqtt.tlsUrl,
    MQTT_MTLS_URL: mqtt.mtlsUrl,
    MQTT_USERNAME: mqtt.user?.username,
    MQTT_PASSWORD: mqtt.user?.password,
    MQTT_LOG_FILE: mqtt.logFile,
    TLS_CA_FILE: kafka.certs?.caCert ?? mqtt.certs?.caCert,
    TLS_CLIENT_CERT_FILE: kafka.certs?.clientCert ?? mqtt.certs?.clientCert,
    TLS_CLIENT_KEY_FILE: kafka.certs?.clientKey ?? mqtt.certs?.clientKey,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = String(v);
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.error('starting Kafka and mosquitto...');
  const brokers = await startLocalBrokers({
    kafka: args.secure ? { security: { sasl: true, ssl: true } } : {},
    mqtt: { persistence: args.persistence, security: args.secure ? { tls: true } : undefined },
  });
  const env = endpoints(brokers);
  console.log(JSON.stringify(env));
  console.log(
    [
      `Kafka     ${env.KAFKA_BOOTSTRAP}` +
        (env.KAFKA_SASL_BOOTSTRAP ? `  (SASL ${env.KAFKA_SASL_BOOTSTRAP}, SSL ${env.KAFKA_SSL_BOOTSTRAP})` : ''),
      `mosquitto ${env.MQTT_URL}` + (env.MQTT_TLS_URL ? `  (TLS ${env.MQTT_TLS_URL}, mTLS ${env.MQTT_MTLS_URL})` : ''),
      `logs      ${env.KAFKA_LOG_FILE}  ${env.MQTT_LOG_FILE}`,
      'Press Ctrl-C to stop.',
    ].join('\n'),
  );
  if (args.envFile) {
    const body = Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n');
    fs.writeFileSync(args.envFile, body + '\n');
    console.log(`endpoints written to ${args.envFile}`);
  }

  let stopping = false;
  const shutdown = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    console.error(`${sig}: stopping brokers...`);
    brokers.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
