/** What every MQTT client of the connector shares: options, credentials, logging and the wait for CONNACK. */
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from "mqtt";
import type { Logger } from "../../logger";
import { ConnectorError } from "../../core/errors";
import type { RepeatLimiter } from "../../core/repeat-limiter";
import type { MqttProperties } from "../../core/properties";

/** Connection settings shared by every client of one connector (built from localBrokerConnection). */
export interface MqttConnectionSettings {
  url: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string };
  username?: string;
  password?: Buffer;
  /** K8S-SAT enhanced authentication: read again before every (re)connect, since tokens rotate. */
  readAuthToken?: () => Buffer;
  /** Username and password read again before every reconnect, so a Secret fixed in place is picked up. */
  readUserPassword?: () => { username: string; password: Buffer };
  reconnectPeriodMs?: number;
}

/**
 * mqtt.js calls its `debug` logger about ten times per packet, and `debug` collects its arguments
 * into a fresh array on every call even when disabled: a large share of the garbage made per message.
 * Unless DEBUG is set (to trace mqtt.js with DEBUG=mqttjs*), mqtt.js gets a logger that does nothing.
 */
const noLog = (): void => undefined;

function baseOptions(s: MqttConnectionSettings, clientId: string, sessionExpirySeconds: number, receiveMaximum?: number): IClientOptions {
  const opts: IClientOptions = {
    ...(process.env["DEBUG"] ? {} : { log: noLog }),
    protocolVersion: 5,
    clientId,
    clean: false, // Clean Start 0: the broker keeps our session and queues QoS 1 messages while we are away
    reconnectPeriod: s.reconnectPeriodMs ?? 1000,
    connectTimeout: 10_000,
    keepalive: 30,
    resubscribe: true,
    // A refused CONNECT (bad credentials, not authorised yet) is retried like any failure: the
    // credential or the broker's user list may be fixed later, and a pod must not sit unready for good.
    reconnectOnConnackError: true,
    properties: { sessionExpiryInterval: sessionExpirySeconds, ...(receiveMaximum ? { receiveMaximum } : {}) },
  };
  if (s.username !== undefined) opts.username = s.username;
  if (s.password !== undefined) opts.password = s.password;
  if (s.tls) {
    if (s.tls.ca) opts.ca = s.tls.ca;
    if (s.tls.cert) opts.cert = s.tls.cert;
    if (s.tls.key) opts.key = s.tls.key;
    if (s.tls.servername) opts.servername = s.tls.servername;
    opts.rejectUnauthorized = true;
  }
  if (s.readAuthToken) {
    opts.properties = { ...opts.properties, authenticationMethod: "K8S-SAT", authenticationData: s.readAuthToken() };
  }
  return opts;
}

function refreshCredentialsOnReconnect(client: MqttClient, s: MqttConnectionSettings, log: Logger): void {
  const { readAuthToken, readUserPassword } = s;
  if (!readAuthToken && !readUserPassword) return;
  client.on("close", () => {
    try {
      if (readAuthToken) client.options.properties = { ...client.options.properties, authenticationData: readAuthToken() };
      if (readUserPassword) Object.assign(client.options, readUserPassword());
    } catch (e) {
      log.error({ err: (e as Error).message }, "cannot re-read the MQTT credentials; reconnecting with the previous ones");
    }
  });
}

export function toProperties(p: IPublishPacket["properties"]): MqttProperties {
  if (!p) return {};
  const out: MqttProperties = {};
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = p.payloadFormatIndicator;
  if (p.messageExpiryInterval !== undefined) out.messageExpiryInterval = p.messageExpiryInterval;
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic;
  if (p.correlationData !== undefined) out.correlationData = p.correlationData;
  if (p.userProperties !== undefined) out.userProperties = p.userProperties as Record<string, string | string[]>;
  return out;
}

export type ConnectionEvent = (event: "reconnect" | "error") => void;

function logConnectionEvents(client: MqttClient, log: Logger, onEvent: ConnectionEvent, errors: RepeatLimiter): void {
  let everConnected = false;
  client.on("connect", (connack) => {
    log[everConnected ? "warn" : "info"]({ sessionPresent: connack.sessionPresent }, everConnected ? "MQTT reconnected" : "MQTT connected");
    if (everConnected) onEvent("reconnect");
    everConnected = true;
  });
  // mqtt.js retries at a fixed period; back off (1 s doubling to 30 s) so a dead broker is not hammered.
  const base = client.options.reconnectPeriod ?? 1000;
  let attempts = 0;
  client.on("connect", () => {
    attempts = 0;
    client.options.reconnectPeriod = base;
  });
  client.on("reconnect", () => {
    attempts++;
    client.options.reconnectPeriod = Math.min(30_000, base * 2 ** Math.min(attempts, 5));
    log.debug({ attempt: attempts, nextRetryMs: client.options.reconnectPeriod }, "MQTT reconnecting");
  });
  client.on("offline", () => log.warn("MQTT connection lost; retrying"));
  client.on("error", (err) => {
    onEvent("error");
    const rc = (err as { code?: unknown }).code;
    const reasonCode = typeof rc === "number" ? rc : undefined;
    // Every retry of every client fails the same way; say it once a minute, with the count.
    const { log: show, repeated } = errors.check(`${reasonCode}:${err.message}`);
    if (show) log.error({ reasonCode, err: err.message, ...(repeated ? { repeatedSinceLastLog: repeated } : {}) }, reasonCode === undefined ? "MQTT error" : "MQTT connection refused; retrying");
    else log.debug({ reasonCode, err: err.message }, "MQTT error (repeat)");
  });
}

/**
 * No timeout: a broker that is down is retried for ever (mqtt.js reconnects); progress is logged.
 * Closing the client ends the wait, so a stop during start-up is not held by a broker never reached.
 */
export function waitConnected(client: MqttClient): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (): void => {
      client.off("connect", onConnect);
      client.off("end", onEnd);
    };
    const onConnect = (): void => {
      done();
      resolve();
    };
    const onEnd = (): void => {
      done();
      reject(new ConnectorError("STOPPED", "closed before the MQTT connection was established"));
    };
    client.on("connect", onConnect);
    client.on("end", onEnd);
  });
}

/** A client that connects when told to, with Nagle off and credentials refreshed before each reconnect. */
export function createClient(s: MqttConnectionSettings, clientId: string, sessionExpirySeconds: number, log: Logger, onEvent: ConnectionEvent, errors: RepeatLimiter, receiveMaximum?: number): MqttClient {
  const client = mqtt.connect(s.url, { ...baseOptions(s, clientId, sessionExpirySeconds, receiveMaximum), manualConnect: true });
  // mqtt.js builds a new stream on every (re)connect; Nagle would hold PUBACKs back for a delayed ACK.
  client.on("connect", () => (client.stream as unknown as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true));
  logConnectionEvents(client, log, onEvent, errors);
  refreshCredentialsOnReconnect(client, s, log);
  return client;
}
