/**
 * The connector workload as plain Kubernetes objects, shared with the operator
 * (connector/k8s/workload.ts): the Pulumi component and `mqtt-kafka-connector operator` render the
 * pods from the same functions, so the two cannot drift.
 */
export * from "../connector/k8s/workload";
