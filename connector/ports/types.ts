/**
 * The small interfaces route logic is written against. Only the adapters import mqtt.js or kafkajs,
 * and their errors reach routes as ConnectorErrors (core/errors.ts).
 */
import type { MqttProperties, KafkaHeaders } from "../core/properties";
import type { Compression } from "../config/schema";
import type { ConnectorError } from "../core/errors";

export interface InboundMqttMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  properties: MqttProperties;
  receivedAt: number;
  /**
   * The message is safely handed on: its PUBACK may go out. PUBACKs still leave in arrival order,
   * so an early settle waits for older messages. No-op for QoS 0 and for messages whose
   * connection has since dropped (the broker redelivers those).
   */
  settle(): void;
}

export interface MqttSubscriberOptions {
  clientId: string;
  filter: string;
  /** Filters a session from an earlier configuration may still hold; unsubscribed after connecting. */
  staleFilters?: string[];
  qos: 0 | 1;
  receiveMaximum: number;
  sessionExpirySeconds: number;
}

export interface MqttSubscription {
  readonly clientId: string;
  /** Resolves once connected and subscribed; keeps reconnecting in the background afterwards. */
  start(): Promise<void>;
  /** Stops the broker from routing new messages to this session (used to leave a shared group). */
  unsubscribe(): Promise<void>;
  /**
   * Disconnects cleanly. By default the session stays (the broker keeps queueing for us);
   * `endSession` asks the broker to discard it, for a client that left its shared group.
   */
  close(opts?: { endSession?: boolean }): Promise<void>;
  readonly connected: boolean;
  /** Messages received and not yet acknowledged on the current connection. */
  readonly inFlight: number;
}

export interface MqttPublisher {
  readonly clientId: string;
  start(): Promise<void>;
  /** Resolves on PUBACK (QoS 1) or once written (QoS 0). Rejects with the broker's reason code. */
  publish(topic: string, payload: Buffer, qos: 0 | 1, properties: MqttProperties): Promise<void>;
  /** How many QoS 1 publishes the broker lets us have unacknowledged (its Receive Maximum). */
  readonly sendQuota: number;
  /** The broker's Maximum Packet Size; a larger PUBLISH would make it drop the connection. */
  readonly maxPacketSize: number;
  readonly connected: boolean;
  close(): Promise<void>;
}

export interface MqttPort {
  subscribe(opts: MqttSubscriberOptions, onMessage: (m: InboundMqttMessage) => void): MqttSubscription;
  publisher(clientId: string, sessionExpirySeconds: number): MqttPublisher;
}

export interface OutboundRecord {
  /** The record's topic when it differs from the request's (a templated route's request spans topics). */
  topic?: string;
  key: Buffer | null;
  value: Buffer;
  partition: number;
  headers?: KafkaHeaders;
  timestamp?: string;
}

export interface ProduceRequest {
  /** The topic of every record that names none. */
  topic: string;
  acks: 0 | 1 | -1;
  compression: Compression;
  records: OutboundRecord[];
}

export interface KafkaProducerPort {
  connect(): Promise<void>;
  send(req: ProduceRequest): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaHeaders;
  timestamp: string;
}

/** One fetched batch of one partition. */
export interface ConsumerBatch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  /** The partition's high watermark when fetched, for the lag metric. */
  highWatermark: string;
  /** Marks everything up to and including `offset` as done; committed on the next commit tick. */
  resolveOffset(offset: string): void;
  /** Keeps group membership alive while we wait for PUBACKs. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition is being reassigned. */
  isActive(): boolean;
}

export interface KafkaConsumerPort {
  connect(): Promise<void>;
  /** Starts consuming; returns once the consumer is running. */
  run(onBatch: (batch: ConsumerBatch) => Promise<void>): Promise<void>;
  /** Stops fetching, commits resolved offsets, leaves the group. */
  disconnect(): Promise<void>;
  /** In its group and fetching; false from a crash until it runs again (it is restarted with backoff). */
  readonly healthy: boolean;
}

export interface KafkaPort {
  producer(): KafkaProducerPort;
  /** `onCrash` hears of every crash; the consumer restarts itself after each. */
  consumer(groupId: string, topics: string | readonly string[], onCrash?: (error: ConnectorError) => void): KafkaConsumerPort;
  /** Partition counts, failing with KAFKA_TOPIC_MISSING for topics that do not exist. */
  partitionCounts(topics: string[]): Promise<Map<string, number>>;
  /** Partition counts of the topics that exist; the others are absent. */
  describeTopics(topics: string[]): Promise<Map<string, number>>;
  /** Each topic's max.message.bytes where the cluster reports it; topics it does not report are absent. */
  maxMessageBytes(topics: string[]): Promise<Map<string, number>>;
  close(): Promise<void>;
}
