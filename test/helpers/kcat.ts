// Kafka wire peer built on kcat (librdkafka), independent of the kafkajs
// client the connector uses, so a test cannot pass by sharing a bug.
import type { KafkaBroker } from '../../scripts/local-brokers';
import { latin1ToBuffer, latin1ToUtf8, runBounded } from './spawn';

export interface KcatRecord {
  topic: string;
  partition: number;
  offset: number;
  /** Record timestamp (ms) and whether the producer or the broker set it. */
  timestamp: number;
  timestampType: string;
  /** UTF-8 decoded key; null for a null key. */
  key: string | null;
  /** UTF-8 decoded value; null for a tombstone. */
  value: string | null;
  keyBytes: Buffer | null;
  valueBytes: Buffer | null;
  /** In wire order, duplicates kept. */
  headers: [string, string][];
}

export interface KcatConnection {
  bootstrap: string;
  /** librdkafka properties passed as `-X k=v` (security etc.). */
  config?: Record<string, string>;
}

export type KafkaSecurityMode = 'sasl-plain' | 'scram-sha-256' | 'scram-sha-512' | 'ssl';

/** Bootstrap + librdkafka settings for one of the harness's secured listeners. */
export function kcatSecured(kafka: KafkaBroker, mode: KafkaSecurityMode): KcatConnection {
  if (mode === 'ssl') {
    if (!kafka.sslBootstrap || !kafka.certs) throw new Error('Kafka was started without security.ssl');
    return {
      bootstrap: kafka.sslBootstrap,
      config: {
        'security.protocol': 'SSL',
        'ssl.ca.location': kafka.certs.caCert,
        'ssl.certificate.location': kafka.certs.clientCert,
        'ssl.key.location': kafka.certs.clientKey,
      },
    };
  }
  if (!kafka.saslBootstrap || !kafka.saslUser) throw new Error('Kafka was started without security.sasl');
  const mechanism = mode === 'sasl-plain' ? 'PLAIN' : mode.toUpperCase();
  return {
    bootstrap: kafka.saslBootstrap,
    config: {
      'security.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanism': mechanism,
      'sasl.username': kafka.saslUser.username,
      'sasl.password': kafka.saslUser.password,
    },
  };
}

export interface KcatConsumeOptions {
  /** Stop after this many records. */
  count: number;
  timeoutMs: number;
  /** Default 'beginning'. A number is an absolute offset. */
  offset?: 'beginning' | 'end' | number;
  /** Only this partition (default: all). */
  partition?: number;
  /** Return as soon as the end of every partition is reached (`-e`). */
  exitAtEnd?: boolean;
  /** Resolve with fewer than `count` records instead of rejecting. */
  allowFewer?: boolean;
  config?: Record<string, string>;
}

const toConn = (target: string | KcatConnection): KcatConnection =>
  typeof target === 'string' ? { bootstrap: target } : target;

const xArgs = (config: Record<string, string> = {}): string[] =>
  Object.entries(config).flatMap(([k, v]) => ['-X', `${k}=${v}`]);

interface KcatJson {
  topic: string;
  partition: number;
  offset: number;
  tstype: string;
  ts: number;
  headers?: string[];
  key: string | null;
  payload: string | null;
}

/**
 * Read records with `kcat -C -J`. kcat writes key/payload bytes >= 0x80 raw
 * and escapes the rest, so each line is decoded as latin1 to get exact bytes.
 */
export async function kcatConsume(
  target: string | KcatConnection,
  topic: string,
  opts: KcatConsumeOptions,
): Promise<KcatRecord[]> {
  const conn = toConn(target);
  const args = ['-C', '-b', conn.bootstrap, '-t', topic, '-J', '-u', '-q', '-Z', '-c', String(opts.count)];
  args.push('-o', String(opts.offset ?? 'beginning'));
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  if (opts.exitAtEnd) args.push('-e');
  args.push(...xArgs({ ...conn.config, ...opts.config }));

  const res = await runBounded('kcat', args, { timeoutMs: opts.timeoutMs }).done;
  const records = res.stdout
    .toString('latin1')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => toRecord(JSON.parse(l) as KcatJson));
  const short = records.length < opts.count && !opts.allowFewer;
  if (short || (!res.timedOut && res.code !== 0 && !opts.allowFewer)) {
    throw new Error(
      `kcatConsume ${topic}: got ${records.length}/${opts.count} records` +
        `${res.timedOut ? ` within ${opts.timeoutMs} ms` : ` (exit ${res.code})`}: ${res.stderr.trim()}`,
    );
  }
  return records;
}

