import { Kafka, logLevel, type Admin } from 'kafkajs';

/** Runs `fn` with a connected kafkajs admin on `bootstrap`, and disconnects it afterwards. */
export async function withKafkaAdmin<T>(bootstrap: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** A consumer group's committed offset per partition of `topic` (-1: none). */
export function committedOffsets(bootstrap: string, groupId: string, topic: string): Promise<Map<number, number>> {
  return withKafkaAdmin(bootstrap, async (admin) => {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((t?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  });
}
