/** The connection parts of the KafkaConnector schema (schema.ts): Kafka and MQTT endpoints, TLS and authentication. */
import { Type } from "@sinclair/typebox";
import { Strict, StringEnum, withDefault, exactlyOneOf, atMostOneOf } from "./typebox-helpers";

export const SASL_TYPES = ["plain", "scramSha256", "scramSha512"] as const;
export const KAFKA_AUTH_TYPES = ["sasl", "systemAssignedManagedIdentity", "x509"] as const;

const VersionedName = Strict(
  {
    name: Type.String({ description: "Name of the Key Vault object.", minLength: 1 }),
    version: Type.Optional(Type.String({ description: "Version of the Key Vault object; latest when omitted." })),
  },
  { description: "A Key Vault object reference." },
);

const Vault = Strict(
  {
    name: Type.String({ description: "Key Vault name.", minLength: 1 }),
    directoryId: Type.String({ description: "Entra tenant (directory) ID of the vault.", minLength: 1 }),
    credentials: Strict(
      {
        servicePrincipalLocalSecretName: Type.String({
          description: "Kubernetes Secret with the service principal credentials the CSI driver uses to read the vault.",
          minLength: 1,
        }),
      },
      { description: "How the Secrets Store CSI driver authenticates to the vault." },
    ),
  },
  { description: "The Azure Key Vault that holds the secret." },
);

export const Tls = Strict(
  {
    tlsEnabled: Type.Boolean({ description: "Use TLS for the connection. Must be true for Event Hubs." }),
    trustedCaCertificateConfigMap: Type.Optional(
      Type.String({ description: "ConfigMap holding PEM CA certificates used to verify the server.", minLength: 1 }),
    ),
  },
  { description: "TLS settings." },
);

const SaslToken = Type.Object(
  {
    secretName: Type.Optional(
      Type.String({ description: "Kubernetes Secret with `password` (and optionally `username`) keys.", minLength: 1 }),
    ),
    keyVault: Type.Optional(
      Strict(
        {
          username: Type.Optional(Type.String({ description: "SASL username, e.g. `$ConnectionString` for Event Hubs." })),
          vault: Vault,
          vaultSecret: VersionedName,
        },
        { description: "Read the password from Azure Key Vault." },
      ),
    ),
  },
  { additionalProperties: false, description: "Where the SASL password comes from.", ...exactlyOneOf(["secretName", "keyVault"]) },
);

const Sasl = Strict(
  {
    saslType: StringEnum(SASL_TYPES, { description: "SASL mechanism." }),
    token: SaslToken,
  },
  { description: "SASL authentication (PLAIN or SCRAM)." },
);

const ManagedIdentity = Strict(
  {
    audience: Type.String({
      description: "Token audience, `https://<namespace>.servicebus.windows.net` for Event Hubs.",
      pattern: "^https://[^\\s/]+/?$",
    }),
  },
  { description: "Entra ID (managed or workload identity) authentication via SASL OAUTHBEARER." },
);

const X509 = Type.Object(
  {
    secretName: Type.Optional(Type.String({ description: "Kubernetes TLS Secret (`tls.crt`, `tls.key`).", minLength: 1 })),
    keyVault: Type.Optional(
      Type.Object(
        {
          vault: Vault,
          vaultCert: Type.Optional(VersionedName),
          vaultCaChainSecret: Type.Optional(VersionedName),
        },
        {
          additionalProperties: false,
          description: "Read the client certificate from Azure Key Vault.",
          ...exactlyOneOf(["vaultCert", "vaultCaChainSecret"]),
        },
      ),
    ),
  },
  { additionalProperties: false, description: "X.509 client certificate authentication.", ...exactlyOneOf(["secretName", "keyVault"]) },
);

const KafkaAuthType = Type.Object(
  {
    sasl: Type.Optional(Sasl),
    systemAssignedManagedIdentity: Type.Optional(ManagedIdentity),
    x509: Type.Optional(X509),
  },
  {
    additionalProperties: false,
    description: "The authentication method: exactly one when `enabled` is true; may be empty (`{}`) when it is false.",
    ...atMostOneOf(KAFKA_AUTH_TYPES),
  },
);

export const KafkaConnection = Strict(
  {
    endpoint: Type.String({
      description: "Bootstrap servers as `host:port`, comma-separated for several.",
      pattern: "^[^\\s,:]+:[0-9]{1,5}(,[^\\s,:]+:[0-9]{1,5})*$",
    }),
    tls: Tls,
    authentication: Type.Optional(
      Strict(
        {
          enabled: Type.Boolean({ description: "Authenticate to Kafka." }),
          authType: KafkaAuthType,
        },
        { description: "Kafka authentication." },
      ),
    ),
  },
  { description: "Connection to Kafka or Event Hubs." },
);

const MqttAuthentication = Type.Object(
  {
    kubernetes: Type.Optional(
      Strict(
        {
          tokenPath: Type.Optional(
            Type.String({
              description: "Service account token file. Default `/var/run/secrets/tokens/mqtt-client-token`, or `$MQTT_SAT_TOKEN_PATH`.",
              minLength: 1,
            }),
          ),
        },
        { description: "MQTT v5 enhanced authentication with method `K8S-SAT`." },
      ),
    ),
    x509: Type.Optional(
      Strict(
        { secretName: Type.String({ description: "Kubernetes TLS Secret (`tls.crt`, `tls.key`).", minLength: 1 }) },
        { description: "X.509 client certificate." },
      ),
    ),
    usernamePassword: Type.Optional(
      Strict(
        { secretName: Type.String({ description: "Kubernetes basic-auth Secret (`username`, `password`).", minLength: 1 }) },
        { description: "MQTT username and password." },
      ),
    ),
  },
  {
    additionalProperties: false,
    description: "Exactly one local broker authentication method.",
    ...exactlyOneOf(["kubernetes", "x509", "usernamePassword"]),
  },
);

export const LocalBrokerConnection = Strict(
  {
    endpoint: withDefault(
      Type.String({ description: "MQTT broker `host:port`.", pattern: "^[^\\s,:]+:[0-9]{1,5}$" }),
      "localhost:1883",
    ),
    tls: withDefault(Tls, { tlsEnabled: false }),
    authentication: Type.Optional(MqttAuthentication),
  },
  { description: "Connection to the MQTT v5 broker." },
);
