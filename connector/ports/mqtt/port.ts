import type { Logger } from "../../logger";
import { RepeatLimiter } from "../../core/repeat-limiter";
import type { InboundMqttMessage, MqttPort, MqttPublisher, MqttSubscriberOptions, MqttSubscription } from "../types";
import type { ConnectionEvent, MqttConnectionSettings } from "./client";
import { Publisher } from "./publisher";
import { Subscription } from "./subscription";

export type { MqttConnectionSettings } from "./client";

/** MQTT v5 through mqtt.js: one client per subscription or publisher, all from one connection setting. */
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
