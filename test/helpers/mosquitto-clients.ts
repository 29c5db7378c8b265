// MQTT wire peer built on mosquitto_pub / mosquitto_sub (libmosquitto),
// independent of the mqtt.js client the connector uses.
import { latin1ToUtf8, runBounded } from './spawn';

/** "mqtt://host:port" or anything with host and port (e.g. a MosquittoBroker). */
export type MqttTarget = string | { host: string; port: number };

export interface MqttCliAuth {
  username?: string;
  password?: string;
  /** CA file: enables TLS. */
  cafile?: string;
  /** Client certificate and key for mTLS. */
  cert?: string;
  key?: string;
}

export interface MqttWireMessage {
  topic: string;
  payload: Buffer;
  /** payload decoded as UTF-8 */
  text: string;
  qos: number;
  retain: boolean;
  /** In wire order, duplicates kept. */
  userProperties: [string, string][];
  contentType?: string;
  responseTopic?: string;
  correlationData?: string;
  payloadFormatIndicator?: number;
  messageExpiryInterval?: number;
  /** Everything mosquitto_sub put under "properties" (duplicate user-property keys collapsed). */
  properties: Record<string, unknown>;
}

function hostPort(target: MqttTarget): { host: string; port: number } {
  if (typeof target !== 'string') return target;
  const u = new URL(target);
  return { host: u.hostname, port: Number(u.port || (u.protocol === 'mqtts:' ? 8883 : 1883)) };
}

function authArgs(auth: MqttCliAuth = {}): string[] {
  const a: string[] = [];
  if (auth.username !== undefined) a.push('-u', auth.username);
  if (auth.password !== undefined) a.push('-P', auth.password);
  if (auth.cafile) a.push('--cafile', auth.cafile);
  if (auth.cert) a.push('--cert', auth.cert);
  if (auth.key) a.push('--key', auth.key);
  return a;
}

export interface MosquittoSubOptions {
  /** Exit after this many messages. */
  count: number;
  timeoutMs: number;
  /** Subscription QoS. Default 1. */
  qos?: 0 | 1 | 2;
  /** Resolve with fewer than `count` messages instead of rejecting. */
  allowFewer?: boolean;
  /** Ignore retained messages (-R). */
  noRetained?: boolean;
  clientId?: string;
  auth?: MqttCliAuth;
}

export interface MosquittoSubscription {
  /** Resolves once the broker acknowledged the subscription (SUBACK). */
  ready: Promise<void>;
  /** Resolves with the messages once `count` arrived (or at the timeout with allowFewer). */
  done: Promise<MqttWireMessage[]>;
  stop(): void;
}

// Each message is one line: a marker, mosquitto's JSON (%j: topic, qos,
// retain, v5 properties) and the payload as hex (%x), since %j writes
// non-UTF-8 payloads raw and cuts them at the first NUL byte.
const MARK = 'MSG\t';
const FORMAT = `${MARK}%j\t%x`;

/**
 * Subscribe with `mosquitto_sub -V mqttv5`. Await `ready` before publishing,
 * or early messages are missed (retained ones excepted).
 */
export function mosquittoSub(target: MqttTarget, topic: string | string[], opts: MosquittoSubOptions): MosquittoSubscription {
  const { host, port } = hostPort(target);
  const args = ['-d', '-V', 'mqttv5', '-h', host, '-p', String(port), '-q', String(opts.qos ?? 1)];
  for (const t of Array.isArray(topic) ? topic : [topic]) args.push('-t', t);
  args.push('-C', String(opts.count), '-W', String(Math.max(1, Math.ceil(opts.timeoutMs / 1000))), '-F', FORMAT);
  if (opts.noRetained) args.push('-R');
  if (opts.clientId) args.push('-i', opts.clientId);
  args.push(...authArgs(opts.auth));

  const messages: MqttWireMessage[] = [];
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  // mosquitto_sub block-buffers stdout into a pipe, which would hide the
  // SUBACK line until exit; stdbuf (coreutils) makes it line-buffered.
  // -W is mosquitto_sub's own bound; ours only catches a hung process.
  const running = runBounded('stdbuf', ['-oL', 'mosquitto_sub', ...args], {
    timeoutMs: opts.timeoutMs + 3_000,
    onLine: (line) => {
      const s = line.toString('latin1');
      if (s.startsWith(MARK)) messages.push(parseLine(s.slice(MARK.length)));
      else if (/ received SUBACK$/.test(s)) onReady();
    },
  });
  const done = running.done.then((res) => {
    const short = messages.length < opts.count;
    if (short && !opts.allowFewer) {
      const stderr = res.stderr.trim();
      throw new Error(
        `mosquittoSub ${String(topic)}: got ${messages.length}/${opts.count} messages within ${opts.timeoutMs} ms` +
          ` (exit ${res.code}${stderr ? `: ${stderr}` : ''})`,
      );
    }
    return messages;
  });
  const readyOrFail = Promise.race([
    ready,
    done.then(
      () => undefined, // finished (e.g. only retained messages wanted) before SUBACK was seen
      (err: unknown) => {
        throw err;
      },
    ),
  ]);
  done.catch(() => undefined); // surfaced to whoever awaits it; avoid unhandled rejections
  readyOrFail.catch(() => undefined);
  return { ready: readyOrFail, done, stop: () => running.child.kill('SIGTERM') };
}

