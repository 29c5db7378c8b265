// One Kafka and one mosquitto per mocha process, shared by all test files of a suite: a JVM start
// costs seconds and ~0.5 GB, so tests isolate through unique topic names instead of separate
// brokers. Each suite names the brokers it needs (a profile); root hooks stop them at the end.
import { randomBytes } from 'node:crypto';
import { startKafka, startMosquitto, type KafkaBroker, type KafkaOptions, type MosquittoBroker, type MosquittoOptions } from '../../scripts/local-brokers';

export * from './kcat';
export * from './mosquitto-clients';
export * from './kafka-admin';

export interface SharedBrokers {
  kafka: KafkaBroker;
  mqtt: MosquittoBroker;
}

export interface BrokerProfile {
  /** Brokers are shared per profile name. */
  name: string;
  kafka: KafkaOptions;
  mqtt: MosquittoOptions;
  /** Called once the brokers of this profile are up. */
  onStarted?(b: SharedBrokers, ms: number): void;
}

/**
 * The integration suite's brokers: Kafka with plaintext plus SASL (PLAIN/SCRAM) and mTLS listeners;
 * Mosquitto with an anonymous plain listener plus password-TLS and mTLS listeners, no persistence.
 */
export const SECURED_BROKERS: BrokerProfile = {
  name: 'secured',
  kafka: { security: { sasl: true, ssl: true } },
  mqtt: { security: { tls: true } },
};

const shared = new Map<string, Promise<SharedBrokers>>();

/**
 * Lazily start the brokers of `profile` (in parallel). A failed start is cached too, so later
 * files fail fast instead of waiting out another timeout.
 */
export function sharedBrokers(profile: BrokerProfile = SECURED_BROKERS): Promise<SharedBrokers> {
  let brokers = shared.get(profile.name);
  if (!brokers) {
    brokers = (async () => {
      const started = Date.now();
      const [kafka, mqtt] = await Promise.allSettled([startKafka(profile.kafka), startMosquitto(profile.mqtt)]);
      if (kafka.status === 'fulfilled' && mqtt.status === 'fulfilled') {
        const b = { kafka: kafka.value, mqtt: mqtt.value };
        profile.onStarted?.(b, Date.now() - started);
        return b;
      }
      if (kafka.status === 'fulfilled') await kafka.value.dispose();
      if (mqtt.status === 'fulfilled') await mqtt.value.dispose();
      throw kafka.status === 'rejected' ? kafka.reason : (mqtt as PromiseRejectedResult).reason;
    })();
    shared.set(profile.name, brokers);
  }
  return brokers;
}

/**
 * Mocha hook for a suite on the shared brokers of `profile`: starts them (or waits for them) before
 * its tests; the first start may fetch the Kafka jars, so the hook may take 180 s. The returned
 * object stands for them from then on: use it in hooks and tests, not while mocha collects them.
 */
export function sharedBrokersFixture(profile: BrokerProfile = SECURED_BROKERS): SharedBrokers {
  let started: SharedBrokers | undefined;
  before(async function () {
    this.timeout(Math.max(this.timeout(), 180_000));
    started = await sharedBrokers(profile);
  });
  const get = (): SharedBrokers => {
    if (!started) throw new Error('the shared brokers are not started yet (use them in hooks and tests)');
    return started;
  };
  return {
    get kafka() {
      return get().kafka;
    },
    get mqtt() {
      return get().mqtt;
    },
  };
}

/** Stop every shared broker that was started; safe to call repeatedly. */
export async function stopSharedBrokers(): Promise<void> {
  const current = [...shared.values()];
  shared.clear();
  await Promise.all(
    current.map(async (p) => {
      const b = await p.catch(() => undefined);
      if (b) await Promise.all([b.kafka.dispose(), b.mqtt.dispose()]);
    }),
  );
}

let counter = 0;

/** A name unique within and across runs, valid as Kafka topic and MQTT topic level. */
export function uniqueName(prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9._-]/g, '-');
  return `${safe}-${Date.now().toString(36)}-${++counter}-${randomBytes(3).toString('hex')}`;
}
