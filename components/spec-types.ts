// Generated from connector/config/schema.ts and runtime-options.ts by `npm run gen:crds`. Do not edit.
// test/components/crds.test.ts fails when this file drifts from the schema.
import type * as pulumi from "@pulumi/pulumi";

/**
 * Desired state of a Kafka connector.
 * Generated from the KafkaConnector spec schema.
 */
export interface KafkaConnectorSpecArgs {
  /** Container image of the connector. */
  image: ConnectorImageArgs;
  /**
   * Number of connector instances (StatefulSet replicas).
   * Range: 1..1000.
   */
  instances: pulumi.Input<number>;
  /**
   * Prefix of every MQTT client ID and Kafka client ID.
   * Must match `^[A-Za-z0-9._-]{1,40}$`.
   */
  clientIdPrefix?: pulumi.Input<string>;
  /** Connection to Kafka or Event Hubs. */
  kafkaConnection: KafkaConnectionArgs;
  /**
   * Connection to the MQTT v5 broker.
   * Default: `{"endpoint":"localhost:1883","tls":{"tlsEnabled":false}}`.
   */
  localBrokerConnection?: LocalBrokerConnectionArgs;
  /**
   * Log level.
   * One of: `trace`, `debug`, `info`, `warn`, `error`, `fatal`. Default: `"warn"`.
   */
  logLevel?: pulumi.Input<LogLevel>;
}

/**
 * Desired state of a Kafka connector.
 * Generated from the KafkaConnector spec without kafkaConnection schema.
 * The KafkaConnector spec without `kafkaConnection`: MqttKafkaBridge derives the endpoint, TLS and authentication from the Event Hubs namespace it creates.
 */
export interface BridgeConnectorSpecArgs {
  /** Container image of the connector. */
  image: ConnectorImageArgs;
  /**
   * Number of connector instances (StatefulSet replicas).
   * Range: 1..1000.
   */
  instances: pulumi.Input<number>;
  /**
   * Prefix of every MQTT client ID and Kafka client ID.
   * Must match `^[A-Za-z0-9._-]{1,40}$`.
   */
  clientIdPrefix?: pulumi.Input<string>;
  /**
   * Connection to the MQTT v5 broker.
   * Default: `{"endpoint":"localhost:1883","tls":{"tlsEnabled":false}}`.
   */
  localBrokerConnection?: LocalBrokerConnectionArgs;
  /**
   * Log level.
   * One of: `trace`, `debug`, `info`, `warn`, `error`, `fatal`. Default: `"warn"`.
   */
  logLevel?: pulumi.Input<LogLevel>;
}

/**
 * Desired routes of a Kafka connector.
 * Generated from the KafkaConnectorTopicMap spec schema.
 * Plain values, not `pulumi.Input`s: the routes decide which event hubs and role assignments exist, so they must be known when the program runs.
 */
export interface KafkaConnectorTopicMapSpecArgs {
  /**
   * Name of the KafkaConnector this map belongs to.
   * Defaults to the connector the map is deployed with.
   * Must match `^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`.
   */
  kafkaConnectorRef?: string;
  /**
   * Compression of produced batches. Event Hubs accepts none and gzip only.
   * One of: `none`, `gzip`, `snappy`, `lz4`. Default: `"none"`.
   */
  compression?: Compression;
  /**
   * Batching of messages sent to Kafka.
   * Default: `{"enabled":false,"latencyMs":5,"maxMessages":100000,"maxBytes":1000000}`.
   */
  batching?: BatchingArgs;
  /**
   * How produced messages are assigned to partitions.
   * One of: `default`, `static`, `topic`, `property`. Default: `"default"`.
   */
  partitionStrategy?: PartitionStrategy;
  /** MQTT user property used as the key with partitionStrategy `property`. */
  partitionKeyProperty?: string;
  /**
   * Copy MQTT properties to Kafka headers and back.
   * Default: `false`.
   */
  copyMqttProperties?: boolean;
  /**
   * Routes between MQTT and Kafka.
   * At least 1 item(s).
   */
  routes: RouteArgs[];
}

/** Container image of the connector. */
export interface ConnectorImageArgs {
  /**
   * Image pull policy.
   * One of: `Always`, `IfNotPresent`, `Never`. Default: `"IfNotPresent"`.
   */
  pullPolicy?: pulumi.Input<ImagePullPolicy>;
  /**
   * Image repository.
   * Default: `"ghcr.io/mqtt-kafka-connector/connector"`.
   */
  repository?: pulumi.Input<string>;
  /**
   * Image tag.
   * Default: `"0.1.0"`.
   */
  tag?: pulumi.Input<string>;
}

