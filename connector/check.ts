/**
 * `mqtt-kafka-connector check`: a pre-flight for CI and operators. Validates the configuration,
 * connects to both brokers with the real credentials, checks every Kafka topic exists and that the
 * MQTT broker grants every subscription, then prints a report. Leaves no session behind.
 */
import { Writable } from "node:stream";
import { randomBytes } from "node:crypto";
import pino from "pino";
import type { ConnectorConfig } from "./config/load";
import { SecretStore } from "./config/secrets";
import { routeSubscription, describeSubscription } from "./config/subscription";
import { KafkaJsPort } from "./ports/kafka-port";
import { MqttJsPort } from "./ports/mqtt-port";
import { kafkaAuth, mqttSettings, isEventHubs, splitEndpoints } from "./ports/connection-settings";
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

export async function runChecks(config: ConnectorConfig, secretsDir: string, timeoutMs = 15_000): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const add = (ok: boolean, what: string, detail: string) => lines.push({ ok, what, detail });
  const spec = config.connector.spec;
  const routes = config.topicMaps.flatMap((m) => m.spec.routes.map((r) => ({ map: m.metadata.name, r })));
  add(true, "configuration", `KafkaConnector/${config.connector.metadata.name}, ${config.topicMaps.length} topic map(s), ${routes.length} route(s)`);

  const secrets = new SecretStore(secretsDir);
  let auth;
  let mqttConn;
  try {
    auth = kafkaAuth(spec, secrets);
    add(true, "Kafka credentials", auth.describe);
  } catch (e) {
    add(false, "Kafka credentials", (e as Error).message);
  }
  try {
    mqttConn = mqttSettings(spec, secrets);
    add(true, "MQTT credentials", mqttConn.describe);
  } catch (e) {
    add(false, "MQTT credentials", (e as Error).message);
  }

  if (auth) {
    const { log, errors } = capturingLogger();
    const kafka = new KafkaJsPort(
      {
        brokers: splitEndpoints(spec.kafkaConnection.endpoint),
        clientId: `${spec.clientIdPrefix ?? config.connector.metadata.name}-check`,
        ...(auth.ssl ? { ssl: auth.ssl } : {}),
        ...(auth.sasl ? { sasl: auth.sasl } : {}),
        eventHubs: isEventHubs(spec.kafkaConnection.endpoint),
        offsetReset: "latest",
        commitIntervalMs: 1000,
        sessionTimeoutMs: 10_000,
        partitionsConsumedConcurrently: 1,
      },
      log,
    );
    const topics = [...new Set(routes.flatMap(({ r }) => {
      const x = (r.mqttToKafka ?? r.kafkaToMqtt)!;
      return x.deadLetter?.kafkaTopic ? [x.kafkaTopic, x.deadLetter.kafkaTopic] : [x.kafkaTopic];
    }))];
    try {
      const found = await withTimeout(kafka.describeTopics(topics), timeoutMs, spec.kafkaConnection.endpoint);
      add(true, "Kafka connection", `${spec.kafkaConnection.endpoint} (${auth.describe})`);
      for (const t of topics) {
        const n = found.get(t);
        const users = routes.filter(({ r }) => {
          const x = (r.mqttToKafka ?? r.kafkaToMqtt)!;
          return x.kafkaTopic === t || x.deadLetter?.kafkaTopic === t;
        }).map(({ map, r }) => `${map}/${(r.mqttToKafka ?? r.kafkaToMqtt)!.name}`);
        add(n !== undefined, `Kafka topic ${t}`, n !== undefined ? `${n} partition(s), used by ${users.join(", ")}` : `does not exist (used by ${users.join(", ")}); create it, the connector never does`);
      }
    } catch (e) {
      add(false, "Kafka connection", `${spec.kafkaConnection.endpoint}: ${(e as Error).message}${errors.length ? ` — ${errors.at(-1)}` : ""}`);
    } finally {
      await kafka.close().catch(() => undefined);
    }
  }

  if (mqttConn) {
    const { log, errors } = capturingLogger();
    const port = new MqttJsPort({ ...mqttConn, reconnectPeriodMs: 2000 }, log);
    const filters = routes.flatMap(({ map, r }) => {
      const m = r.mqttToKafka;
      if (!m) return [];
      const sub = routeSubscription(m, config.connector.metadata.name, spec.instances);
      return [{ route: `${map}/${m.name}`, filter: sub.filter, qos: m.qos, how: describeSubscription(sub, spec.instances) }];
    });
    const id = `${spec.clientIdPrefix ?? config.connector.metadata.name}-check-${randomBytes(3).toString("hex")}`;
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
        await withTimeout(Promise.race([sub.start(), refused]), timeoutMs, mqttConn.url);
        if (!connected) add(true, "MQTT connection", `${mqttConn.url} (${mqttConn.describe}), MQTT v5`);
        connected = true;
        if (f.route) add(true, `MQTT subscription ${f.filter}`, `granted at QoS ${f.qos} for ${f.route}; ${f.how}`);
      } catch (e) {
        const why = errors.at(-1) ?? (e as Error).message;
        if (!connected && !sub.connected) {
          add(false, "MQTT connection", `${mqttConn.url}: ${why}`);
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
  return lines;
}

export function formatReport(lines: CheckLine[]): string {
  const failed = lines.filter((l) => !l.ok).length;
  const body = lines.map((l) => `${l.ok ? "ok  " : "FAIL"}  ${l.what}: ${l.detail}`).join("\n");
  return `${body}\n\n${failed === 0 ? "all checks passed" : `${failed} check${failed === 1 ? "" : "s"} failed`}\n`;
}
