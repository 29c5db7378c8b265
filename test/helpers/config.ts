// The one way tests write a connector configuration: typed objects (the schema's input types, so a
// misspelt field does not compile) rendered to YAML by the `yaml` package, plus the files and
// secrets directories the connector reads them from.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { API_VERSION_FULL, type KafkaConnectorSpecInput, type KafkaConnectorTopicMapSpecInput } from "../../connector/config/schema";

export type ConnectorSpec = KafkaConnectorSpecInput;
/** A topic map's spec; kafkaConnectorRef defaults to the connector's name. */
export type MapSpec = Omit<KafkaConnectorTopicMapSpecInput, "kafkaConnectorRef"> & { kafkaConnectorRef?: string };
export type RouteSpec = KafkaConnectorTopicMapSpecInput["routes"][number];
export type MqttToKafkaSpec = NonNullable<RouteSpec["mqttToKafka"]>;
export type KafkaToMqttSpec = NonNullable<RouteSpec["kafkaToMqtt"]>;

export interface TestMap {
  /** Default `<connector name>-map` (then `-map-2`, `-map-3`, ...). */
  name?: string;
  spec: MapSpec;
}

export interface TestConfigOptions {
  /** The KafkaConnector's name (default "itest"). */
  name?: string;
  /**
   * Spec fields over the defaults `image: {}`, `instances: 1`, `logLevel: warn` (shallow: a given
   * field replaces the default's whole value). kafkaConnection has no default; plainConnections() gives one.
   */
  connector: Partial<ConnectorSpec> & Pick<ConnectorSpec, "kafkaConnection">;
  maps?: TestMap[];
}

export interface TestConfig {
  name: string;
  /** The KafkaConnector document as YAML. */
  connectorYaml: string;
  /** One YAML document per topic map, in order. */
  mapYamls: string[];
  /** Every document, `---`-separated: what goes into one config file. */
  text: string;
}

const render = (doc: unknown): string => stringify(doc, { lineWidth: 0 });

/** A KafkaConnector and its topic maps as YAML documents. */
export function testConfig(o: TestConfigOptions): TestConfig {
  const name = o.name ?? "itest";
  const spec: ConnectorSpec = { image: {}, instances: 1, logLevel: "warn", ...o.connector };
  const connectorYaml = render({ apiVersion: API_VERSION_FULL, kind: "KafkaConnector", metadata: { name }, spec });
  const mapYamls = (o.maps ?? []).map((m, i) =>
    render({
      apiVersion: API_VERSION_FULL,
      kind: "KafkaConnectorTopicMap",
      metadata: { name: m.name ?? `${name}-map${i === 0 ? "" : `-${i + 1}`}` },
      spec: { kafkaConnectorRef: name, ...m.spec },
    }),
  );
  return { name, connectorYaml, mapYamls, text: [connectorYaml, ...mapYamls].join("---\n") };
}

/** A topic map of one mqttToKafka route; `map` sets the map's other fields. */
export function mqttToKafkaMap(route: MqttToKafkaSpec, map: Omit<Partial<MapSpec>, "routes"> = {}): MapSpec {
  return { ...map, routes: [{ mqttToKafka: route }] };
}

/** A topic map of one kafkaToMqtt route; `map` sets the map's other fields. */
export function kafkaToMqttMap(route: KafkaToMqttSpec, map: Omit<Partial<MapSpec>, "routes"> = {}): MapSpec {
  return { ...map, routes: [{ kafkaToMqtt: route }] };
}

/** Connections without TLS or authentication to a Kafka bootstrap and an MQTT broker URL (its port on 127.0.0.1). */
export function plainConnections(kafkaBootstrap: string, mqttUrl: string): Pick<ConnectorSpec, "kafkaConnection" | "localBrokerConnection"> {
  return {
    kafkaConnection: { endpoint: kafkaBootstrap, tls: { tlsEnabled: false } },
    localBrokerConnection: { endpoint: `127.0.0.1:${new URL(mqttUrl).port}`, tls: { tlsEnabled: false } },
  };
}

/** Writes `files` (name -> text) into `dir` (created; default a new temporary directory) and returns the directory. */
export function writeConfigDir(files: Record<string, string>, dir = mkdtempSync(join(tmpdir(), "mkc-config-"))): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Lays out a Kubernetes-style secrets dir, `<dir>/<name>/<key>` (default a new temporary directory). */
export function secretsDir(entries: Record<string, Record<string, string | Buffer>>, dir = mkdtempSync(join(tmpdir(), "mkc-secrets-"))): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, keys] of Object.entries(entries)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (const [k, v] of Object.entries(keys)) writeFileSync(join(dir, name, k), v);
  }
  return dir;
}
