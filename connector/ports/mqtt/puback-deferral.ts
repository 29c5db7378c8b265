/**
 * The ordered-PUBACK deferral: the one place the connector reaches into mqtt.js internals (mqtt is
 * pinned in package.json; the integration and fault tests cover this file).
 *
 * mqtt.js sends a QoS 1 PUBACK right after the `message` event and reads the next packet only once
 * that write is done, so waiting for Kafka inside the handler would allow one message per Kafka
 * round trip. Instead mqtt.js moves on at once, its automatic PUBACK is swallowed, and ours goes out
 * when the ledger says the message and every older one are settled (MQTT v5 §4.6: PUBACKs in the
 * order the PUBLISHes arrived). Up to Receive Maximum messages are in flight per connection.
 */
import type { MqttClient, Packet } from "mqtt";
import { OrderedLedger } from "../../core/ordered-ledger";

type SendPacket = (packet: Packet, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean) => void;
/** mqtt.js internals relied on here. */
interface ClientInternals {
  _sendPacket: SendPacket;
}

export class PubackDeferral {
  private ledger = new OrderedLedger<number>();
  private generation = 0;
  /** messageIds whose automatic PUBACK is suppressed until the ledger releases them. */
  private deferred = new Set<number>();
  /** mqtt.js packet-loop continuations held while over our Receive Maximum. */
  private held: (() => void)[] = [];
  private readonly internals: ClientInternals;

  constructor(
    private readonly client: MqttClient,
    private readonly receiveMaximum: number,
  ) {
    this.internals = client as unknown as ClientInternals;
    const original = this.internals._sendPacket.bind(client);
    this.internals._sendPacket = (packet, cb, cbStorePut, noStore) => {
      if (packet.cmd === "puback" && packet.messageId !== undefined && this.deferred.delete(packet.messageId)) {
        cb?.();
        return;
      }
      original(packet, cb, cbStorePut, noStore);
    };
    // Some brokers (seen with Mosquitto 2.0.11 while a backlog drains) send more unacknowledged QoS 1
    // messages than the Receive Maximum asked for. Holding mqtt.js' packet loop while over it stops
    // reading the socket, so TCP pushes back and memory stays bounded.
    client.handleMessage = (_packet, callback) => {
      if (this.ledger.size <= this.receiveMaximum) callback();
      else this.held.push(() => callback());
    };
    client.on("connect", () => {
      // PUBACKs owed on the old connection are void: the broker redelivers those messages.
      this.generation++;
      this.ledger.clear();
      this.deferred.clear();
      this.release();
    });
  }

  /** Messages received and not yet acknowledged on the current connection. */
  get size(): number {
    return this.ledger.size;
  }

  /** Takes over the PUBACK of `messageId`; the returned function releases it (in order). */
  defer(messageId: number): () => void {
    const gen = this.generation;
    this.deferred.add(messageId);
    const seq = this.ledger.add(messageId);
    let settled = false;
    return () => {
      if (settled || gen !== this.generation) return;
      settled = true;
      this.ledger.completeEach(seq, this.sendPuback);
      if (this.held.length && this.ledger.size <= this.receiveMaximum) this.release();
    };
  }

  /** Lets mqtt.js finish its packet loop (on close: what is unacknowledged is redelivered later). */
  release(): void {
    const held = this.held;
    this.held = [];
    for (const cb of held) cb();
  }

  private readonly sendPuback = (messageId: number): void => {
    if (!this.client.connected) return; // never queue a stale PUBACK for a later connection
    this.internals._sendPacket({ cmd: "puback", messageId, reasonCode: 0 } as Packet, undefined, undefined, true);
  };
}
