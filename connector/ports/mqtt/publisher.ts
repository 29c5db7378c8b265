import type { MqttClient } from "mqtt";
import type { Logger } from "../../logger";
import { ConnectorError } from "../../core/errors";
import type { RepeatLimiter } from "../../core/repeat-limiter";
import type { MqttProperties } from "../../core/properties";
import type { MqttPublisher } from "../types";
import { createClient, waitConnected, type ConnectionEvent, type MqttConnectionSettings } from "./client";

/** One publishing client with a persistent session; resolves each QoS 1 publish on its PUBACK. */
export class Publisher implements MqttPublisher {
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
    this.client = createClient(s, clientId, sessionExpirySeconds, log, onEvent, errors);
    this.client.on("connect", (connack) => {
      this.quota = connack.properties?.receiveMaximum ?? 65535;
      this.maxPacket = connack.properties?.maximumPacketSize ?? 268_435_455;
    });
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

