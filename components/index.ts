/**
 * The mqtt-kafka-connector Pulumi package. Most users want MqttKafkaBridge; the other components
 * are its parts, for stacks that bring their own Event Hubs, identity or CRDs.
 */
export * from "./mqtt-kafka-bridge";
export * from "./event-hubs-kafka";
export * from "./event-hubs-role-assignments";
export * from "./connector-identity";
export * from "./connector-crds";
export * from "./connector-operator";
export * from "./kafka-connector";
export * from "./spec-types";

// Pure helpers behind the components, exported for tests and for stacks that compose differently.
export * from "./hubs";
export * from "./rbac";
export * from "./crds";
export * from "./workload";
export * from "../connector/operator/manifests";
export * from "./connector-config";
export { generateSpecTypes } from "./args-codegen";
