// The connector run from its custom resources on a real kube-apiserver, with real Kafka and
// Mosquitto: what `kubectl apply` changes reaches the running routes, status says what runs, and
// neither an invalid resource, an API server restart nor a second instance loses data or wedges it.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { startLocalCluster, type LocalCluster } from "../../scripts/local-cluster";
import { startKafka, startMosquitto, type KafkaBroker, type MosquittoBroker } from "../../scripts/local-brokers";
import { kcatConsume, kcatProduce, mosquittoPub, mosquittoSub, withKafkaAdmin, uniqueName } from "../helpers/brokers";
import { ConnectorProcess, killAllConnectors } from "../helpers/connector-process";
import { delay } from "../helpers/wait";
import { awaitTopicSettled, kafkaAdmin, MqttLoad, tallyTopic } from "../faults/support/streams";
import { CrClient, connectorDoc, cond, crConnector, identityOf, k2m, logLines, m2k, mapDoc } from "./cr-support";

const ROOT = join(__dirname, "..", "..", "..");
const NS = "plant";
const NAME = "line1";
const MAP = "line1-routes";

describe("engines: the connector runs from its custom resources", function () {
  this.timeout(300_000);
  let cluster: LocalCluster;
  let kafka: KafkaBroker;
  let mqtt: MosquittoBroker;
  let cr: CrClient;
  let connector: ConnectorProcess;
  const t = { keep: uniqueName("keep"), chgA: uniqueName("chg-a"), chgB: uniqueName("chg-b"), drop: uniqueName("drop"), added: uniqueName("added"), down: uniqueName("down"), after: uniqueName("after") };
  const spec = () => ({
    kafkaConnection: { endpoint: kafka.bootstrap, tls: { tlsEnabled: false } },
    localBrokerConnection: { endpoint: `127.0.0.1:${mqtt.port}`, tls: { tlsEnabled: false } },
  });
  const seedRoutes = () => [m2k("keep", "keep/#", t.keep), m2k("change", "chg/#", t.chgA), m2k("drop", "drop/#", t.drop), k2m("down", t.down, "cmd/down")];

  before(async function () {
    this.timeout(240_000);
    [cluster, kafka, mqtt] = await Promise.all([startLocalCluster({ controllerManager: false, apiserverArgs: ["--etcd-compaction-interval=2s"] }), startKafka({}), startMosquitto({})]);
    await cluster.kubectl(["apply", "-f", join(ROOT, "deploy", "crds")]);
    await cluster.kubectl(["create", "namespace", NS]);
    cr = new CrClient(cluster, NS);
    await withKafkaAdmin(kafka.bootstrap, (a) => a.createTopics({ topics: Object.values(t).map((topic) => ({ topic, numPartitions: 3 })) }));
  });
  after(async () => {
    await killAllConnectors();
    await Promise.all([kafka?.dispose(), mqtt?.dispose(), cluster?.stop()]);
  });
  /** Waits for a record with this value near the end of the topic (the last 20 of each partition). */
  async function awaitRecord(topic: string, value: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen: string[] = [];
    while (Date.now() < deadline) {
      const records = await kcatConsume(kafka.bootstrap, topic, { count: 60, offset: -20, exitAtEnd: true, allowFewer: true, timeoutMs: 10_000 });
      seen = records.map((r) => String(r.value));
      if (seen.includes(value)) return;
      await delay(500);
    }
    assert.fail(`no record ${JSON.stringify(value)} on ${topic} within ${timeoutMs} ms (last: ${seen.slice(-5).join(", ")})`);
  }
  afterEach(function () {
    if (this.currentTest?.state === "failed" && connector) process.stderr.write(`--- connector ---\n${connector.logTail(80)}\n`);
  });

  it("starts from applied resources; traffic flows both ways (mosquitto_pub -> kcat, kcat -> mosquitto_sub); status says Ready", async () => {
    await cr.apply(connectorDoc(NS, NAME, spec()), mapDoc(NS, MAP, NAME, seedRoutes()));
    connector = await crConnector(cluster, NS, NAME);
    await connector.waitReady(90_000);
    await mosquittoPub(mqtt.url, "keep/a", "up-1");
    assert.equal((await kcatConsume(kafka.bootstrap, t.keep, { count: 1, timeoutMs: 15_000 }))[0]!.value, "up-1");
    const sub = mosquittoSub(mqtt.url, "cmd/down", { count: 1, timeoutMs: 20_000 });
    await sub.ready;
    await kcatProduce(kafka.bootstrap, t.down, [{ value: "down-1" }]);
    assert.equal((await sub.done)[0]!.payload.toString(), "down-1");

    const map = await cr.until("topic map Ready", () => cr.mapStatus(MAP), ({ status }) => (cond(status, "Ready")?.status === "True" && status.readyRoutes === "4/4" ? undefined : "not ready"));
    assert.equal(map.status.observedGeneration, map.generation);
    assert.deepEqual(map.status.routes?.map((r) => [r.name, r.state]), [["keep", "Running"], ["change", "Running"], ["drop", "Running"], ["down", "Running"]]);
    const c = await cr.until("connector Ready", () => cr.connectorStatus(NAME), ({ status }) => (status.instancesReady === 1 && cond(status, "Ready")?.status === "True" ? undefined : "not ready"));
    assert.equal(c.status.statusWriter, identityOf(connector));
    const table = await cr.table();
    process.stdout.write(`      kubectl get kafkaconnectors,kafkaconnectortopicmaps -n ${NS}:\n${table.replace(/^/gm, "        ")}\n`);
    assert.match(table, new RegExp(`${MAP}\\s+${NAME}\\s+True\\s+4/4`));
  });

  it("kubectl apply of a changed map under 2,000 msg/s: a route added, one changed, one deleted; nothing lost on the unchanged route", async () => {
    const count = 24_000;
    const load = new MqttLoad({ url: mqtt.url, topic: "keep/load", tag: "k", count, ratePerSec: 2_000, clientId: uniqueName("load") });
    await load.start();
    await delay(3_000);
    const routes = [m2k("keep", "keep/#", t.keep), m2k("change", "chg/#", t.chgB), m2k("added", "add/#", t.added), k2m("down", t.down, "cmd/down")];
    await cr.apply(mapDoc(NS, MAP, NAME, routes));
    await Promise.race([load.done, delay(60_000)]);
    await load.stop();
    assert.equal(load.acked, count, load.describe());

    const admin = kafkaAdmin(kafka.bootstrap);
    await admin.connect();
    try {
      assert.ok(await awaitTopicSettled(admin, t.keep, count, 60_000), "keep topic settled");
    } finally {
      await admin.disconnect();
    }
    const tally = await tallyTopic(kafka.bootstrap, t.keep, "k", count);
    assert.equal(tally.distinct, count, `lost ${count - tally.distinct} of ${count} on the unchanged route`);

    const reloads = logLines(connector, "topic maps reloaded");
    const last = reloads.at(-1)!;
    assert.deepEqual([last["added"], last["removed"], last["changed"]], [[`${MAP}/added`], [`${MAP}/drop`], [`${MAP}/change`]]);
    assert.ok((last["unchanged"] as string[]).includes(`${MAP}/keep`), "the unchanged route kept running");

    const map = await cr.until("generation 2 running", () => cr.mapStatus(MAP), ({ status, generation }) => (status.runningGeneration === generation && cond(status, "Ready")?.status === "True" ? undefined : "not yet"));
    assert.deepEqual(map.status.routes?.map((r) => r.name), ["keep", "change", "added", "down"]);
    await mosquittoPub(mqtt.url, "add/x", "via-added");
    assert.equal((await kcatConsume(kafka.bootstrap, t.added, { count: 1, timeoutMs: 15_000 }))[0]!.value, "via-added");
    await mosquittoPub(mqtt.url, "chg/x", "via-changed");
    assert.equal((await kcatConsume(kafka.bootstrap, t.chgB, { count: 1, timeoutMs: 15_000 }))[0]!.value, "via-changed");
    process.stdout.write(`      ${tally.distinct}/${count} on the unchanged route, ${tally.total - tally.distinct} duplicates\n`);
  });

  it("an invalid topic map the API server admits: status names the field path, the running generation keeps running", async () => {
    const before = await cr.mapStatus(MAP);
    const bad = [m2k("keep", "keep/#/oops", t.keep), m2k("change", "chg/#", t.chgB), m2k("added", "add/#", t.added), k2m("down", t.down, "cmd/down")];
    await cr.apply(mapDoc(NS, MAP, NAME, bad));
    const map = await cr.until("rejection in status", () => cr.mapStatus(MAP), ({ status, generation }) => (status.observedGeneration === generation && cond(status, "ConfigValid")?.status === "False" ? undefined : "not yet"));
    assert.equal(map.generation, before.generation + 1);
    assert.match(cond(map.status, "ConfigValid")!.message, /spec\.routes\[0\]\.mqttToKafka\.mqttTopic: .*keep\/#\/oops/);
    assert.equal(cond(map.status, "Degraded")?.reason, "RunningPreviousGeneration");
    assert.equal(map.status.runningGeneration, before.generation);
    await mosquittoPub(mqtt.url, "keep/still", "still-running");
    await awaitRecord(t.keep, "still-running");
    const events = await cluster.kubectl(["-n", NS, "get", "events", "--field-selector", `involvedObject.name=${MAP}`, "-o", "jsonpath={range .items[*]}{.type} {.reason}{\"\\n\"}{end}"]);
    assert.match(events, /Warning InvalidSpec/);
    // Fixed again: the valid spec is back, and so is ConfigValid.
    await cr.apply(mapDoc(NS, MAP, NAME, bad.map((r, i) => (i === 0 ? m2k("keep", "keep/#", t.keep) : r))));
    await cr.until("valid again", () => cr.mapStatus(MAP), ({ status, generation }) => (status.runningGeneration === generation && cond(status, "ConfigValid")?.status === "True" ? undefined : "not yet"));
  });

  it("a route name another map already uses is refused for the newcomer, with the path and the other map named", async () => {
    await cr.apply(mapDoc(NS, "intruder", NAME, [m2k("keep", "intruder/#", t.after)]));
    const map = await cr.until("clash in status", () => cr.mapStatus("intruder"), ({ status }) => (cond(status, "ConfigValid")?.reason === "DuplicateRouteName" ? undefined : "not yet"));
    assert.match(cond(map.status, "ConfigValid")!.message, new RegExp(`spec\\.routes\\[0\\]: route name "keep" is also used by KafkaConnectorTopicMap/${MAP}`));
    assert.equal(cond(map.status, "Ready")?.status, "False");
    await cluster.kubectl(["-n", NS, "delete", "kafkaconnectortopicmap", "intruder"]);
  });

  it("the API server restarts during traffic: the watch resumes and a change made right after is applied", async () => {
    const count = 10_000;
    const load = new MqttLoad({ url: mqtt.url, topic: "keep/restart", tag: "r", count, ratePerSec: 1_000, clientId: uniqueName("load") });
    await load.start();
    await delay(1_000);
    await cluster.restartApiServer();
    const routes = [m2k("keep", "keep/#", t.keep), m2k("change", "chg/#", t.chgB), m2k("added", "add/#", t.added), m2k("after", "after/#", t.after), k2m("down", t.down, "cmd/down")];
    await cr.apply(mapDoc(NS, MAP, NAME, routes));
    await cr.until("route added after the restart", () => cr.mapStatus(MAP), ({ status, generation }) => (status.runningGeneration === generation && status.readyRoutes === "5/5" ? undefined : "not yet"), 90_000);
    await mosquittoPub(mqtt.url, "after/x", "after-restart");
    assert.equal((await kcatConsume(kafka.bootstrap, t.after, { count: 1, timeoutMs: 15_000 }))[0]!.value, "after-restart");
    await Promise.race([load.done, delay(60_000)]);
    await load.stop();
    const admin = kafkaAdmin(kafka.bootstrap);
    await admin.connect();
    await awaitTopicSettled(admin, t.keep, 1, 30_000).finally(() => admin.disconnect());
    const tally = await tallyTopic(kafka.bootstrap, t.keep, "r", count);
    assert.equal(tally.distinct, count, `lost ${count - tally.distinct} of ${count} across the API server restart`);
    assert.ok(connector.running, "the connector kept running");
    const interrupted = logLines(connector, "watch of the custom resources interrupted; resuming").length;
    process.stdout.write(`      watch interrupted ${interrupted}x, relisted ${logLines(connector, "custom resources relisted").length}x; ${tally.distinct}/${count} delivered\n`);
    assert.ok(interrupted > 0, "the watch noticed the restart");
  });

  it("the watch's resource version expires (410 Gone) while the connector is paused: the relist applies every change made meanwhile", async () => {
    const relisted = logLines(connector, "custom resources relisted").length;
    connector.signal("SIGSTOP");
    try {
      // The paused process still holds its watch; the restart breaks it, and the changes below
      // plus the API server's etcd compaction (every 2 s here) leave its resource version behind.
      await cluster.restartApiServer();
      const junk = Array.from({ length: 120 }, (_, i) => mapDoc(NS, `other-${i}`, "someone-else", [m2k(`o${i}`, `o/${i}`, t.after)]));
      await cr.apply(...junk);
      await cluster.kubectl(["-n", NS, "delete", "kafkaconnectortopicmap", "-l", "!keep", "--field-selector", "metadata.name!=" + MAP, "--wait=false"]);
      const routes = [m2k("keep", "keep/#", t.keep), m2k("change", "chg/#", t.chgB), m2k("added", "add/#", t.added), m2k("after", "after/#", t.after), m2k("late", "late/#", t.after), k2m("down", t.down, "cmd/down")];
      await cr.apply(mapDoc(NS, MAP, NAME, routes));
      await delay(6_000);
    } finally {
      connector.signal("SIGCONT");
    }
    await cr.until("change made while paused applied", () => cr.mapStatus(MAP), ({ status, generation }) => (status.runningGeneration === generation && status.readyRoutes === "6/6" ? undefined : "not yet"), 90_000);
    await mosquittoPub(mqtt.url, "late/x", "made-while-paused");
    await awaitRecord(t.after, "made-while-paused");
    const relists = logLines(connector, "custom resources relisted").length - relisted;
    process.stdout.write(`      relisted ${relists}x after the pause\n`);
    assert.ok(relists > 0, "the expired resource version made the connector relist");
  });

  it("a KafkaConnector change reconnects in place (same process); a logLevel change applies without reconnecting", async () => {
    const pid = connector.pid;
    await cluster.kubectl(["-n", NS, "patch", "kafkaconnector", NAME, "--type=merge", "-p", JSON.stringify({ spec: { logLevel: "debug" } })]);
    await cr.until("log level applied", async () => logLines(connector, "log level changed").length, (n) => (n > 0 ? undefined : "no log line"));
    assert.equal(logLines(connector, "KafkaConnector changed: draining and reconnecting").length, 0);
    await cluster.kubectl(["-n", NS, "patch", "kafkaconnector", NAME, "--type=merge", "-p", JSON.stringify({ spec: { logLevel: "info", clientIdPrefix: "renamed" } })]);
    await cr.until("reconnected", async () => logLines(connector, "KafkaConnector changed: draining and reconnecting").length, (n) => (n > 0 ? undefined : "no reconnect"));
    await connector.waitReady(60_000);
    assert.equal(connector.pid, pid);
    await mosquittoPub(mqtt.url, "keep/reconnected", "after-reconnect");
    await awaitRecord(t.keep, "after-reconnect");
    const c = await cr.until("connector generation running", () => cr.connectorStatus(NAME), ({ status, generation }) => (status.runningGeneration === generation && cond(status, "Ready")?.status === "True" ? undefined : "not yet"));
    assert.equal(cond(c.status, "ConfigValid")?.status, "True");
  });

  it("two instances: exactly one writes status, and the Lease changes hands when it stops", async () => {
    await cluster.kubectl(["-n", NS, "patch", "kafkaconnector", NAME, "--type=merge", "-p", JSON.stringify({ spec: { instances: 2 } })]);
    const second = await crConnector(cluster, NS, NAME, { instance: 1 });
    await second.waitReady(90_000);
    await cr.until("two instances ready", () => cr.connectorStatus(NAME), ({ status }) => (status.instancesReady === 2 ? undefined : "not yet"));
    const first = connector;
    assert.equal(await cr.leaseHolder(`${NAME}-status`), identityOf(first));
    assert.equal(logLines(second, "this instance now writes status").length, 0, "the second instance never wrote status");
    const writers = (await cr.connectorStatus(NAME)).status.statusWriter;
    assert.equal(writers, identityOf(first));

    const exit = await first.terminate(60_000);
    assert.equal(exit.code, 0);
    await cr.until("lease handed over", () => cr.leaseHolder(`${NAME}-status`), (h) => (h === identityOf(second) ? undefined : `holder ${h}`), 30_000);
    await cr.until("status written by the second", () => cr.connectorStatus(NAME), ({ status }) => (status.statusWriter === identityOf(second) ? undefined : "not yet"), 30_000);
    assert.equal(logLines(second, "this instance now writes status").length, 1);
    connector = second;
    await mosquittoPub(mqtt.url, "keep/second", "via-second");
    await awaitRecord(t.keep, "via-second");
  });

  it("SIGTERM drains and exits 0; the Leases are handed back", async () => {
    const exit = await connector.terminate(60_000);
    assert.equal(exit.code, 0);
    assert.equal(await cr.leaseHolder(`${NAME}-status`), "");
  });
});