interface SubJson {
  topic: string;
  qos: number;
  retain: number;
  properties?: Record<string, unknown>;
}

function parseLine(s: string): MqttWireMessage {
  const tab = s.lastIndexOf('\t');
  const json = s.slice(0, tab);
  const payload = Buffer.from(s.slice(tab + 1), 'hex');
  const j = JSON.parse(json) as SubJson;
  const props = decodeStrings(j.properties ?? {}) as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof props[k] === 'string' ? (props[k] as string) : undefined);
  const num = (k: string): number | undefined => (typeof props[k] === 'number' ? (props[k] as number) : undefined);
  return {
    topic: latin1ToUtf8(j.topic),
    payload,
    text: payload.toString('utf8'),
    qos: j.qos,
    retain: j.retain === 1,
    userProperties: userProperties(json),
    contentType: str('content-type'),
    responseTopic: str('response-topic'),
    correlationData: str('correlation-data'),
    payloadFormatIndicator: num('payload-format-indicator'),
    messageExpiryInterval: num('message-expiry-interval'),
    properties: props,
  };
}

function decodeStrings(v: unknown): unknown {
  if (typeof v === 'string') return latin1ToUtf8(v);
  if (Array.isArray(v)) return v.map(decodeStrings);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [latin1ToUtf8(k), decodeStrings(x)]));
  }
  return v;
}

/**
 * mosquitto prints user properties as a JSON object, repeating keys that
 * occur more than once; JSON.parse would keep only the last, so scan it.
 */
function userProperties(json: string): [string, string][] {
  const start = json.indexOf('"user-properties":{');
  if (start < 0) return [];
  const tokens: string[] = [];
  const re = /\s*[,:]?\s*("(?:[^"\\]|\\.)*")/y;
  re.lastIndex = start + '"user-properties":{'.length;
  for (let m = re.exec(json); m; m = re.exec(json)) tokens.push(latin1ToUtf8(JSON.parse(m[1]) as string));
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < tokens.length; i += 2) pairs.push([tokens[i], tokens[i + 1]]);
  return pairs;
}

export interface MosquittoPubOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
  userProps?: [string, string][];
  contentType?: string;
  responseTopic?: string;
  correlationData?: string;
  payloadFormatIndicator?: 0 | 1;
  messageExpiryInterval?: number;
  clientId?: string;
  auth?: MqttCliAuth;
  /** Default 10 000. */
  timeoutMs?: number;
}

/** Publish one message with `mosquitto_pub -V mqttv5`; payload goes via stdin, so any bytes work. */
export async function mosquittoPub(
  target: MqttTarget,
  topic: string,
  message: string | Buffer,
  opts: MosquittoPubOptions = {},
): Promise<void> {
  const { host, port } = hostPort(target);
  const args = ['-V', 'mqttv5', '-h', host, '-p', String(port), '-t', topic, '-q', String(opts.qos ?? 1)];
  const payload = Buffer.from(message);
  // -s reads the whole of stdin as one message; -n sends a zero-length one.
  args.push(payload.length === 0 ? '-n' : '-s');
  if (opts.retain) args.push('-r');
  if (opts.clientId) args.push('-i', opts.clientId);
  const prop = (name: string, ...values: string[]): void => {
    args.push('-D', 'publish', name, ...values);
  };
  for (const [k, v] of opts.userProps ?? []) prop('user-property', k, v);
  if (opts.contentType !== undefined) prop('content-type', opts.contentType);
  if (opts.responseTopic !== undefined) prop('response-topic', opts.responseTopic);
  if (opts.correlationData !== undefined) prop('correlation-data', opts.correlationData);
  if (opts.payloadFormatIndicator !== undefined) prop('payload-format-indicator', String(opts.payloadFormatIndicator));
  if (opts.messageExpiryInterval !== undefined) prop('message-expiry-interval', String(opts.messageExpiryInterval));
  args.push(...authArgs(opts.auth));

  const timeoutMs = opts.timeoutMs ?? 10_000;
  const res = await runBounded('mosquitto_pub', args, { timeoutMs, input: payload }).done;
  if (res.code !== 0 || res.timedOut) {
    throw new Error(`mosquittoPub ${topic}: exit ${res.code}${res.timedOut ? ' (timed out)' : ''}: ${res.stderr.trim()}`);
  }
}
