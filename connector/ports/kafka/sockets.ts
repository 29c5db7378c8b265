import net from "node:net";
import tls from "node:tls";
import type { ISocketFactory } from "kafkajs";

// Node sockets start with Nagle's algorithm on. Both protocols here exchange small request/ack
// frames (PUBACKs, produce responses, fetches), where Nagle holding a write back until the peer's
// delayed ACK costs tens of milliseconds at the tail. The Java Kafka client and most MQTT clients
// turn it off for the same reason.

/** kafkajs' default TCP keep-alive delay. */
const KEEP_ALIVE_MS = 60_000;

/** kafkajs' own socket factory plus TCP_NODELAY. */
export const noDelaySocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect) : net.connect({ host, port }, onConnect);
  socket.setKeepAlive(true, KEEP_ALIVE_MS);
  socket.setNoDelay(true);
  return socket;
};
