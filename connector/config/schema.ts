/**
 * The one schema for both resources. Types, runtime validation, defaults, the CRD openAPIV3Schema
 * and the Pulumi component args are all derived from the definitions in this file.
 */
import { Type, type Static } from "@sinclair/typebox";
import { Strict, StringEnum, IntEnum, withDefault, exactlyOneOf, type Resolved } from "./typebox-helpers";
import { KafkaConnection, LocalBrokerConnection, Tls } from "./schema-connections";

export const API_GROUP = "mq.iotoperations.azure.com";
export const API_VERSION = "v1beta1";
export const API_VERSION_FULL = `${API_GROUP}/${API_VERSION}`;
export const DEFAULT_IMAGE_REPOSITORY = "ghcr.io/mqtt-kafka-connector/connector";
export const DEFAULT_IMAGE_TAG = "0.1.0";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export const COMPRESSIONS = ["none", "gzip", "snappy", "lz4"] as const;
export const PARTITION_STRATEGIES = ["default", "static", "topic", "property"] as const;
export const KAFKA_ACKS = ["zero", "one", "all"] as const;
export { SASL_TYPES, KAFKA_AUTH_TYPES } from "./schema-connections";

/** Event Hubs rejects produce requests above 1,046,528 bytes; we stay under 1,000,000. */
export const MAX_REQUEST_BYTES = 1_000_000;

/** Kubernetes object names (DNS subdomain): lower-case letters, digits, `-` and `.`, at most 253. */
export const K8S_NAME_PATTERN = "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$";
const k8sName = (description: string) => Type.String({ description, minLength: 1, maxLength: 253, pattern: K8S_NAME_PATTERN });

const Metadata = Type.Object(
  {
    name: k8sName("Name of the resource."),
    namespace: Type.Optional(Type.String({ description: "Namespace of the resource.", minLength: 1 })),
  },
  { additionalProperties: true, description: "Standard Kubernetes object metadata." },
);

const Image = Strict(
  {
    pullPolicy: withDefault(StringEnum(["Always", "IfNotPresent", "Never"] as const, { description: "Image pull policy." }), "IfNotPresent"),
    repository: withDefault(Type.String({ description: "Image repository.", minLength: 1 }), DEFAULT_IMAGE_REPOSITORY),
    tag: withDefault(Type.String({ description: "Image tag.", minLength: 1 }), DEFAULT_IMAGE_TAG),
  },
  { description: "Container image of the connector." },
);

export const KafkaConnectorSpec = Strict(
  {
    image: Image,
    instances: Type.Integer({ description: "Number of connector instances (StatefulSet replicas).", minimum: 1, maximum: 1000 }),
    clientIdPrefix: Type.Optional(
      Type.String({ description: "Prefix of every MQTT client ID and Kafka client ID.", pattern: "^[A-Za-z0-9._-]{1,40}$" }),
    ),
    kafkaConnection: KafkaConnection,
    localBrokerConnection: withDefault(LocalBrokerConnection, { endpoint: "localhost:1883", tls: { tlsEnabled: false } }),
    logLevel: withDefault(StringEnum(LOG_LEVELS, { description: "Log level." }), "warn"),
  },
  { description: "Desired state of a Kafka connector." },
);

const routeName = Type.String({
  description: "Unique name of the route.",
  maxLength: 63,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$",
});

/**
 * Routes per topic map. A bound the CRD needs: the apiserver prices a CEL rule on list items by the
 * list's size, and the route-name uniqueness rule compares every pair. Split more routes over several maps.
 */
export const MAX_ROUTES_PER_MAP = 256;
const kafkaTopic = (description: string) =>
  Type.String({ description, pattern: "^[A-Za-z0-9._-]{1,249}$" });
/** Kafka topics or event hubs listed by name; duplicates are refused (a set in the CRD). */
export const MAX_LISTED_TOPICS = 1000;
const kafkaTopicList = (description: string) =>
  Type.Array(kafkaTopic("Kafka topic (event hub)."), { description, minItems: 1, maxItems: MAX_LISTED_TOPICS, "x-kubernetes-list-type": "set" });
/**
 * A Kafka topic name, or a template of one over the MQTT topic (`${inputTopic}`, `${inputTopic.N}`).
 * The pattern admits placeholders of any name; the connector's validation and a CEL rule name the bad ones.
 */
