/**
 * Child process for bench/ack-path: one role per process so the load generator, the subscriber
 * under test and the brokers do not share a JavaScript thread.
 *   publish URL TOPIC COUNT SIZE         QoS 1 publisher, keeps the broker's Receive Maximum in flight
 *   immediate URL FILTER COUNT            raw mqtt.js subscriber, PUBACK at once
 *   naive URL FILTER COUNT KAFKA TOPIC    PUBACK only after a kafkajs send of that one message
 * Each prints one JSON line: {"count":N,"startAt":ms,"endAt":ms}; the publisher also prints `start <ms>` first.
 */
import mqtt, { type IPublishPacket } from "mqtt";
import { Kafka, logLevel } from "kafkajs";

const [role, url, topic, countRaw, ...rest] = process.argv.slice(2);
const count = Number(countRaw);

/** Absolute times, so the parent can measure every scenario from the publisher's first message. */
function report(n: number, startedAt: number): void {
  process.stdout.write(JSON.stringify({ count: n, startAt: startedAt, endAt: Date.now() }) + "\n");
}

async function publish(size: number): Promise<void> {
  const client = await mqtt.connectAsync(url!, { protocolVersion: 5, clientId: `bench-pub-${process.pid}` });
  const quota = (client as unknown as { connackPacket?: { properties?: { receiveMaximum?: number } } }).connackPacket?.properties?.receiveMaximum ?? 20;
  const payload = Buffer.alloc(size, 97);
  const started = Date.now();
  process.stdout.write(`start ${started}\n`);
  let sent = 0;
  let inflight = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (inflight < quota && sent < count) {
        sent++;
        inflight++;
        client.publish(topic!, payload, { qos: 1 }, () => {
          inflight--;
          if (sent === count && inflight === 0) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  report(sent, started);
  await client.endAsync();
}

async function subscribe(naive: boolean): Promise<void> {
  const [bootstrap, kafkaTopic] = rest;
  const producer = naive ? new Kafka({ brokers: [bootstrap!], logLevel: logLevel.NOTHING }).producer() : undefined;
  await producer?.connect();
  const client = await mqtt.connectAsync(url!, { protocolVersion: 5, clientId: `bench-sub-${process.pid}`, properties: { receiveMaximum: 1000 } });
  let n = 0;
  let started = 0;
  const deadline = Number(process.env["BENCH_MAX_MS"] ?? 60_000);
  if (producer) {
    // The obvious implementation: hold the PUBACK until Kafka has the record.
    client.handleMessage = (packet: IPublishPacket, done: (err?: Error) => void) => {
      producer.send({ topic: kafkaTopic!, acks: -1, messages: [{ value: packet.payload as Buffer }] }).then(() => done(), done);
    };
  }
  const finished = new Promise<void>((resolve) => {
    client.on("message", () => {
      if (n++ === 0) started = Date.now();
      if (n === count || Date.now() - started > deadline) resolve();
    });
  });
  await client.subscribeAsync(topic!, { qos: 1 });
  process.stdout.write("ready\n");
  await finished;
  report(n, started);
  await client.endAsync(true);
  await producer?.disconnect();
}

const main = role === "publish" ? publish(Number(rest[0] ?? 100)) : subscribe(role === "naive");
main.then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(String(e) + "\n");
    process.exit(1);
  },
);
