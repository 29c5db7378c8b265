/**
 * `mqtt-kafka-connector check`: a pre-flight for CI and operators. Validates the configuration,
 * connects to both brokers with the real credentials, checks every Kafka topic exists and that the
 * MQTT broker grants every subscription, then prints a report. Leaves no session behind. The ports
 * come from the same factory as the connector's (ports/factory.ts), so what passes here is what runs.
 */
import { Writable } from "node:stream";
import { randomBytes } from "node:crypto";
import pino from "pino";
import type { ConnectorConfig } from "./config/load";
import { connectorTopics, openTemplateRoutes } from "./config/routes";
import { routeSubscription, describeSubscription } from "./config/subscription";
import { kafkaPortSettings, mqttPortSettings, type PortUse } from "./ports/factory";
import { KafkaJsPort } from "./ports/kafka/port";
import { describeSeam } from "./ports/kafka/seam";
import { MqttJsPort } from "./ports/mqtt/port";
import type { Logger } from "./logger";
import { withTimeout } from "./core/timeout";

export interface CheckLine {
  ok: boolean;
  what: string;
  detail: string;
}

/** A logger that keeps error messages, so a failed connection can say why in the report. */
function capturingLogger(): { log: Logger; errors: string[] } {
  const errors: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split("\n")) {
        if (!line) continue;
        try {
          const e = JSON.parse(line) as { level: number; msg: string; err?: string; reasonCode?: number };
          if (e.level >= 50) errors.push([e.msg, e.err, e.reasonCode !== undefined ? `reason code ${e.reasonCode}` : ""].filter(Boolean).join(": "));
        } catch {
          // not JSON: ignore
        }
      }
      cb();
    },
  });
  return { log: pino({ level: "error" }, sink), errors };
}

/** How `check` connects: the connector's settings, a client ID of its own, and no consumer group left behind. */
export function checkPortUse(config: ConnectorConfig, secretsDir: string): PortUse {
  const prefix = config.connector.spec.clientIdPrefix ?? config.connector.metadata.name;
  return { secretsDir, clientId: `${prefix}-check`, offsetReset: "latest", commitIntervalMs: 1000, sessionTimeoutMs: 10_000, partitionsConsumedConcurrently: 1, mqttReconnectMs: 2000 };
}

type Add = (ok: boolean, what: string, detail: string) => void;

export async function runChecks(config: ConnectorConfig, secretsDir: string, timeoutMs = 15_000): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const add: Add = (ok, what, detail) => lines.push({ ok, what, detail });
  const routes = config.topicMaps.reduce((n, m) => n + m.spec.routes.length, 0);
  add(true, "configuration", `KafkaConnector/${config.connector.metadata.name}, ${config.topicMaps.length} topic map(s), ${routes} route(s)`);
  const use = checkPortUse(config, secretsDir);
  await checkKafka(config, use, timeoutMs, add);
  await checkMqtt(config, use, timeoutMs, add);
  return lines;
}

async function checkKafka(config: ConnectorConfig, use: PortUse, timeoutMs: number, add: Add): Promise<void> {
  let k;
  try {
    k = kafkaPortSettings(config.connector.spec, use);
    add(true, "Kafka credentials", k.describe.auth);
  } catch (e) {
    return add(false, "Kafka credentials", (e as Error).message);
  }
  const { log, errors } = capturingLogger();
  const kafka = new KafkaJsPort(k.settings, log);
  add(kafka.seam.problems.length === 0, "kafkajs", [describeSeam(kafka.seam), ...kafka.seam.problems].join("; "));
  const users = connectorTopics(config.topicMaps);
  const endpoint = k.describe.endpoint;
  try {
    const found = await withTimeout(kafka.describeTopics([...users.keys()]), timeoutMs, endpoint);
    add(true, "Kafka connection", `${endpoint} (${k.describe.auth}${k.describe.tls ? ", TLS" : ""})`);
    for (const [t, keys] of users) {
      const n = found.get(t);
      add(n !== undefined, `Kafka topic ${t}`, n !== undefined ? `${n} partition(s), used by ${keys.join(", ")}` : `does not exist (used by ${keys.join(", ")}); create it, the connector never does`);
    }
    // A templated kafkaTopic without kafkaTopics names its topics only per message: nothing to resolve here.
    for (const m of config.topicMaps) {
      for (const o of openTemplateRoutes(m.spec.routes)) {
        add(true, `Kafka topics of ${m.metadata.name}/${o.route}`, `templated (${o.template}) without kafkaTopics: each message's topic is looked up when first met, and one that does not exist is dead-lettered; list them in kafkaTopics to have them checked here`);
      }
    }
  } catch (e) {
    add(false, "Kafka connection", `${endpoint}: ${(e as Error).message}${errors.length ? ` — ${errors.at(-1)}` : ""}`);
  } finally {
    await kafka.close().catch(() => undefined);
  }
}

