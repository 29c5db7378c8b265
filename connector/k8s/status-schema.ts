/**
 * OpenAPI schemas of the status the connector writes (connector/k8s/status.ts), for the CRDs.
 * Typed rather than open, so `kubectl explain` documents them and a malformed write is refused.
 */
type Schema = Record<string, unknown>;

const str = (description: string): Schema => ({ type: "string", description });
const int = (description: string): Schema => ({ type: "integer", format: "int64", description });

const condition: Schema = {
  type: "object",
  required: ["type", "status", "reason", "message", "lastTransitionTime"],
  properties: {
    type: { type: "string", enum: ["Ready", "ConfigValid", "Degraded"], description: "Condition type." },
    status: { type: "string", enum: ["True", "False", "Unknown"], description: "Condition status." },
    reason: str("Machine-readable reason, CamelCase."),
    message: str("What a user needs to know, naming the field or route."),
    observedGeneration: int("Generation the condition was computed for."),
    lastTransitionTime: { type: "string", format: "date-time", description: "When the status last changed." },
  },
};

const conditions: Schema = {
  type: "array",
  description: "Ready, ConfigValid and Degraded.",
  items: condition,
  "x-kubernetes-list-type": "map",
  "x-kubernetes-list-map-keys": ["type"],
};

const route: Schema = {
  type: "object",
  required: ["name", "direction", "state"],
  properties: {
    name: str("Route name."),
    direction: { type: "string", enum: ["mqttToKafka", "kafkaToMqtt"], description: "Route direction." },
    state: { type: "string", enum: ["Running", "NotReady", "Stopped"], description: "Running: connected; NotReady: a connection is down; Stopped: not running." },
    messagesPerSecond: { type: "number", description: "Messages delivered per second recently." },
    inFlight: int("Messages taken and not yet acknowledged to their source."),
    lastError: str("The route's most recent warning or error."),
    lastErrorTime: { type: "string", format: "date-time", description: "When lastError happened." },
  },
};

export const TOPIC_MAP_STATUS_SCHEMA: Schema = {
  type: "object",
  description: "Written by the connector instance that holds the <connector>-status Lease.",
  properties: {
    observedGeneration: int("Newest generation the connector has seen."),
    runningGeneration: int("Generation whose routes run; older than observedGeneration while the newest is rejected."),
    readyRoutes: str("Running routes / routes, e.g. 3/3."),
    conditions,
    routes: { type: "array", description: "Per-route state.", items: route, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] },
  },
};

export const CONNECTOR_STATUS_SCHEMA: Schema = {
  type: "object",
  description: "Written by the connector instance that holds the <connector>-status Lease (and, under status.operator, by the operator).",
  properties: {
    observedGeneration: int("Newest generation the connector has seen."),
    runningGeneration: int("Generation the connector runs."),
    instances: int("Instances wanted (spec.instances)."),
    instancesReady: int("Instances whose Lease is fresh and that report ready."),
    statusWriter: str("The instance that writes this status."),
    conditions,
    operator: { type: "object", description: "Written by the operator, when one manages the workload.", "x-kubernetes-preserve-unknown-fields": true },
  },
};
