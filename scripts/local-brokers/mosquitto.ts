import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { CertPaths, testCerts } from './certs';
import { freePorts } from './ports';
import { BrokerProcess } from './broker-process';
import { findBinary } from './proc';

const run = promisify(execFile);

export interface MosquittoOptions {
  /** Where conf, log, password file and persistence db live. Default: a fresh temp dir. */
  dataDir?: string;
  /** Keep sessions and retained messages across restarts. Default false. */
  persistence?: boolean;
  /**
   * Adds two TLS listeners: one with username/password auth (`user`), one
   * that requires a client certificate and uses its CN as the username.
   */
  security?: { tls?: boolean };
  /** Extra lines appended to the general (pre-listener) section of the conf. */
  extraConfig?: string[];
  /**
   * Keep Mosquitto's own per-client queue limit (max_queued_messages 1000) instead of the harness's
   * million: what a broker that is not ours to tune does during a Kafka outage.
   */
  stockQueue?: boolean;
  /** Readiness bound for start() and restarts. Default 15 000. */
  startTimeoutMs?: number;
  /** SIGTERM grace period before SIGKILL in stop(). Default 10 000. */
  stopTimeoutMs?: number;
}

export interface MqttUser {
  username: string;
  password: string;
}

export interface MosquittoBroker {
  readonly host: string;
  /** Plain anonymous listener. */
  readonly port: number;
  /** "mqtt://127.0.0.1:port" */
  readonly url: string;
  /** TLS listener with username/password (`user`). */
  readonly tlsPort?: number;
  readonly tlsUrl?: string;
  /** TLS listener that requires a client certificate (CN becomes the username). */
  readonly mtlsPort?: number;
  readonly mtlsUrl?: string;
  readonly user?: MqttUser;
  /** CA, server and client cert/key; the client cert has CN=connector. */
  readonly certs?: CertPaths;
  readonly dataDir: string;
  readonly logFile: string;
  readonly running: boolean;
  /** Graceful stop (SIGTERM: persistence is saved). */
  stop(): Promise<void>;
  /** Crash (SIGKILL): only what the last autosave wrote survives. */
  kill(): Promise<void>;
  /** (Re)start on the same ports and persistence dir; resolves when ready. */
  start(): Promise<void>;
  /** Stop and delete the data dir if the harness created it. */
  dispose(): Promise<void>;
  /** Adds a user to the password-TLS listener and makes the running broker reload its password file. */
  addUser(user: MqttUser): Promise<void>;
}

const HOST = '127.0.0.1';

/** Start a mosquitto on free local ports with a generated config. */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const binary = findBinary('mosquitto');
  const ownsDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-mosquitto-'));
  fs.mkdirSync(dataDir, { recursive: true });
  const tls = opts.security?.tls ?? false;

  const [ports, certs] = await Promise.all([freePorts(tls ? 3 : 1), tls ? testCerts() : Promise.resolve(undefined)]);
  let user: MqttUser | undefined;
  if (tls) {
    user = { username: 'connector', password: randomBytes(12).toString('hex') };
    const passwd = findBinary('mosquitto_passwd', ['/usr/bin', '/usr/sbin']);
    await run(passwd, ['-c', '-b', path.join(dataDir, 'passwd'), user.username, user.password], { timeout: 10_000 });
  }
  const broker = new LocalMosquitto(opts, binary, dataDir, ownsDir, ports, user, certs);
  await broker.start();
  return broker;
}

class LocalMosquitto extends BrokerProcess implements MosquittoBroker {
  readonly host = HOST;
  readonly port: number;
  readonly url: string;
  readonly tlsPort?: number;
  readonly tlsUrl?: string;
  readonly mtlsPort?: number;
  readonly mtlsUrl?: string;
  readonly logFile: string;
  private readonly confFile: string;

  constructor(
    private readonly opts: MosquittoOptions,
    private readonly binary: string,
    dataDir: string,
    ownsDir: boolean,
    ports: number[],
    readonly user: MqttUser | undefined,
    readonly certs: CertPaths | undefined,
  ) {
    super(dataDir, ownsDir, opts.stopTimeoutMs ?? 10_000);
    this.port = ports[0];
    this.url = `mqtt://${HOST}:${this.port}`;
    if (certs) {
      this.tlsPort = ports[1];
      this.tlsUrl = `mqtts://${HOST}:${this.tlsPort}`;
      this.mtlsPort = ports[2];
      this.mtlsUrl = `mqtts://${HOST}:${this.mtlsPort}`;
    }
    this.logFile = path.join(dataDir, 'mosquitto.log');
    this.confFile = path.join(dataDir, 'mosquitto.conf');
    fs.writeFileSync(this.confFile, this.config());
  }

  async addUser(user: MqttUser): Promise<void> {
    if (!this.certs) throw new Error('addUser needs the password listener: start mosquitto with security.tls');
    const passwd = findBinary('mosquitto_passwd', ['/usr/bin', '/usr/sbin']);
    await run(passwd, ['-b', path.join(this.dataDir, 'passwd'), user.username, user.password], { timeout: 10_000 });
    this.signal('SIGHUP');
  }

  async start(): Promise<void> {
    if (this.running) return;
    const timeout = this.opts.startTimeoutMs ?? 15_000;
    await this.launch(`mosquitto on ${this.url}`, this.binary, ['-c', this.confFile], this.logFile, timeout, () => this.probe());
  }

  /** Ready means a real MQTT v5 CONNECT gets a CONNACK, not just an open port. */
  private probe(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const client = mqtt.connect(this.url, {
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 2_000,
        clientId: `harness-probe-${randomBytes(4).toString('hex')}`,
      });
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        client.end(true);
        if (err) reject(err);
        else resolve();
      };
      client.once('connect', () => finish());
      // Keep an error listener attached for good: a late socket error on an
      // unattended EventEmitter would otherwise crash the process.
      client.on('error', (err) => finish(err));
      client.once('close', () => finish(new Error('connection closed before CONNACK')));
    });
  }

  private config(): string {
    const lines = [
      '# generated by scripts/local-brokers/mosquitto.ts',
      // Auth settings differ per listener (anonymous plain vs. password TLS).
      'per_listener_settings true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'log_timestamp_format %Y-%m-%dT%H:%M:%S',
      'set_tcp_nodelay true',
    ];
    // Tests and the benchmark queue far more than the default 1000 per client.
    if (!this.opts.stockQueue) lines.push('max_queued_messages 1000000');
    // As root, mosquitto would drop to user "mosquitto", which cannot read
    // our 0700 temp dir; staying root is fine for a loopback test broker.
    if (process.getuid?.() === 0) lines.push('user root');
    if (this.opts.persistence) {
      lines.push('persistence true', `persistence_location ${this.dataDir}/`, 'autosave_interval 1');
    } else {
      lines.push('persistence false');
    }
    lines.push(...(this.opts.extraConfig ?? []));

    lines.push('', `listener ${this.port} ${HOST}`, 'allow_anonymous true');
    const c = this.certs;
    if (c && this.tlsPort && this.mtlsPort) {
      const tlsFiles = [`cafile ${c.caCert}`, `certfile ${c.serverCert}`, `keyfile ${c.serverKey}`];
      lines.push(
        '',
        `listener ${this.tlsPort} ${HOST}`,
        ...tlsFiles,
        'allow_anonymous false',
        `password_file ${path.join(this.dataDir, 'passwd')}`,
        '',
        `listener ${this.mtlsPort} ${HOST}`,
        ...tlsFiles,
        'require_certificate true',
        'use_identity_as_username true',
        'allow_anonymous false',
      );
    }
    return lines.join('\n') + '\n';
  }
}