/** Image pull policy. */
export const ImagePullPolicy = {
  Always: "Always",
  IfNotPresent: "IfNotPresent",
  Never: "Never",
} as const;
export type ImagePullPolicy = (typeof ImagePullPolicy)[keyof typeof ImagePullPolicy];

/** Connection to Kafka or Event Hubs. */
export interface KafkaConnectionArgs {
  /**
   * Bootstrap servers as `host:port`, comma-separated for several.
   * Must match `^[^\s,:]+:[0-9]{1,5}(,[^\s,:]+:[0-9]{1,5})*$`.
   */
  endpoint: pulumi.Input<string>;
  /** TLS settings. */
  tls: TlsArgs;
  /** Kafka authentication. */
  authentication?: KafkaAuthenticationArgs;
}

/** TLS settings. */
export interface TlsArgs {
  /** Use TLS for the connection. Must be true for Event Hubs. */
  tlsEnabled: pulumi.Input<boolean>;
  /** ConfigMap holding PEM CA certificates used to verify the server. */
  trustedCaCertificateConfigMap?: pulumi.Input<string>;
}

/** Kafka authentication. */
export interface KafkaAuthenticationArgs {
  /** Authenticate to Kafka. */
  enabled: pulumi.Input<boolean>;
  /**
   * The authentication method: exactly one when `enabled` is true; may be empty (`{}`) when it is false.
   * Set at most one of: `sasl`, `systemAssignedManagedIdentity`, `x509`.
   */
  authType: KafkaAuthTypeArgs;
}

/**
 * The authentication method: exactly one when `enabled` is true; may be empty (`{}`) when it is false.
 * Set at most one of: `sasl`, `systemAssignedManagedIdentity`, `x509`.
 */
export interface KafkaAuthTypeArgs {
  /** SASL authentication (PLAIN or SCRAM). */
  sasl?: SaslArgs;
  /** Entra ID (managed or workload identity) authentication via SASL OAUTHBEARER. */
  systemAssignedManagedIdentity?: ManagedIdentityAuthArgs;
  /**
   * X.509 client certificate authentication.
   * Set exactly one of: `secretName`, `keyVault`.
   */
  x509?: KafkaX509Args;
}

/** SASL authentication (PLAIN or SCRAM). */
export interface SaslArgs {
  /**
   * SASL mechanism.
   * One of: `plain`, `scramSha256`, `scramSha512`.
   */
  saslType: pulumi.Input<SaslType>;
  /**
   * Where the SASL password comes from.
   * Set exactly one of: `secretName`, `keyVault`.
   */
  token: SaslTokenArgs;
}

/** SASL mechanism. */
export const SaslType = {
  Plain: "plain",
  ScramSha256: "scramSha256",
  ScramSha512: "scramSha512",
} as const;
export type SaslType = (typeof SaslType)[keyof typeof SaslType];

/**
 * Where the SASL password comes from.
 * Set exactly one of: `secretName`, `keyVault`.
 */
export interface SaslTokenArgs {
  /** Kubernetes Secret with `password` (and optionally `username`) keys. */
  secretName?: pulumi.Input<string>;
  /** Read the password from Azure Key Vault. */
  keyVault?: SaslKeyVaultArgs;
}

/** Read the password from Azure Key Vault. */
export interface SaslKeyVaultArgs {
  /** SASL username, e.g. `$ConnectionString` for Event Hubs. */
  username?: pulumi.Input<string>;
  /** The Azure Key Vault that holds the secret. */
  vault: KeyVaultArgs;
  /** A Key Vault object reference. */
  vaultSecret: KeyVaultObjectArgs;
}

/** The Azure Key Vault that holds the secret. */
export interface KeyVaultArgs {
  /** Key Vault name. */
  name: pulumi.Input<string>;
  /** Entra tenant (directory) ID of the vault. */
  directoryId: pulumi.Input<string>;
  /** How the Secrets Store CSI driver authenticates to the vault. */
  credentials: KeyVaultCredentialsArgs;
}

/** How the Secrets Store CSI driver authenticates to the vault. */
export interface KeyVaultCredentialsArgs {
  /** Kubernetes Secret with the service principal credentials the CSI driver uses to read the vault. */
  servicePrincipalLocalSecretName: pulumi.Input<string>;
}

