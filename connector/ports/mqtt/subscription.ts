import type { IPublishPacket, MqttClient } from "mqtt";
import type { Logger } from "../../logger";
import { ConnectorError } from "../../core/errors";
import type { RepeatLimiter } from "../../core/repeat-limiter";
import type { InboundMqttMessage, MqttSubscriberOptions, MqttSubscription } from "../types";
import { createClient, toProperties, waitConnected, type ConnectionEvent, type MqttConnectionSettings } from "./client";
import { PubackDeferral } from "./puback-deferral";

/** One subscribing client with a persistent session; QoS 1 PUBACKs wait for the route to settle each message. */
export class Subscription implements MqttSubscription {
  private readonly client: MqttClient;
  private readonly pubacks: PubackDeferral;
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
    this.client = createClient(s, opts.clientId, opts.sessionExpirySeconds, log, onEvent, errors, opts.receiveMaximum);
    this.pubacks = new PubackDeferral(this.client, opts.receiveMaximum);
    this.client.on("connect", (connack) => (this.sessionPresent = connack.sessionPresent));
    this.client.on("message", (topic, payload, packet) => this.receive(topic, payload, packet));
  }

  get clientId(): string {
    return this.opts.clientId;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  get inFlight(): number {
    return this.pubacks.size;
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

  private receive(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const qos = packet.qos === 0 ? 0 : 1;
    const settle = qos === 1 && packet.messageId !== undefined ? this.pubacks.defer(packet.messageId) : noop;
    this.onMessage({ topic, payload, qos, properties: toProperties(packet.properties), receivedAt: Date.now(), settle });
  }

  async unsubscribe(): Promise<void> {
    if (this.client.connected) await this.client.unsubscribeAsync(this.opts.filter);
  }

  close(opts: { endSession?: boolean } = {}): Promise<void> {
    this.pubacks.release(); // unacknowledged messages are redelivered later
    // MQTT v5 §3.14.2.2.2: a DISCONNECT may lower a non-zero session expiry to 0, ending the session.
    const disconnect = opts.endSession ? { properties: { sessionExpiryInterval: 0 } } : {};
    this.closing ??= this.client.endAsync(false, disconnect).catch((e: unknown) => {
      this.log.warn({ err: String(e) }, "MQTT disconnect failed");
    });
    return this.closing;
  }
}

const noop = (): void => undefined;