export const KAFKA_TOPIC_TEMPLATE_PATTERN = "^(?:[A-Za-z0-9._-]|\\$\\{[^{}]*\\})+$";
const qos = (description: string) => withDefault(IntEnum([0, 1] as const, { description }), 1);

/** Extension to the reference resource: where a message goes when it cannot be delivered. */
const DeadLetter = Type.Object(
  {
    kafkaTopic: Type.Optional(kafkaTopic("Kafka topic that receives undeliverable messages, with `dlq-*` headers giving the reason.")),
    mqttTopic: Type.Optional(
      Type.String({ description: "MQTT topic that receives undeliverable messages, with `dlq-*` user properties giving the reason.", minLength: 1, maxLength: 65535 }),
    ),
  },
  {
    additionalProperties: false,
    description: "Dead-letter target for poison, oversize and refused messages. Without it such messages are dropped, logged and counted.",
    ...exactlyOneOf(["kafkaTopic", "mqttTopic"]),
  },
);

const MqttToKafka = Strict(
  {
    name: routeName,
    mqttTopic: Type.String({ description: "MQTT topic filter; `+` and `#` wildcards allowed.", minLength: 1, maxLength: 65535 }),
    kafkaTopic: Type.String({
      description: "Kafka topic (event hub) to produce to, or a template of one over the MQTT topic: `${inputTopic}`, `${inputTopic.N}` (its N-th level from 1).",
      maxLength: 249,
      pattern: KAFKA_TOPIC_TEMPLATE_PATTERN,
    }),
    kafkaTopics: Type.Optional(
      kafkaTopicList(
        "With a templated kafkaTopic: the topics the route may produce to. A message whose topic is not listed is dead-lettered; the Pulumi components create and authorize exactly these event hubs.",
      ),
    ),
    kafkaKey: Type.Optional(
      Type.String({
        description:
          "Template of the record key over the MQTT topic (`${inputTopic}`, `${inputTopic.N}`), e.g. `${inputTopic.2}`. With partitionStrategy `default` (the only one it combines with) the key also picks the partition.",
        minLength: 1,
        maxLength: 1024,
      }),
    ),
    kafkaAcks: withDefault(StringEnum(KAFKA_ACKS, { description: "Acknowledgements required from Kafka: zero (0), one (1) or all (-1)." }), "all"),
    qos: qos("QoS of the MQTT subscription."),
    sharedSubscription: Type.Optional(
      Strict(
        {
          groupName: Type.String({ description: "Shared subscription group name.", pattern: "^[^/+#\\s]+$" }),
          groupMinimumShareNumber: withDefault(
            Type.Integer({ description: "MQTT clients per instance subscribed to `$share/<groupName>/<mqttTopic>`.", minimum: 1, maximum: 64 }),
            1,
          ),
        },
        { description: "Spread the subscription over several clients." },
      ),
    ),
    deadLetter: Type.Optional(DeadLetter),
  },
  { description: "Route from MQTT to Kafka." },
);

const KafkaToMqtt = Strict(
  {
    name: routeName,
    kafkaTopic: Type.Optional(kafkaTopic("Kafka topic (event hub) to consume.")),
    kafkaTopics: Type.Optional(kafkaTopicList("Kafka topics (event hubs) to consume, instead of kafkaTopic; one consumer group covers them all.")),
    mqttTopic: Type.String({
      description:
        "MQTT topic to publish to (no wildcards), or a template of one over the record: `${inputTopic}` (its Kafka topic), `${key}`, `${header.NAME}`, `${partition}`, e.g. `devices/${key}/commands`. `$${` is a literal `${`.",
      minLength: 1,
      maxLength: 65535,
    }),
    consumerGroupId: Type.Optional(Type.String({ description: "Kafka consumer group; defaults to the route name.", minLength: 1, maxLength: 255 })),
    qos: qos("QoS of the MQTT publish. With 1 the offset is committed only after the PUBACK."),
    deadLetter: Type.Optional(DeadLetter),
  },
  { description: "Route from Kafka to MQTT.", ...exactlyOneOf(["kafkaTopic", "kafkaTopics"]) },
);

export const Route = Type.Object(
  {
    mqttToKafka: Type.Optional(MqttToKafka),
    kafkaToMqtt: Type.Optional(KafkaToMqtt),
  },
  { additionalProperties: false, description: "A route: exactly one of mqttToKafka or kafkaToMqtt.", ...exactlyOneOf(["mqttToKafka", "kafkaToMqtt"]) },
);

