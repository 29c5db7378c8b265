/**
 * Which directory under the secrets dir each Secret, ConfigMap or Key Vault reference of a
 * KafkaConnector is read from (`<secrets dir>/<dir>/<key>`). The connector reads them, and the
 * Pulumi workload (and the operator) mount them, from this one list.
 */
import type { KafkaConnectorSpecResolved } from "./schema";

export type SecretUse = "kafkaCa" | "kafkaSasl" | "kafkaX509" | "mqttCa" | "mqttX509" | "mqttUserPassword";

export interface SecretRef {
  use: SecretUse;
  /** The spec path that names it, for error messages. */
  field: string;
  /** Directory name under the secrets dir: the object's name. */
  dir: string;
  /** What is mounted there: a Secret, a ConfigMap, or Key Vault objects through the Secrets Store CSI driver. */
  kind: "secret" | "configMap" | "keyVault";
}

const KAFKA_AUTH = "spec.kafkaConnection.authentication.authType";

export function secretRefs(spec: KafkaConnectorSpecResolved): SecretRef[] {
  const out: SecretRef[] = [];
  const kafka = spec.kafkaConnection;
  if (kafka.tls.trustedCaCertificateConfigMap) out.push({ use: "kafkaCa", field: "spec.kafkaConnection.tls.trustedCaCertificateConfigMap", dir: kafka.tls.trustedCaCertificateConfigMap, kind: "configMap" });
  const auth = kafka.authentication;
  if (auth?.enabled) {
    const token = auth.authType.sasl?.token;
    if (token?.secretName) out.push({ use: "kafkaSasl", field: `${KAFKA_AUTH}.sasl.token.secretName`, dir: token.secretName, kind: "secret" });
    else if (token?.keyVault) out.push({ use: "kafkaSasl", field: `${KAFKA_AUTH}.sasl.token.keyVault`, dir: token.keyVault.vaultSecret.name, kind: "keyVault" });
    const x509 = auth.authType.x509;
    const vaultCert = x509?.keyVault?.vaultCert ?? x509?.keyVault?.vaultCaChainSecret;
    if (x509?.secretName) out.push({ use: "kafkaX509", field: `${KAFKA_AUTH}.x509.secretName`, dir: x509.secretName, kind: "secret" });
    else if (vaultCert) out.push({ use: "kafkaX509", field: `${KAFKA_AUTH}.x509.keyVault.${x509?.keyVault?.vaultCert ? "vaultCert" : "vaultCaChainSecret"}`, dir: vaultCert.name, kind: "keyVault" });
  }
  const mqtt = spec.localBrokerConnection;
  if (mqtt.tls.trustedCaCertificateConfigMap) out.push({ use: "mqttCa", field: "spec.localBrokerConnection.tls.trustedCaCertificateConfigMap", dir: mqtt.tls.trustedCaCertificateConfigMap, kind: "configMap" });
  const mqttAuth = mqtt.authentication;
  if (mqttAuth?.x509) out.push({ use: "mqttX509", field: "spec.localBrokerConnection.authentication.x509.secretName", dir: mqttAuth.x509.secretName, kind: "secret" });
  if (mqttAuth?.usernamePassword) out.push({ use: "mqttUserPassword", field: "spec.localBrokerConnection.authentication.usernamePassword.secretName", dir: mqttAuth.usernamePassword.secretName, kind: "secret" });
  return out;
}

/** The reference for one use, if the spec has it. */
export function secretRef(spec: KafkaConnectorSpecResolved, use: SecretUse): SecretRef | undefined {
  return secretRefs(spec).find((r) => r.use === use);
}