/** A Key Vault object reference. */
export interface KeyVaultObjectArgs {
  /** Name of the Key Vault object. */
  name: pulumi.Input<string>;
  /** Version of the Key Vault object; latest when omitted. */
  version?: pulumi.Input<string>;
}

/** Entra ID (managed or workload identity) authentication via SASL OAUTHBEARER. */
export interface ManagedIdentityAuthArgs {
  /**
   * Token audience, `https://<namespace>.servicebus.windows.net` for Event Hubs.
   * Must match `^https://[^\s/]+/?$`.
   */
  audience: pulumi.Input<string>;
}

/**
 * X.509 client certificate authentication.
 * Set exactly one of: `secretName`, `keyVault`.
 */
export interface KafkaX509Args {
  /** Kubernetes TLS Secret (`tls.crt`, `tls.key`). */
  secretName?: pulumi.Input<string>;
  /**
   * Read the client certificate from Azure Key Vault.
   * Set exactly one of: `vaultCert`, `vaultCaChainSecret`.
   */
  keyVault?: X509KeyVaultArgs;
}

/**
 * Read the client certificate from Azure Key Vault.
 * Set exactly one of: `vaultCert`, `vaultCaChainSecret`.
 */
export interface X509KeyVaultArgs {
  /** The Azure Key Vault that holds the secret. */
  vault: KeyVaultArgs;
  /** A Key Vault object reference. */
  vaultCert?: KeyVaultObjectArgs;
  /** A Key Vault object reference. */
  vaultCaChainSecret?: KeyVaultObjectArgs;
}

/**
 * Connection to the MQTT v5 broker.
 * Default: `{"endpoint":"localhost:1883","tls":{"tlsEnabled":false}}`.
 */
export interface LocalBrokerConnectionArgs {
  /**
   * MQTT broker `host:port`.
   * Must match `^[^\s,:]+:[0-9]{1,5}$`. Default: `"localhost:1883"`.
   */
  endpoint?: pulumi.Input<string>;
  /**
   * TLS settings.
   * Default: `{"tlsEnabled":false}`.
   */
  tls?: TlsArgs;
  /**
   * Exactly one local broker authentication method.
   * Set exactly one of: `kubernetes`, `x509`, `usernamePassword`.
   */
  authentication?: MqttAuthenticationArgs;
}

/**
 * Exactly one local broker authentication method.
 * Set exactly one of: `kubernetes`, `x509`, `usernamePassword`.
 */
export interface MqttAuthenticationArgs {
  /** MQTT v5 enhanced authentication with method `K8S-SAT`. */
  kubernetes?: MqttKubernetesAuthArgs;
  /** X.509 client certificate. */
  x509?: MqttX509Args;
  /** MQTT username and password. */
  usernamePassword?: MqttUsernamePasswordArgs;
}

/** MQTT v5 enhanced authentication with method `K8S-SAT`. */
export interface MqttKubernetesAuthArgs {
  /** Service account token file. Default `/var/run/secrets/tokens/mqtt-client-token`, or `$MQTT_SAT_TOKEN_PATH`. */
  tokenPath?: pulumi.Input<string>;
}

/** X.509 client certificate. */
export interface MqttX509Args {
  /** Kubernetes TLS Secret (`tls.crt`, `tls.key`). */
  secretName: pulumi.Input<string>;
}

/** MQTT username and password. */
export interface MqttUsernamePasswordArgs {
  /** Kubernetes basic-auth Secret (`username`, `password`). */
  secretName: pulumi.Input<string>;
}

/** Log level. */
export const LogLevel = {
  Trace: "trace",
  Debug: "debug",
  Info: "info",
  Warn: "warn",
  Error: "error",
  Fatal: "fatal",
} as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** Compression of produced batches. Event Hubs accepts none and gzip only. */
export const Compression = {
  None: "none",
  Gzip: "gzip",
  Snappy: "snappy",
  Lz4: "lz4",
} as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

/**
 * Batching of messages sent to Kafka.
 * Default: `{"enabled":false,"latencyMs":5,"maxMessages":100000,"maxBytes":1000000}`.
 */
export interface BatchingArgs {
  /**
   * Hold messages up to latencyMs to build larger batches.
   * Default: `false`.
   */
  enabled?: boolean;
  /**
   * Longest time a message waits in a batch.
   * Range: 0..60000. Default: `5`.
   */
  latencyMs?: number;
  /**
   * Most messages in one batch.
   * Range: 1..1000000. Default: `100000`.
   */
  maxMessages?: number;
  /**
   * Most bytes in one batch.
   * Range: 1..1000000. Default: `1000000`.
   */
  maxBytes?: number;
}

