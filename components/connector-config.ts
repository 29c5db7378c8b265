/**
 * Validates component args with the connector's own validator and renders the config the connector
 * reads (the same multi-document YAML as the CRs), so Pulumi and the connector can never disagree
 * about what is valid.
 */
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import {
  API_VERSION_FULL,
  K8S_NAME_PATTERN,
  type KafkaConnectorResource,
  type KafkaConnectorTopicMapResource,
} from "../connector/config/schema";
import { validateDocument } from "../connector/config/validate";
import { formatProblem } from "../connector/core/errors";

/** Where a document is deployed. */
export interface DocumentTarget {
  name: string;
  namespace: string;
}

/**
 * A component's args failed validation; the message names every bad field. A Pulumi RunError, so
 * `pulumi preview` and `up` print the message without a stack trace: it is the user's input that
 * is wrong, not the program.
 */
export class InvalidArgsError extends pulumi.RunError {
  constructor(component: string, message: string) {
    super(`${component}: ${message}`);
    this.name = "InvalidArgsError";
  }
}

/** True when `value` holds no Output or Promise anywhere, i.e. it can be validated right now. */
export function isFullyKnown(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return false;
  if (Array.isArray(value)) return value.every(isFullyKnown);
  if (typeof value === "object" && value !== null) return Object.values(value).every(isFullyKnown);
  return true;
}

// validateDocument fills defaults in place; work on a copy so args objects stay as the caller wrote them.
function copy<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

const K8S_NAME = new RegExp(K8S_NAME_PATTERN);

export function k8sNameProblem(name: string): string | undefined {
  if (name.length > 253 || !K8S_NAME.test(name)) {
    return `${JSON.stringify(name)} is not a Kubernetes object name (lower-case letters, digits, '-' and '.', at most 253)`;
  }
  return undefined;
}

/** Validates and defaults a KafkaConnector spec; throws InvalidArgsError listing every problem. */
export function resolveConnectorSpec(component: string, target: DocumentTarget, spec: unknown): KafkaConnectorResource {
  const doc = { apiVersion: API_VERSION_FULL, kind: "KafkaConnector", metadata: { ...target }, spec: copy(spec) };
  const { resource, problems } = validateDocument(doc);
  if (problems.length || !resource || resource.kind !== "KafkaConnector") {
    throw new InvalidArgsError(component, `invalid connector spec:\n  ${problems.map(formatProblem).join("\n  ")}`);
  }
  return resource;
}

/** Validates and defaults a KafkaConnectorTopicMap spec; throws InvalidArgsError listing every problem. */
export function resolveTopicMapSpec(component: string, target: DocumentTarget, spec: unknown): KafkaConnectorTopicMapResource {
  const doc = { apiVersion: API_VERSION_FULL, kind: "KafkaConnectorTopicMap", metadata: { ...target }, spec: copy(spec) };
  const { resource, problems } = validateDocument(doc);
  if (problems.length || !resource || resource.kind !== "KafkaConnectorTopicMap") {
    throw new InvalidArgsError(component, `invalid topic map:\n  ${problems.map(formatProblem).join("\n  ")}`);
  }
  return resource;
}

/** The KafkaConnector and its topic map with every default filled in, as the API holds them. */
export function renderConnectorConfig(connector: KafkaConnectorResource, topicMap: KafkaConnectorTopicMapResource): string {
  const header = "# Deployed by the mqtt-kafka-connector Pulumi package. Edit the Pulumi program, not the custom resources.\n";
  const strip = <T extends { status?: unknown }>(d: T): Omit<T, "status"> => {
    const { status: _status, ...rest } = d;
    return rest;
  };
  return header + [strip(connector), strip(topicMap)].map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
}
