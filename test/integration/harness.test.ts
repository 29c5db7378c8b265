// Proves the local-broker harness and the CLI wire peers work, independent of
// the connector: if these fail, connector integration failures mean nothing.
import assert from 'node:assert/strict';
import { startMosquitto, MosquittoBroker } from '../../scripts/local-brokers';
import {
  kcatConsume,
  kcatProduce,
  kcatSecured,
  mosquittoPub,
  mosquittoSub,
  sharedBrokersFixture,
  uniqueName,
} from '../helpers/brokers';

describe('local broker harness', function () {
  const b = sharedBrokersFixture();

  it('kcat round-trips a keyed record with headers through a created topic', async () => {
    const topic = uniqueName('harness-kcat');
    await b.kafka.createTopic(topic, 3);
    await kcatProduce(b.kafka.bootstrap, topic, [
      { key: 'device-1', value: 'héllo\nworld', headers: [['h1', 'v1'], ['h1', 'v2']], partition: 2 },
      { key: Buffer.from([0, 0xff]), value: Buffer.from([1, 0x80, 0xfe]), partition: 2 },
      { key: 'gone', value: null, partition: 2 },
    ]);
    const recs = await kcatConsume(b.kafka.bootstrap, topic, { count: 3, timeoutMs: 15_000 });
    assert.equal(recs.length, 3);
    assert.equal(recs[0].partition, 2);
    assert.equal(recs[0].key, 'device-1');
    assert.equal(recs[0].value, 'héllo\nworld');
    assert.deepEqual(recs[0].headers, [['h1', 'v1'], ['h1', 'v2']]);
    assert.deepEqual(recs[1].keyBytes, Buffer.from([0, 0xff]));
    assert.deepEqual(recs[1].valueBytes, Buffer.from([1, 0x80, 0xfe]));
    assert.deepEqual(recs[1].headers, []);
    assert.equal(recs[2].key, 'gone');
    assert.equal(recs[2].value, null);
  });

  it('kcatProduce fails on a missing topic (auto-create is off)', async () => {
    await assert.rejects(
      kcatProduce(b.kafka.bootstrap, uniqueName('harness-missing'), [{ value: 'x' }], { timeoutMs: 4_000 }),
      /kcatProduce/,
    );
  });

  it('mosquitto_sub sees a mosquitto_pub message with v5 properties', async () => {
    const topic = `${uniqueName('harness')}/a`;
    const sub = mosquittoSub(b.mqtt, topic, { count: 2, timeoutMs: 10_000 });
    await sub.ready;
    await mosquittoPub(b.mqtt, topic, 'hi', {
      qos: 1,
      userProps: [['k', 'v1'], ['k', 'v 2'], ['ü', 'ß']],
      contentType: 'text/plain',
    });
    await mosquittoPub(b.mqtt, topic, Buffer.from([0xff, 0x00, 0x01]), { qos: 0 });
    const [m1, m2] = await sub.done;
    assert.equal(m1.topic, topic);
    assert.equal(m1.text, 'hi');
    assert.equal(m1.qos, 1);
    assert.deepEqual(m1.userProperties, [['k', 'v1'], ['k', 'v 2'], ['ü', 'ß']]);
    assert.equal(m1.contentType, 'text/plain');
    assert.deepEqual(m2.payload, Buffer.from([0xff, 0x00, 0x01]));
  });

  it('secured listeners accept the test credentials', async () => {
    const topic = uniqueName('harness-sec');
    await b.kafka.createTopic(topic, 1);
    await kcatProduce(kcatSecured(b.kafka, 'scram-sha-512'), topic, [{ key: 'k', value: 'scram' }]);
    await kcatProduce(kcatSecured(b.kafka, 'sasl-plain'), topic, [{ key: 'k', value: 'plain' }]);
    const viaSsl = await kcatConsume(kcatSecured(b.kafka, 'ssl'), topic, { count: 2, timeoutMs: 15_000 });
    assert.deepEqual(viaSsl.map((r) => r.value), ['scram', 'plain']);

    const { mqtt } = b;
    const certs = mqtt.certs;
    assert.ok(certs && mqtt.user && mqtt.tlsPort && mqtt.mtlsPort);
    const mqttTopic = `${topic}/t`;
    const tlsAuth = { cafile: certs.caCert, ...mqtt.user };
    const sub = mosquittoSub({ host: mqtt.host, port: mqtt.tlsPort }, mqttTopic, { count: 1, timeoutMs: 10_000, auth: tlsAuth });
    await sub.ready;
    const mtlsAuth = { cafile: certs.caCert, cert: certs.clientCert, key: certs.clientKey };
    await mosquittoPub({ host: mqtt.host, port: mqtt.mtlsPort }, mqttTopic, 'over mtls', { auth: mtlsAuth });
    assert.equal((await sub.done)[0].text, 'over mtls');
    await assert.rejects(mosquittoPub({ host: mqtt.host, port: mqtt.tlsPort }, mqttTopic, 'x', { auth: { cafile: certs.caCert } }));
  });

  it('Kafka keeps topics and records across stop/start on the same port', async function () {
    this.timeout(120_000);
    const topic = uniqueName('harness-restart');
    await b.kafka.createTopic(topic, 2);
    await kcatProduce(b.kafka.bootstrap, topic, [{ key: 'k', value: 'before restart', partition: 1 }]);
    const bootstrap = b.kafka.bootstrap;
    await b.kafka.stop();
    assert.equal(b.kafka.running, false);
    await b.kafka.start();
    assert.equal(b.kafka.bootstrap, bootstrap);
    const recs = await kcatConsume(bootstrap, topic, { count: 1, timeoutMs: 20_000 });
    assert.equal(recs[0].value, 'before restart');
    assert.equal(recs[0].partition, 1);
  });

  describe('mosquitto with persistence', () => {
    let m: MosquittoBroker;
    before(async () => {
      m = await startMosquitto({ persistence: true });
    });
    after(async () => {
      await m?.dispose();
    });

    it('keeps a retained message across a restart', async () => {
      const topic = `${uniqueName('harness')}/retained`;
      await mosquittoPub(m, topic, 'kept', { qos: 1, retain: true });
      const port = m.port;
      await m.stop();
      await m.start();
      assert.equal(m.port, port);
      const sub = mosquittoSub(m, topic, { count: 1, timeoutMs: 5_000 });
      const [msg] = await sub.done;
      assert.equal(msg.text, 'kept');
      assert.equal(msg.retain, true);
    });
  });
});