/** How produced messages are assigned to partitions. */
export const PartitionStrategy = {
  Default: "default",
  Static: "static",
  Topic: "topic",
  Property: "property",
} as const;
export type PartitionStrategy = (typeof PartitionStrategy)[keyof typeof PartitionStrategy];

/**
 * A route: exactly one of mqttToKafka or kafkaToMqtt.
 * Set exactly one of: `mqttToKafka`, `kafkaToMqtt`.
 */
export interface RouteArgs {
  /** Route from MQTT to Kafka. */
  mqttToKafka?: MqttToKafkaRouteArgs;
  /**
   * Route from Kafka to MQTT.
   * Set exactly one of: `kafkaTopic`, `kafkaTopics`.
   */
  kafkaToMqtt?: KafkaToMqttRouteArgs;
}

/** Route from MQTT to Kafka. */
export interface MqttToKafkaRouteArgs {
  /**
   * Unique name of the route.
   * Must match `^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`.
   */
  name: string;
  /** MQTT topic filter; `+` and `#` wildcards allowed. */
  mqttTopic: string;
  /**
   * Kafka topic (event hub) to produce to, or a template of one over the MQTT topic: `${inputTopic}`, `${inputTopic.N}` (its N-th level from 1).
   * Must match `^(?:[A-Za-z0-9._-]|\$\{[^{}]*\})+$`.
   */
  kafkaTopic: string;
  /**
   * With a templated kafkaTopic: the topics the route may produce to. A message whose topic is not listed is dead-lettered; the Pulumi components create and authorize exactly these event hubs.
   * At least 1 item(s).
   */
  kafkaTopics?: string[];
  /** Template of the record key over the MQTT topic (`${inputTopic}`, `${inputTopic.N}`), e.g. `${inputTopic.2}`. With partitionStrategy `default` (the only one it combines with) the key also picks the partition. */
  kafkaKey?: string;
  /**
   * Acknowledgements required from Kafka: zero (0), one (1) or all (-1).
   * One of: `zero`, `one`, `all`. Default: `"all"`.
   */
  kafkaAcks?: KafkaAcks;
  /**
   * QoS of the MQTT subscription.
   * One of: `0`, `1`. Default: `1`.
   */
  qos?: number;
  /** Spread the subscription over several clients. */
  sharedSubscription?: SharedSubscriptionArgs;
  /**
   * Dead-letter target for poison, oversize and refused messages. Without it such messages are dropped, logged and counted.
   * Set exactly one of: `kafkaTopic`, `mqttTopic`.
   */
  deadLetter?: DeadLetterArgs;
}

/** Acknowledgements required from Kafka: zero (0), one (1) or all (-1). */
export const KafkaAcks = {
  Zero: "zero",
  One: "one",
  All: "all",
} as const;
export type KafkaAcks = (typeof KafkaAcks)[keyof typeof KafkaAcks];

/** Spread the subscription over several clients. */
export interface SharedSubscriptionArgs {
  /**
   * Shared subscription group name.
   * Must match `^[^/+#\s]+$`.
   */
  groupName: string;
  /**
   * MQTT clients per instance subscribed to `$share/<groupName>/<mqttTopic>`.
   * Range: 1..64. Default: `1`.
   */
  groupMinimumShareNumber?: number;
}

/**
 * Dead-letter target for poison, oversize and refused messages. Without it such messages are dropped, logged and counted.
 * Set exactly one of: `kafkaTopic`, `mqttTopic`.
 */
export interface DeadLetterArgs {
  /**
   * Kafka topic that receives undeliverable messages, with `dlq-*` headers giving the reason.
   * Must match `^[A-Za-z0-9._-]{1,249}$`.
   */
  kafkaTopic?: string;
  /** MQTT topic that receives undeliverable messages, with `dlq-*` user properties giving the reason. */
  mqttTopic?: string;
}

/**
 * Route from Kafka to MQTT.
 * Set exactly one of: `kafkaTopic`, `kafkaTopics`.
 */