function toRecord(j: KcatJson): KcatRecord {
  const keyBytes = j.key === null ? null : latin1ToBuffer(j.key);
  const valueBytes = j.payload === null ? null : latin1ToBuffer(j.payload);
  const headers: [string, string][] = [];
  const h = j.headers ?? [];
  for (let i = 0; i + 1 < h.length; i += 2) headers.push([latin1ToUtf8(h[i]), latin1ToUtf8(h[i + 1])]);
  return {
    topic: latin1ToUtf8(j.topic),
    partition: j.partition,
    offset: j.offset,
    timestamp: j.ts,
    timestampType: j.tstype,
    key: keyBytes && keyBytes.toString('utf8'),
    value: valueBytes && valueBytes.toString('utf8'),
    keyBytes,
    valueBytes,
    headers,
  };
}

export interface KcatProduceRecord {
  key?: string | Buffer;
  /** null produces a tombstone. */
  value: string | Buffer | null;
  headers?: [string, string][] | Record<string, string>;
  partition?: number;
}

export interface KcatProduceOptions {
  /** Default 30 000. */
  timeoutMs?: number;
  config?: Record<string, string>;
}

// Unit/record separators: unlikely in test data, and rejected if present.
const KEY_DELIM = 0x1f;
const MSG_DELIM = 0x1e;

/**
 * Produce records with `kcat -P`, in order. kcat applies -p and -H to a whole
 * run, so consecutive records sharing partition and headers go in one run.
 * Rejects if any delivery fails (e.g. unknown topic: auto-create is off).
 */
export async function kcatProduce(
  target: string | KcatConnection,
  topic: string,
  records: KcatProduceRecord[],
  opts: KcatProduceOptions = {},
): Promise<void> {
  const conn = toConn(target);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  // -Z (empty value => null) would also turn '' into null, so tombstones get
  // runs of their own.
  type Group = { partition?: number; headers: [string, string][]; tombstones: boolean; records: KcatProduceRecord[] };
  const groups: Group[] = [];
  for (const r of records) {
    const headers = Array.isArray(r.headers) ? r.headers : Object.entries(r.headers ?? {});
    const tombstones = r.value === null;
    const last = groups[groups.length - 1];
    if (
      last &&
      last.partition === r.partition &&
      last.tombstones === tombstones &&
      JSON.stringify(last.headers) === JSON.stringify(headers)
    ) {
      last.records.push(r);
    } else {
      groups.push({ partition: r.partition, headers, tombstones, records: [r] });
    }
  }
  for (const g of groups) {
    const args = ['-P', '-b', conn.bootstrap, '-t', topic, '-K', '\\x1f', '-D', '\\x1e'];
    if (g.tombstones) args.push('-Z');
    if (g.partition !== undefined) args.push('-p', String(g.partition));
    for (const [k, v] of g.headers) {
      if (k.includes('=')) throw new Error(`kcatProduce: header name with '=' is not supported: ${k}`);
      args.push('-H', `${k}=${v}`);
    }
    // Fail deliveries well before our own kill timer so the error is kcat's.
    const config = { 'message.timeout.ms': String(Math.max(1_000, timeoutMs - 3_000)), ...conn.config, ...opts.config };
    args.push(...xArgs(config));
    const res = await runBounded('kcat', args, { timeoutMs, input: encodeRecords(g.records) }).done;
    if (res.code !== 0 || res.timedOut || /Delivery failed|ERROR/.test(res.stderr)) {
      throw new Error(`kcatProduce ${topic}: exit ${res.code}${res.timedOut ? ' (timed out)' : ''}: ${res.stderr.trim()}`);
    }
  }
}

function encodeRecords(records: KcatProduceRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const r of records) {
    const value = r.value === null ? Buffer.alloc(0) : Buffer.from(r.value);
    const key = r.key === undefined ? undefined : Buffer.from(r.key);
    for (const b of [value, key ?? Buffer.alloc(0)]) {
      if (b.includes(KEY_DELIM) || b.includes(MSG_DELIM)) {
        throw new Error('kcatProduce: key/value must not contain bytes 0x1e or 0x1f');
      }
    }
    if (key === undefined && value.length === 0) {
      // An empty line is skipped by kcat, so it would silently vanish.
      throw new Error('kcatProduce: a record with neither key nor value cannot be sent with kcat');
    }
    // No key delimiter at all means a null key.
    const rec = key === undefined ? value : Buffer.concat([key, Buffer.from([KEY_DELIM]), value]);
    parts.push(rec, Buffer.from([MSG_DELIM]));
  }
  return Buffer.concat(parts);
}
