// Shared by test/unit/operator-*.test.ts: a KafkaConnector as the watch delivers it, and the operator defaults.
import type { ConnectorObject, OperatorDefaults } from "../../connector/operator/reconcile";

export const DEFAULTS: OperatorDefaults = {
  allowedImages: [],
  workload: {
    mqttTokenAudience: "aio-internal",
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
    imagePullSecrets: [],
    terminationGracePeriodSeconds: 60,
    maxUnavailable: 1,
  },
};

export function connectorObject(spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): ConnectorObject {
  return {
    apiVersion: "mq.iotoperations.azure.com/v1beta1",
    kind: "KafkaConnector",
    metadata: { name: "line1", namespace: "plant", uid: "u-1", generation: 1, resourceVersion: "5", ...meta },
    spec: { image: { repository: "example.com/connector", tag: "1.2.3" }, instances: 2, kafkaConnection: { endpoint: "kafka:9092", tls: { tlsEnabled: false } }, ...spec },
    status: { conditions: [] },
  };
}