const Batching = Strict(
  {
    enabled: withDefault(Type.Boolean({ description: "Hold messages up to latencyMs to build larger batches." }), false),
    latencyMs: withDefault(Type.Integer({ description: "Longest time a message waits in a batch.", minimum: 0, maximum: 60000 }), 5),
    maxMessages: withDefault(Type.Integer({ description: "Most messages in one batch.", minimum: 1, maximum: 1000000 }), 100000),
    maxBytes: withDefault(Type.Integer({ description: "Most bytes in one batch.", minimum: 1, maximum: MAX_REQUEST_BYTES }), MAX_REQUEST_BYTES),
  },
  { description: "Batching of messages sent to Kafka." },
);

export const KafkaConnectorTopicMapSpec = Strict(
  {
    kafkaConnectorRef: k8sName("Name of the KafkaConnector this map belongs to."),
    compression: withDefault(StringEnum(COMPRESSIONS, { description: "Compression of produced batches. Event Hubs accepts none and gzip only." }), "none"),
    batching: withDefault(Batching, { enabled: false, latencyMs: 5, maxMessages: 100000, maxBytes: MAX_REQUEST_BYTES }),
    partitionStrategy: withDefault(StringEnum(PARTITION_STRATEGIES, { description: "How produced messages are assigned to partitions." }), "default"),
    partitionKeyProperty: Type.Optional(
      Type.String({ description: "MQTT user property used as the key with partitionStrategy `property`.", minLength: 1 }),
    ),
    copyMqttProperties: withDefault(Type.Boolean({ description: "Copy MQTT properties to Kafka headers and back." }), false),
    routes: Type.Array(Route, { description: "Routes between MQTT and Kafka.", minItems: 1, maxItems: MAX_ROUTES_PER_MAP }),
  },
  { description: "Desired routes of a Kafka connector." },
);

const document = <K extends string, S extends typeof KafkaConnectorSpec | typeof KafkaConnectorTopicMapSpec>(kind: K, spec: S) =>
  Type.Object(
    {
      apiVersion: Type.Unsafe<typeof API_VERSION_FULL>({ type: "string", enum: [API_VERSION_FULL], description: "API version." }),
      kind: Type.Unsafe<K>({ type: "string", enum: [kind], description: "Resource kind." }),
      metadata: Metadata,
      spec,
      status: Type.Optional(Type.Object({}, { additionalProperties: true, description: "Observed state (ignored by the connector)." })),
    },
    { additionalProperties: false },
  );

export const KafkaConnectorDocument = document("KafkaConnector", KafkaConnectorSpec);
export const KafkaConnectorTopicMapDocument = document("KafkaConnectorTopicMap", KafkaConnectorTopicMapSpec);

/** Input shapes, as a user writes them (defaulted fields optional). */
export type KafkaConnectorSpecInput = Static<typeof KafkaConnectorSpec>;
export type KafkaConnectorTopicMapSpecInput = Static<typeof KafkaConnectorTopicMapSpec>;

/** Shapes after validation, with every default filled in. */
export type KafkaConnectorResource = Resolved<typeof KafkaConnectorDocument>;
export type KafkaConnectorTopicMapResource = Resolved<typeof KafkaConnectorTopicMapDocument>;
export type KafkaConnectorSpecResolved = Resolved<typeof KafkaConnectorSpec>;
export type TopicMapSpecResolved = Resolved<typeof KafkaConnectorTopicMapSpec>;
export type RouteResolved = Resolved<typeof Route>;
export type MqttToKafkaRoute = Resolved<typeof MqttToKafka>;
export type KafkaToMqttRoute = Resolved<typeof KafkaToMqtt>;
export type DeadLetterTarget = Resolved<typeof DeadLetter>;
export type BatchingResolved = Resolved<typeof Batching>;
export type TlsSettings = Resolved<typeof Tls>;
export type KafkaConnectionSettings = Resolved<typeof KafkaConnection>;
export type LocalBrokerConnectionSettings = Resolved<typeof LocalBrokerConnection>;
export type KafkaAcks = (typeof KAFKA_ACKS)[number];
export type Compression = (typeof COMPRESSIONS)[number];
export type PartitionStrategy = (typeof PARTITION_STRATEGIES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
