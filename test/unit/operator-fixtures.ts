// Shared by test/unit/operator-*.test.ts: a KafkaConnector as the watch delivers it, the operator
// defaults, and a reporter that records what the controller would send to the API.
import type { ConnectorObject, OperatorDefaults, OwnedManifest } from "../../connector/operator/reconcile";
import type { OperatorStatus, Reporter } from "../../connector/operator/report";

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

/** Records what the controller would send to the API. */
export class FakeReporter implements Reporter {
  applied: OwnedManifest[][] = [];
  statuses: OperatorStatus[] = [];
  events: { type: string; reason: string; message: string }[] = [];
  failWith: Error | undefined;
  private batch: OwnedManifest[] = [];
  readonly applier = {
    apply: async (o: OwnedManifest) => {
      if (this.failWith && o.kind === "StatefulSet") throw this.failWith;
      this.batch.push(o);
      if (o.kind === "PodDisruptionBudget") {
        this.applied.push(this.batch);
        this.batch = [];
      }
    },
  };
  async status(_obj: ConnectorObject, s: OperatorStatus) {
    this.statuses.push(s);
  }
  async event(_obj: ConnectorObject, type: "Normal" | "Warning", reason: string, message: string) {
    this.events.push({ type, reason, message });
  }
}
