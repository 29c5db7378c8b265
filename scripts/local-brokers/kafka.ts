import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, ITopicConfig } from 'kafkajs';
import { CertPaths, testCerts } from './certs';
import { kafkaLibsDir } from './kafka-dist';
import { freePorts } from './ports';
import { BrokerProcess } from './broker-process';
import { ManagedProcess, tailFile } from './proc';

export interface KafkaOptions {
  /** Where logs, config and the log dirs live. Default: a fresh temp dir. */
  dataDir?: string;
  /** JVM max heap. Default 512. */
  heapMb?: number;
  /** `num.partitions` for topics created without an explicit count. Default 1. */
  defaultPartitions?: number;
  /** Extra listeners: SASL_PLAINTEXT (PLAIN, SCRAM-SHA-256/512) and mTLS SSL. */
  security?: { sasl?: boolean; ssl?: boolean };
  /** Extra or overriding server.properties entries. */
  serverProperties?: Record<string, string | number | boolean>;
  /** Extra JVM flags, appended after the defaults. */
  jvmArgs?: string[];
  /** Readiness bound for start() and restarts. Default 60 000. */
  startTimeoutMs?: number;
  /** SIGTERM grace period before SIGKILL in stop(). Default 30 000. */
  stopTimeoutMs?: number;
}

export interface SaslUser {
  username: string;
  password: string;
}

export interface KafkaBroker {
  /** Plaintext listener, "127.0.0.1:port". */
  readonly bootstrap: string;
  /** SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). */
  readonly saslBootstrap?: string;
  /** SSL listener that requires a client certificate (see `certs`). */
  readonly sslBootstrap?: string;
  readonly saslUser?: SaslUser;
  /** CA and client cert/key for the SSL listener. */
  readonly certs?: CertPaths;
  readonly dataDir: string;
  /** Broker stdout/stderr and log4j output (WARN and up). */
  readonly logFile: string;
  readonly running: boolean;
  /** Graceful stop: SIGTERM, then SIGKILL after stopTimeoutMs. Data is kept. */
  stop(): Promise<void>;
  /** Crash: SIGKILL. Data is kept. */
  kill(): Promise<void>;
  /** (Re)start on the same ports and data dir; resolves when ready. */
  start(): Promise<void>;
  /** Stop and delete the data dir if the harness created it. */
  dispose(): Promise<void>;
  createTopic(name: string, partitions?: number, configs?: Record<string, string>): Promise<void>;
}

interface Ports {
  plain: number;
  controller: number;
  sasl?: number;
  ssl?: number;
}

const HOST = '127.0.0.1';

/** Start a single-node KRaft Kafka (broker+controller) on free local ports. */
export async function startKafka(opts: KafkaOptions = {}): Promise<KafkaBroker> {
  const ownsDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-kafka-'));
  fs.mkdirSync(dataDir, { recursive: true });
  const sasl = opts.security?.sasl ?? false;
  const ssl = opts.security?.ssl ?? false;

  const [libs, certs, portList] = await Promise.all([
    kafkaLibsDir(),
    ssl ? testCerts() : Promise.resolve(undefined),
    freePorts(2 + (sasl ? 1 : 0) + (ssl ? 1 : 0)),
  ]);
  const ports: Ports = { plain: portList[0], controller: portList[1] };
  let next = 2;
  if (sasl) ports.sasl = portList[next++];
  if (ssl) ports.ssl = portList[next++];

  const broker = new LocalKafka(opts, dataDir, ownsDir, libs, ports, sasl ? saslUserFor(dataDir) : undefined, certs);
  await broker.start();
  return broker;
}

// Reuse the credentials if dataDir was formatted by an earlier run, since
// SCRAM credentials are baked into the metadata log at format time.
function saslUserFor(dataDir: string): SaslUser {
  const file = path.join(dataDir, 'sasl-user.json');
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as SaslUser;
  const user = { username: 'connector', password: randomBytes(12).toString('hex') };
  fs.writeFileSync(file, JSON.stringify(user), { mode: 0o600 });
  return user;
}

