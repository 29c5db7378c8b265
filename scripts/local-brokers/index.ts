import { KafkaBroker, KafkaOptions, startKafka } from './kafka';
import { MosquittoBroker, MosquittoOptions, startMosquitto } from './mosquitto';

export { freePort, freePorts } from './ports';
export { testCerts, CertPaths } from './certs';
export { kafkaCacheDir, kafkaLibsDir, KAFKA_VERSION } from './kafka-dist';
export { startKafka, KafkaBroker, KafkaOptions, SaslUser } from './kafka';
export { startMosquitto, MosquittoBroker, MosquittoOptions, MqttUser } from './mosquitto';

export interface LocalBrokersOptions {
  kafka?: KafkaOptions;
  mqtt?: MosquittoOptions;
}

export interface LocalBrokers {
  kafka: KafkaBroker;
  mqtt: MosquittoBroker;
  /** Stops both and removes the data dirs the harness created. */
  stop(): Promise<void>;
}

/** Start Kafka and mosquitto in parallel; if one fails the other is stopped. */
export async function startLocalBrokers(opts: LocalBrokersOptions = {}): Promise<LocalBrokers> {
  const [k, m] = await Promise.allSettled([startKafka(opts.kafka), startMosquitto(opts.mqtt)]);
  if (k.status === 'rejected' || m.status === 'rejected') {
    await Promise.allSettled([
      k.status === 'fulfilled' ? k.value.dispose() : undefined,
      m.status === 'fulfilled' ? m.value.dispose() : undefined,
    ]);
    const reasons = [k, m].filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    throw reasons.length === 1 ? reasons[0] : new AggregateError(reasons, 'both brokers failed to start');
  }
  const kafka = k.value;
  const mqtt = m.value;
  return {
    kafka,
    mqtt,
    async stop() {
      await Promise.all([kafka.dispose(), mqtt.dispose()]);
    },
  };
}