async function checkMqtt(config: ConnectorConfig, use: PortUse, timeoutMs: number, add: Add): Promise<void> {
  let m;
  try {
    m = mqttPortSettings(config.connector.spec, use);
    add(true, "MQTT credentials", m.describe.auth);
  } catch (e) {
    return add(false, "MQTT credentials", (e as Error).message);
  }
  const { log, errors } = capturingLogger();
  const port = new MqttJsPort(m.settings, log);
  const { name } = config.connector.metadata;
  const { spec } = config.connector;
  const filters = config.topicMaps.flatMap((map) =>
    map.spec.routes.flatMap((r) => {
      if (!r.mqttToKafka) return [];
      const sub = routeSubscription(r.mqttToKafka, name, spec.instances);
      return [{ route: `${map.metadata.name}/${r.mqttToKafka.name}`, filter: sub.filter, qos: r.mqttToKafka.qos, how: describeSubscription(sub, spec.instances) }];
    }),
  );
  const id = `${use.clientId}-${randomBytes(3).toString("hex")}`;
  let connected = false;
  for (const f of filters.length ? filters : [{ route: "", filter: "", qos: 0 as const, how: "" }]) {
    // Session expiry 0: the check leaves nothing on the broker. Without mqttToKafka routes we only connect.
    const sub = port.subscribe({ clientId: id, filter: f.filter || `$check/${id}`, qos: f.qos, receiveMaximum: 10, sessionExpirySeconds: 0 }, () => undefined);
    // A refused CONNECT is final for a check: stop at the first error instead of waiting out retries.
    let poll: NodeJS.Timeout | undefined;
    const refused = new Promise<never>((_, reject) => {
      poll = setInterval(() => {
        if (errors.length && !sub.connected) reject(new Error(errors.at(-1)));
      }, 100);
    });
    try {
      await withTimeout(Promise.race([sub.start(), refused]), timeoutMs, m.describe.endpoint);
      if (!connected) add(true, "MQTT connection", `${m.describe.endpoint} (${m.describe.auth}), MQTT v5`);
      connected = true;
      if (f.route) add(true, `MQTT subscription ${f.filter}`, `granted at QoS ${f.qos} for ${f.route}; ${f.how}`);
    } catch (e) {
      const why = errors.at(-1) ?? (e as Error).message;
      if (!connected && !sub.connected) {
        add(false, "MQTT connection", `${m.describe.endpoint}: ${why}`);
        await sub.close({ endSession: true });
        break;
      }
      add(false, `MQTT subscription ${f.filter}`, `${f.route}: ${(e as Error).message}`);
    } finally {
      clearInterval(poll);
    }
    await sub.unsubscribe().catch(() => undefined);
    await sub.close({ endSession: true });
  }
}

export function formatReport(lines: CheckLine[]): string {
  const failed = lines.filter((l) => !l.ok).length;
  const body = lines.map((l) => `${l.ok ? "ok  " : "FAIL"}  ${l.what}: ${l.detail}`).join("\n");
  return `${body}\n\n${failed === 0 ? "all checks passed" : `${failed} check${failed === 1 ? "" : "s"} failed`}\n`;
}
