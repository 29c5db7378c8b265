// One Kafka and one mosquitto per mocha process, shared by all test files:
// a JVM start costs seconds and ~0.5 GB, so tests isolate through unique
// topic names instead of separate brokers. Stopped by root-hooks.ts.
import { randomBytes } from 'node:crypto';
import { KafkaBroker, MosquittoBroker, startKafka, startMosquitto } from '../../scripts/local-brokers';

export * from './kcat';
export * from './mosquitto-clients';
export * from './kafka-admin';

export interface SharedBrokers {
  /** Plaintext plus SASL (PLAIN/SCRAM) and mTLS listeners. */
  kafka: KafkaBroker;
  /** Anonymous plain listener plus password-TLS and mTLS listeners; no persistence. */
  mqtt: MosquittoBroker;
}

let shared: Promise<SharedBrokers> | undefined;

/**
 * Lazily start the shared brokers (in parallel). A failed start is cached
 * too, so later files fail fast instead of waiting out another timeout.
 */
export function sharedBrokers(): Promise<SharedBrokers> {
  shared ??= (async () => {
    const [kafka, mqtt] = await Promise.allSettled([
      startKafka({ security: { sasl: true, ssl: true } }),
      startMosquitto({ security: { tls: true } }),
    ]);
    if (kafka.status === 'fulfilled' && mqtt.status === 'fulfilled') return { kafka: kafka.value, mqtt: mqtt.value };
    if (kafka.status === 'fulfilled') await kafka.value.dispose();
    if (mqtt.status === 'fulfilled') await mqtt.value.dispose();
    throw kafka.status === 'rejected' ? kafka.reason : (mqtt as PromiseRejectedResult).reason;
  })();
  return shared;
}

/** Stop the shared brokers if they were started; safe to call repeatedly. */
export async function stopSharedBrokers(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (!current) return;
  const brokers = await current.catch(() => undefined);
  if (brokers) await Promise.all([brokers.kafka.dispose(), brokers.mqtt.dispose()]);
}

let counter = 0;

/** A name unique within and across runs, valid as Kafka topic and MQTT topic level. */
export function uniqueName(prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9._-]/g, '-');
  return `${safe}-${Date.now().toString(36)}-${++counter}-${randomBytes(3).toString('hex')}`;
}
