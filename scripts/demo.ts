/**
 * `npm run demo`: starts a local Mosquitto and Kafka, runs the connector with examples/local/,
 * sends traffic both ways and prints what arrived on the far side.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { Kafka, logLevel } from "kafkajs";
import { startLocalBrokers, freePort } from "./local-brokers";

const ROOT = join(__dirname, "..", "..");
const step = (msg: string) => process.stdout.write(`\n==> ${msg}\n`);

async function waitReady(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`connector not ready after ${timeoutMs} ms`);
}

async function main(): Promise<void> {
  step("starting Mosquitto and Kafka (KRaft) on free loopback ports; the first run downloads Kafka with Maven");
  const brokers = await startLocalBrokers();
  const { kafka: kb, mqtt: mb } = brokers;
  process.stdout.write(`    Kafka ${kb.bootstrap}, Mosquitto ${mb.url}\n`);
  let child: ReturnType<typeof spawn> | undefined;
  try {
    await kb.createTopic("telemetry", 3);
    await kb.createTopic("commands", 1);

    step("writing examples/local/ with the brokers' ports and starting the connector");
    const dir = mkdtempSync(join(tmpdir(), "mkc-demo-"));
    const mqttPort = new URL(mb.url).port;
    for (const f of ["connector.yaml", "topic-map.yaml"]) {
      const text = readFileSync(join(ROOT, "examples", "local", f), "utf8")
        .replace("127.0.0.1:9092", kb.bootstrap)
        .replace("127.0.0.1:1883", `127.0.0.1:${mqttPort}`);
      writeFileSync(join(dir, f), text);
    }
    const httpPort = await freePort();
    const logFile = join(dir, "connector.log");
    child = spawn(process.execPath, [join(ROOT, "dist", "connector", "cli.js"), "--config", dir, "--http-port", String(httpPort), "--secrets-dir", dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const log = createWriteStream(logFile);
    child.stdout?.pipe(log);
    child.stderr?.pipe(process.stderr);
    await waitReady(httpPort, 60_000);
    process.stdout.write(`    ready (GET /readyz = 200); JSON logs in ${logFile}\n`);

    const kafka = new Kafka({ brokers: [kb.bootstrap], logLevel: logLevel.NOTHING });

    step("MQTT -> Kafka: publishing 20 QoS 1 messages from 4 devices to devices/<id>/telemetry");
    const received: string[] = [];
    const consumer = kafka.consumer({ groupId: `demo-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topics: ["telemetry"], fromBeginning: true });
    const gotAll = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers = Object.entries(message.headers ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(" ");
          received.push(`    partition ${partition}  key ${message.key?.toString()}  value ${message.value?.toString()}  [${headers}]`);
          if (received.length === 20) resolve();
        },
      });
    });
    const pub = await mqtt.connectAsync(mb.url, { protocolVersion: 5, clientId: "demo-device-sim" });
    for (let i = 0; i < 20; i++) {
      const device = `dev-${i % 4}`;
      await pub.publishAsync(`devices/${device}/telemetry`, JSON.stringify({ seq: i, temp: 20 + (i % 7) }), {
        qos: 1,
        properties: { userProperties: { "device-id": device }, contentType: "application/json" },
      });
    }
    await Promise.race([gotAll, new Promise((_, rej) => setTimeout(() => rej(new Error("timed out waiting for Kafka records")), 30_000))]);
    process.stdout.write(received.sort().join("\n") + "\n");
    process.stdout.write(`    ${received.length}/20 arrived in Kafka; each device stays on one partition (key = device-id)\n`);
    await consumer.disconnect();

    step("Kafka -> MQTT: producing 5 records to Kafka topic commands");
    const sub = await mqtt.connectAsync(mb.url, { protocolVersion: 5, clientId: "demo-command-listener" });
    const commands: string[] = [];
    const gotCommands = new Promise<void>((resolve) => {
      sub.on("message", (topic, payload, packet) => {
        commands.push(`    ${topic}  ${payload.toString()}  ${JSON.stringify(packet.properties?.userProperties ?? {})}`);
        if (commands.length === 5) resolve();
      });
    });
    await sub.subscribeAsync("devices/commands", { qos: 1 });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: "commands",
      messages: [0, 1, 2, 3, 4].map((i) => ({ value: `{"set":"fan","level":${i}}`, headers: { issuer: "demo" } })),
    });
    await Promise.race([gotCommands, new Promise((_, rej) => setTimeout(() => rej(new Error("timed out waiting for MQTT messages")), 30_000))]);
    process.stdout.write(commands.join("\n") + "\n");
    process.stdout.write(`    ${commands.length}/5 arrived on MQTT\n`);
    await producer.disconnect();
    await sub.endAsync();
    await pub.endAsync();

    step("sending SIGTERM: the connector drains and exits");
    const code = await new Promise<number | null>((resolve) => {
      child!.once("exit", (c) => resolve(c));
      child!.kill("SIGTERM");
    });
    child = undefined;
    process.stdout.write(`    connector exited with code ${code} (0 = drain completed)\n`);
  } finally {
    child?.kill("SIGKILL");
    step("stopping the brokers");
    await brokers.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
