import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { ConfigError, type ConfigProblem } from "../core/errors";
import { validateDocument, documentLabel, type ConfigResource } from "./validate";
import type { KafkaConnectorResource, KafkaConnectorTopicMapResource } from "./schema";
import { connectorRoutes, duplicateNames } from "./routes";

export interface ConnectorConfig {
  connector: KafkaConnectorResource;
  topicMaps: KafkaConnectorTopicMapResource[];
}

const YAML_FILE = /\.(ya?ml|json)$/i;

/** Expands files and directories (one level, sorted, hidden and `..data`-style Kubernetes entries skipped). */
export function expandConfigPaths(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new ConfigError([{ document: p, path: "", message: "no such file or directory" }]);
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        if (name.startsWith(".") || !YAML_FILE.test(name)) continue;
        const full = join(p, name);
        if (statSync(full).isFile()) files.push(full);
      }
    } else {
      files.push(p);
    }
  }
  return files;
}

/** Parses and validates every document in the given text. */
export function parseConfigText(text: string, source: string): { resources: ConfigResource[]; problems: ConfigProblem[] } {
  const resources: ConfigResource[] = [];
  const problems: ConfigProblem[] = [];
  parseAllDocuments(text).forEach((d, i) => {
    const where = `${source}#${i + 1}`;
    if (d.errors.length) {
      for (const err of d.errors) {
        const line = err.linePos?.[0];
        problems.push({ document: where, path: "", message: `YAML syntax error${line ? ` at line ${line.line}, column ${line.col}` : ""}: ${err.message.split("\n")[0]}` });
      }
      return;
    }
    const value: unknown = d.toJS();
    if (value === null || value === undefined) return; // empty document between `---`
    const res = validateDocument(value, where);
    problems.push(...res.problems);
    if (res.resource && res.problems.length === 0) resources.push(res.resource);
  });
  return { resources, problems };
}

export function loadResources(paths: string[]): ConfigResource[] {
  const resources: ConfigResource[] = [];
  const problems: ConfigProblem[] = [];
  for (const file of expandConfigPaths(paths)) {
    const rel = relative(process.cwd(), file);
    const source = rel && !rel.startsWith("..") ? rel : file; // short names inside cwd, full paths elsewhere
    const res = parseConfigText(readFileSync(file, "utf8"), source);
    resources.push(...res.resources);
    problems.push(...res.problems);
  }
  if (problems.length) throw new ConfigError(problems);
  return resources;
}

/**
 * Picks the connector to run and the topic maps that reference it (same namespace).
 * Throws ConfigError naming what is missing or ambiguous.
 */
export function selectConnector(resources: ConfigResource[], name?: string): ConnectorConfig {
  const connectors = resources.filter((r): r is KafkaConnectorResource => r.kind === "KafkaConnector");
  const maps = resources.filter((r): r is KafkaConnectorTopicMapResource => r.kind === "KafkaConnectorTopicMap");
  const fail = (message: string): never => {
    throw new ConfigError([{ document: name ? `KafkaConnector/${name}` : "configuration", path: "", message }]);
  };
  const candidates = name ? connectors.filter((c) => c.metadata.name === name) : connectors;
  if (candidates.length === 0) {
    fail(name ? `no KafkaConnector named ${name} (found: ${connectors.map((c) => c.metadata.name).join(", ") || "none"})` : "no KafkaConnector document found");
  }
  if (candidates.length > 1) {
    fail(`${candidates.length} KafkaConnector documents found (${candidates.map((c) => documentLabel(c)).join(", ")}); choose one with --connector`);
  }
  const connector = candidates[0]!;
  const ns = connector.metadata.namespace ?? "default";
  const topicMaps = maps.filter((m) => m.spec.kafkaConnectorRef === connector.metadata.name && (m.metadata.namespace ?? "default") === ns);
  if (topicMaps.length === 0) {
    const refs = maps.map((m) => `${m.metadata.name} -> ${m.spec.kafkaConnectorRef}`).join(", ");
    fail(`no KafkaConnectorTopicMap has kafkaConnectorRef: ${connector.metadata.name}${refs ? ` (found: ${refs})` : ""}`);
  }
  // Within one map validation reports it; here, the same name in two maps of one connector.
  const routes = connectorRoutes(topicMaps);
  const problems: ConfigProblem[] = duplicateNames(routes.map((r) => r.body.name))
    .filter(([i, , first]) => routes[i]!.map !== routes[first]!.map)
    .map(([i, name, first]) => {
      const r = routes[i]!;
      return {
        document: documentLabel(r.map),
        path: `spec.routes[${r.map.spec.routes.indexOf(r.route)}].${r.direction}.name`,
        message: `got ${JSON.stringify(name)}; also used by KafkaConnectorTopicMap/${routes[first]!.map.metadata.name}, route names must be unique per connector`,
      };
    });
  if (problems.length) throw new ConfigError(problems);
  return { connector, topicMaps };
}

export function loadConnectorConfig(paths: string[], name?: string): ConnectorConfig {
  return selectConnector(loadResources(paths), name);
}