export interface KafkaToMqttRouteArgs {
  /**
   * Unique name of the route.
   * Must match `^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`.
   */
  name: string;
  /**
   * Kafka topic (event hub) to consume.
   * Must match `^[A-Za-z0-9._-]{1,249}$`.
   */
  kafkaTopic?: string;
  /**
   * Kafka topics (event hubs) to consume, instead of kafkaTopic; one consumer group covers them all.
   * At least 1 item(s).
   */
  kafkaTopics?: string[];
  /** MQTT topic to publish to (no wildcards), or a template of one over the record: `${inputTopic}` (its Kafka topic), `${key}`, `${header.NAME}`, `${partition}`, e.g. `devices/${key}/commands`. `$${` is a literal `${`. */
  mqttTopic: string;
  /** Kafka consumer group; defaults to the route name. */
  consumerGroupId?: string;
  /**
   * QoS of the MQTT publish. With 1 the offset is committed only after the PUBACK.
   * One of: `0`, `1`. Default: `1`.
   */
  qos?: number;
  /**
   * Dead-letter target for poison, oversize and refused messages. Without it such messages are dropped, logged and counted.
   * Set exactly one of: `kafkaTopic`, `mqttTopic`.
   */
  deadLetter?: DeadLetterArgs;
}

/**
 * Runtime options of the connector process, set as its environment.
 * Generated from connector/config/runtime-options.ts; values are checked with the CLI's own bounds.
 */
export interface ConnectorRuntimeArgs {
  /**
   * Log level; overrides spec.logLevel.
   * Environment variable `LOG_LEVEL`, flag `--log-level`. One of: `trace`, `debug`, `info`, `warn`, `error`, `fatal`. Default: `warn`.
   */
  logLevel?: string;
  /**
   * MQTT Receive Maximum of each subscribing client: QoS 1 messages in flight per connection.
   * Environment variable `MQTT_RECEIVE_MAXIMUM`, flag `--receive-maximum`. At least 1. Default: `1000`.
   */
  receiveMaximum?: number;
  /**
   * MQTT connections each kafkaToMqtt route publishes on, at most one per partition; the broker's Receive Maximum applies per connection.
   * Environment variable `KAFKA_TO_MQTT_CONNECTIONS`, flag `--kafka-to-mqtt-connections`. At least 1. Default: `4`.
   */
  kafkaToMqttConnections?: number;
  /**
   * QoS 0 messages waiting for Kafka beyond this are shed and counted (each counts its record plus 512 bytes); QoS 1 is bounded by the Receive Maximum.
   * Environment variable `MAX_BUFFERED_BYTES`, flag `--max-buffered-bytes`. At least 1024. Default: `67108864`.
   */
  maxBufferedBytes?: number;
  /**
   * How long the broker keeps our MQTT sessions, and queues for them, while we are away (seconds).
   * Environment variable `MQTT_SESSION_EXPIRY_SECONDS`, flag `--session-expiry`. At least 0. Default: `3600`.
   */
  sessionExpirySeconds?: number;
  /**
   * Where a consumer group with no committed offset starts.
   * Environment variable `KAFKA_OFFSET_RESET`, flag `--offset-reset`. One of: `earliest`, `latest`. Default: `earliest`.
   */
  offsetReset?: string;
  /**
   * Offset commit cadence; Event Hubs allows about 4 commits per second per partition.
   * Environment variable `KAFKA_COMMIT_INTERVAL_MS`, flag `--commit-interval-ms`. At least 250. Default: `1000`.
   */
  commitIntervalMs?: number;
  /**
   * How long a crashed instance's partitions wait before the group reassigns them.
   * Environment variable `KAFKA_SESSION_TIMEOUT_MS`, flag `--kafka-session-timeout-ms`. At least 6000. Default: `10000`.
   */
  sessionTimeoutMs?: number;
  /**
   * Seconds allowed for the drain on SIGTERM/SIGINT.
   * Environment variable `DRAIN_TIMEOUT_SECONDS`, flag `--drain-timeout`. At least 0. Default: `30`.
   */
  drainTimeoutSeconds?: number;
  /**
   * Bytes the spool may hold; when it is full, spooling routes take no new messages (no PUBACK) until Kafka takes spooled ones.
   * Environment variable `SPOOL_MAX_BYTES`, flag `--spool-max-bytes`. At least 1048576. Default: `1073741824`.
   */
  spoolMaxBytes?: number;
  /**
   * With --spool-dir: outage spools only while Kafka is unavailable or slower than the input, always spools every message, off ignores the spool.
   * Environment variable `SPOOL_MODE`, flag `--spool-mode`. One of: `off`, `outage`, `always`. Default: `outage`.
   */
  spoolMode?: string;
  /**
   * On stop, keep shared-subscription sessions instead of leaving the group.
   * Environment variable `MQTT_KEEP_SHARED_SESSIONS`, flag `--keep-shared-sessions`. Default: `false`.
   */
  keepSharedSessions?: boolean;
}