class LocalKafka extends BrokerProcess implements KafkaBroker {
  readonly bootstrap: string;
  readonly saslBootstrap?: string;
  readonly sslBootstrap?: string;
  readonly logFile: string;
  private readonly configFile: string;
  private readonly log4jFile: string;
  private readonly logDirs: string;

  constructor(
    private readonly opts: KafkaOptions,
    dataDir: string,
    ownsDir: boolean,
    private readonly libs: string,
    private readonly ports: Ports,
    readonly saslUser: SaslUser | undefined,
    readonly certs: CertPaths | undefined,
  ) {
    super(dataDir, ownsDir, opts.stopTimeoutMs ?? 30_000);
    this.bootstrap = `${HOST}:${ports.plain}`;
    if (ports.sasl) this.saslBootstrap = `${HOST}:${ports.sasl}`;
    if (ports.ssl) this.sslBootstrap = `${HOST}:${ports.ssl}`;
    this.logFile = path.join(dataDir, 'kafka.log');
    this.configFile = path.join(dataDir, 'server.properties');
    this.log4jFile = path.join(dataDir, 'log4j.properties');
    this.logDirs = path.join(dataDir, 'kraft-logs');
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.writeConfig();
    if (!fs.existsSync(path.join(this.logDirs, 'meta.properties'))) await this.format();
    const heap = this.opts.heapMb ?? 512;
    const args = [
      `-Xmx${heap}m`,
      `-Xms${Math.min(heap, 128)}m`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${this.log4jFile}`,
      ...(this.opts.jvmArgs ?? []),
      '-cp',
      path.join(this.libs, '*'),
      'kafka.Kafka',
      this.configFile,
    ];
    await this.launch(`Kafka on ${this.bootstrap}`, 'java', args, this.logFile, this.opts.startTimeoutMs ?? 60_000, () =>
      this.probe(),
    );
  }

  async createTopic(name: string, partitions = 1, configs: Record<string, string> = {}): Promise<void> {
    const admin = this.client(10_000).admin();
    await admin.connect();
    try {
      const topic: ITopicConfig = {
        topic: name,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
      };
      await admin.createTopics({ topics: [topic], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
  }

  private client(requestTimeout: number): Kafka {
    return new Kafka({
      clientId: 'local-brokers-harness',
      brokers: [this.bootstrap],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2_000,
      requestTimeout,
      retry: { retries: 2, initialRetryTime: 200 },
    });
  }

  private async probe(): Promise<void> {
    const admin = new Kafka({
      clientId: 'local-brokers-probe',
      brokers: [this.bootstrap],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      requestTimeout: 3_000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      await admin.listTopics();
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async format(): Promise<void> {
    // A KRaft cluster id is a Uuid rendered as 22 chars of unpadded base64url;
    // generating it here saves a JVM start for `StorageTool random-uuid`. One in 64 starts with '-',
    // which StorageTool's argument parser reads as an option (a start-up failure seen in the bench).
    let clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
    const args = [
      '-Xmx256m',
      `-Dlog4j.configuration=file:${this.log4jFile}`,
      '-cp',
      path.join(this.libs, '*'),
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      this.configFile,
    ];
    if (this.saslUser) {
      const { username, password } = this.saslUser;
      for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
        args.push('--add-scram', `${mech}=[name=${username},password=${password}]`);
      }
    }
    const proc = new ManagedProcess('java', args, this.logFile);
    let timer: NodeJS.Timeout | undefined;
    const info = await Promise.race([
      proc.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          void proc.kill();
          reject(new Error(`kafka StorageTool format timed out; see ${this.logFile}`));
        }, 60_000);
      }),
    ]).finally(() => clearTimeout(timer));
    if (info.code !== 0) {
      throw new Error(`kafka StorageTool format failed (exit ${info.code}); log ${this.logFile}:\n${tailFile(this.logFile)}`);
    }
  }

  private writeConfig(): void {
    const p = this.ports;
    const listeners = [`PLAINTEXT://${HOST}:${p.plain}`];
    const advertised = [`PLAINTEXT://${HOST}:${p.plain}`];
    const protocolMap = ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT'];
    const props: Record<string, string | number | boolean> = {
      'process.roles': 'broker,controller',
      'node.id': 1,
      'controller.quorum.voters': `1@${HOST}:${p.controller}`,
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'log.dirs': this.logDirs,
      'num.partitions': this.opts.defaultPartitions ?? 1,
      'auto.create.topics.enable': false,
      'offsets.topic.replication.factor': 1,
      // Fewer internal partitions: the first consumer group / transaction
      // comes up noticeably faster on a small machine.
      'offsets.topic.num.partitions': 10,
      'transaction.state.log.replication.factor': 1,
      'transaction.state.log.min.isr': 1,
      'transaction.state.log.num.partitions': 4,
      'group.initial.rebalance.delay.ms': 0,
      // After a SIGKILL the restarted controller refuses the broker's new
      // registration until the old session expires (default 9 s); a short
      // session makes kill()+start() take ~4 s instead of ~14 s.
      'broker.session.timeout.ms': 3000,
      'broker.heartbeat.interval.ms': 500,
    };
    if (p.sasl) {
      listeners.push(`SASL_PLAINTEXT://${HOST}:${p.sasl}`);
      advertised.push(`SASL_PLAINTEXT://${HOST}:${p.sasl}`);
      protocolMap.push('SASL_PLAINTEXT:SASL_PLAINTEXT');
      const u = this.saslUser as SaslUser;
      const l = 'listener.name.sasl_plaintext';
      props['sasl.enabled.mechanisms'] = 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512';
      props[`${l}.plain.sasl.jaas.config`] =
        `org.apache.kafka.common.security.plain.PlainLoginModule required user_${u.username}="${u.password}";`;
      props[`${l}.scram-sha-256.sasl.jaas.config`] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
      props[`${l}.scram-sha-512.sasl.jaas.config`] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
    }
    if (p.ssl) {
      const c = this.certs as CertPaths;
      listeners.push(`SSL://${HOST}:${p.ssl}`);
      advertised.push(`SSL://${HOST}:${p.ssl}`);
      protocolMap.push('SSL:SSL');
      const l = 'listener.name.ssl';
      // PEM stores avoid a keytool step; the key must be unencrypted PKCS#8.
      props[`${l}.ssl.keystore.type`] = 'PEM';
      props[`${l}.ssl.keystore.location`] = this.serverPem(c);
      props[`${l}.ssl.truststore.type`] = 'PEM';
      props[`${l}.ssl.truststore.location`] = c.caCert;
      props[`${l}.ssl.client.auth`] = 'required';
    }
    listeners.push(`CONTROLLER://${HOST}:${p.controller}`);
    props.listeners = listeners.join(',');
    props['advertised.listeners'] = advertised.join(',');
    props['listener.security.protocol.map'] = protocolMap.join(',');
    Object.assign(props, this.opts.serverProperties ?? {});

    // Escape backslashes: Java properties files treat them as escapes.
    const body = Object.entries(props)
      .map(([k, v]) => `${k}=${String(v).replace(/\\/g, '\\\\')}`)
      .join('\n');
    fs.writeFileSync(this.configFile, `# generated by scripts/local-brokers/kafka.ts\n${body}\n`);
    fs.writeFileSync(
      this.log4jFile,
      [
        'log4j.rootLogger=WARN, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        // One INFO line worth having: "[KafkaRaftServer nodeId=1] Kafka Server started".
        'log4j.logger.kafka.server.KafkaRaftServer=INFO',
        '',
      ].join('\n'),
    );
  }

  /** Kafka's file-based PEM key store wants key and cert chain in one file. */
  private serverPem(c: CertPaths): string {
    const file = path.join(this.dataDir, 'server-keystore.pem');
    fs.writeFileSync(file, fs.readFileSync(c.serverKey, 'utf8') + fs.readFileSync(c.serverCert, 'utf8'), {
      mode: 0o600,
    });
    return file;
  }
}
