/**
 * Kubernetes Events on the transitions a user wants in `kubectl describe`: a resource became
 * (not) ready, a spec was rejected or accepted again. Steady state records nothing.
 */
import type { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { API_VERSION_FULL } from "../config/schema";
import { kube, type ResourceKind } from "./kube";
import type { Condition } from "./status";

export interface EventTarget {
  kind: ResourceKind;
  name: string;
  uid: string;
}

const TRACKED = ["Ready", "ConfigValid"] as const;

export class EventRecorder {
  private readonly api: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
    private readonly instance: string,
  ) {
    this.api = kc.makeApiClient(kube().CoreV1Api);
  }

  /**
   * Records one Event per tracked condition whose status changed. An object seen for the first
   * time gets one only for a rejected spec; passing states (Applying) get none.
   */
  async onTransition(target: EventTarget, before: readonly Condition[] | undefined, after: readonly Condition[]): Promise<void> {
    for (const type of TRACKED) {
      const now = after.find((c) => c.type === type);
      if (!now || now.reason === "Applying") continue;
      const prev = before?.find((c) => c.type === type);
      if (prev ? prev.status === now.status : !(type === "ConfigValid" && now.status === "False")) continue;
      await this.record(target, now.status === "True" ? "Normal" : "Warning", now.reason, now.message || `${type} is ${now.status}`);
    }
  }

  async record(target: EventTarget, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const at = new Date();
    await this.api.createNamespacedEvent({
      namespace: this.namespace,
      body: {
        metadata: { generateName: `${target.name}.`, namespace: this.namespace },
        involvedObject: { apiVersion: API_VERSION_FULL, kind: target.kind, name: target.name, namespace: this.namespace, uid: target.uid },
        type,
        reason,
        message: message.slice(0, 1024),
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
        source: { component: "mqtt-kafka-connector" },
        reportingComponent: "mqtt-kafka-connector",
        reportingInstance: this.instance.slice(0, 128),
      },
    });
  }
}
