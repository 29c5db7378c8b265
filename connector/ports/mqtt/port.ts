import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from "mqtt";
import { disableNagle } from "./sockets";
import type { Logger } from "../logger";
import { OrderedLedger } from "../core/ordered-ledger";
import { ConnectorError } from "../core/errors";
import { RepeatLimiter } from "../core/repeat-limiter";
import type { MqttProperties } from "../core/properties";
import type { InboundMqttMessage, MqttPort, MqttPublisher, MqttSubscriberOptions, MqttSubscription } from "./types";

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

type SendPacket = (packet: Packet, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean) => void;
/** mqtt.js internals we rely on; pinned by the mqtt version in package.json and covered by integration tests. */
interface ClientInternals {
  _sendPacket: SendPacket;
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

function toProperties(p: IPublishPacket["properties"]): MqttProperties {
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
function waitConnected(client: MqttClient): Promise<void> {
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

class Subscription implements MqttSubscription {
  private readonly client: MqttClient;
  private ledger = new OrderedLedger<number>();
  private generation = 0;
  /** messageIds whose automatic PUBACK we suppress until the ledger releases them. */
  private deferred = new Set<number>();
  /** mqtt.js packet-loop continuations held while we are over our Receive Maximum. */
  private held: (() => void)[] = [];
  private closing?: Promise<void>;
  private sessionPresent = false;

  constructor(
    s: MqttConnectionSettings,
    private readonly opts: MqttSubscriberOptions,
    private readonly onMessage: (m: InboundMqttMessage) => void,
    private readonly log: Logger,
    onEvent: ConnectionEvent,
    errors: RepeatLimiter,
  ) {
    this.client = mqtt.connect(s.url, { ...baseOptions(s, opts.clientId, opts.sessionExpirySeconds, opts.receiveMaximum), manualConnect: true });
    disableNagle(this.client);
    logConnectionEvents(this.client, log, onEvent, errors);
    refreshCredentialsOnReconnect(this.client, s, log);
    this.interceptPuback();
    this.enforceReceiveMaximum();
    this.client.on("connect", (connack) => {
      this.sessionPresent = connack.sessionPresent;
      // PUBACKs owed on the old connection are void: the broker redelivers those messages.
      this.generation++;
      this.ledger.clear();
      this.deferred.clear();
      this.release();
    });
    this.client.on("message", (topic, payload, packet) => this.receive(topic, payload, packet));
  }

  get clientId(): string {
    return this.opts.clientId;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  get inFlight(): number {
    return this.ledger.size;
  }

  async start(): Promise<void> {
    this.client.connect();
    await waitConnected(this.client);
    const granted = await this.client.subscribeAsync(this.opts.filter, { qos: this.opts.qos });
    const g = granted[0];
    if (!g || g.qos >= 0x80) {
      throw new ConnectorError("MQTT_SUBSCRIBE_REFUSED", `broker refused subscription to ${JSON.stringify(this.opts.filter)} (reason code ${g?.qos ?? "none"})`, {
        reasonCode: g?.qos,
      });
    }
    // Only a resumed session can hold them; "no subscription existed" (0x11) is the usual answer.
    if (this.sessionPresent && this.opts.staleFilters?.length) {
      await this.client.unsubscribeAsync(this.opts.staleFilters).catch((e: unknown) => this.log.warn({ err: String(e), filters: this.opts.staleFilters }, "could not drop an earlier subscription"));
    }
  }

  /**
   * mqtt.js sends the PUBACK right after the `message` event and handles the next packet only once
   * that write is done. We let it continue at once but swallow the PUBACK, and send our own when
   * the ledger says every older message is settled. This keeps up to Receive Maximum messages in
   * flight per connection instead of one Kafka round trip per message.
   */
  private interceptPuback(): void {
    const internals = this.client as unknown as ClientInternals;
    const original = internals._sendPacket.bind(this.client);
    internals._sendPacket = (packet, cb, cbStorePut, noStore) => {
      if (packet.cmd === "puback" && packet.messageId !== undefined && this.deferred.delete(packet.messageId)) {
        cb?.();
        return;
      }
      original(packet, cb, cbStorePut, noStore);
    };
  }

  /**
   * Some brokers (seen with Mosquitto 2.0.11 while a backlog drains) send more unacknowledged
   * QoS 1 messages than the Receive Maximum we asked for. Holding mqtt.js' packet loop while we are
   * over it stops reading the socket, so TCP pushes back and memory stays bounded.
   */
  private enforceReceiveMaximum(): void {
    this.client.handleMessage = (_packet, callback) => {
      if (this.ledger.size <= this.opts.receiveMaximum) callback();
      else this.held.push(() => callback());
    };
  }

  private release(): void {
    const held = this.held;
    this.held = [];
    for (const cb of held) cb();
  }

  private receive(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const qos = packet.qos === 0 ? 0 : 1;
    let settle: () => void = () => {};
    if (qos === 1 && packet.messageId !== undefined) {
      const messageId = packet.messageId;
      const gen = this.generation;
      this.deferred.add(messageId);
      const seq = this.ledger.add(messageId);
      let settled = false;
      settle = () => {
        if (settled || gen !== this.generation) return;
        settled = true;
        this.ledger.completeEach(seq, this.sendPuback);
        if (this.held.length && this.ledger.size <= this.opts.receiveMaximum) this.release();
      };
    }
    this.onMessage({ topic, payload, qos, properties: toProperties(packet.properties), receivedAt: Date.now(), settle });
  }

  private readonly sendPuback = (messageId: number): void => {
    if (!this.client.connected) return; // never queue a stale PUBACK for a later connection
    const internals = this.client as unknown as ClientInternals;
    internals._sendPacket({ cmd: "puback", messageId, reasonCode: 0 } as Packet, undefined, undefined, true);
  };

  async unsubscribe(): Promise<void> {
    if (this.client.connected) await this.client.unsubscribeAsync(this.opts.filter);
  }

  close(opts: { endSession?: boolean } = {}): Promise<void> {
    this.release(); // let mqtt.js finish its packet loop; unacknowledged messages are redelivered later
    // MQTT v5 §3.14.2.2.2: a DISCONNECT may lower a non-zero session expiry to 0, ending the session.
    const disconnect = opts.endSession ? { properties: { sessionExpiryInterval: 0 } } : {};
    this.closing ??= this.client.endAsync(false, disconnect).catch((e: unknown) => {
      this.log.warn({ err: String(e) }, "MQTT disconnect failed");
    });
    return this.closing;
  }
}

class Publisher implements MqttPublisher {
  private readonly client: MqttClient;
  private closing?: Promise<void>;
  // MQTT v5 §3.2.2.3.3: absent means 65535. mqtt.js does not enforce it, so the route does.
  private quota = 65535;
  // MQTT v5 §3.2.2.3.6: absent means no limit beyond the protocol's 268,435,455 bytes.
  private maxPacket = 268_435_455;

  constructor(
    s: MqttConnectionSettings,
    readonly clientId: string,
    sessionExpirySeconds: number,
    private readonly log: Logger,
    onEvent: ConnectionEvent,
    errors: RepeatLimiter,
  ) {
    this.client = mqtt.connect(s.url, { ...baseOptions(s, clientId, sessionExpirySeconds), manualConnect: true });
    disableNagle(this.client);
    this.client.on("connect", (connack) => {
      this.quota = connack.properties?.receiveMaximum ?? 65535;
      this.maxPacket = connack.properties?.maximumPacketSize ?? 268_435_455;
    });
    logConnectionEvents(this.client, log, onEvent, errors);
    refreshCredentialsOnReconnect(this.client, s, log);
  }

  get connected(): boolean {
    return this.client.connected;
  }

  get sendQuota(): number {
    return this.quota;
  }

  get maxPacketSize(): number {
    return this.maxPacket;
  }

  async start(): Promise<void> {
    this.client.connect();
    await waitConnected(this.client);
  }

  publish(topic: string, payload: Buffer, qos: 0 | 1, properties: MqttProperties): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.publish(topic, payload, { qos, properties }, (err) => {
        if (!err) return resolve();
        const rc = (err as { code?: unknown }).code;
        reject(
          new ConnectorError("MQTT_PUBLISH_FAILED", `publish to ${JSON.stringify(topic)} failed: ${err.message}`, {
            cause: err,
            ...(typeof rc === "number" ? { reasonCode: rc } : {}),
            retriable: typeof rc !== "number",
          }),
        );
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= this.client.endAsync(false).catch((e: unknown) => {
      this.log.warn({ err: String(e) }, "MQTT disconnect failed");
    });
    return this.closing;
  }
}

export class MqttJsPort implements MqttPort {
  /** Shared by every client of the port: they all fail alike when the broker refuses us. */
  private readonly errors = new RepeatLimiter();

  constructor(
    private readonly settings: MqttConnectionSettings,
    private readonly log: Logger,
    private readonly onEvent: ConnectionEvent = () => undefined,
  ) {}

  subscribe(opts: MqttSubscriberOptions, onMessage: (m: InboundMqttMessage) => void): MqttSubscription {
    return new Subscription(this.settings, opts, onMessage, this.log.child({ clientId: opts.clientId }), this.onEvent, this.errors);
  }

  publisher(clientId: string, sessionExpirySeconds: number): MqttPublisher {
    return new Publisher(this.settings, clientId, sessionExpirySeconds, this.log.child({ clientId }), this.onEvent, this.errors);
  }
}
