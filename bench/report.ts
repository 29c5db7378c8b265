/** Result types of `npm run bench` and the Markdown table and SVG chart written from them. */
import type { ScaleRow } from "./scale";
import type { BacklogResult } from "./backlog";
import type { LatencySummary } from "./common";
import { roundRatios, type RoundRates } from "./rounds";
import type { ReplayResult } from "./spool-replay";
import type { Scenario } from "./scenarios";

export interface CeilingResult {
  key: string;
  /** The scenario it was measured for, right before it. */
  scenario: string;
  kind: 1 | 2 | 3;
  label: string;
  rate: number;
  mbps: number;
  delivered: number;
  sent: number;
}

/** One run of the peer bridge (bench/peer.ts) on a scenario's brokers, payloads and QoS. */
export interface PeerResult {
  /** "bento-batched", "bento-unbatched" (MQTT→Kafka) or "bento" (Kafka→MQTT). */
  variant: string;
  label: string;
  /** The better round's rate (MQTT→Kafka QoS 1 runs two rounds, like the connector). */
  rate: number;
  rounds?: number[];
  /** MQTT→Kafka: the load generator's own sustained publish rate in that round. */
  offeredRate?: number;
  mbps: number;
  sent: number;
  delivered: number;
  /** Peer CPU over its flat-out window, % of one core. */
  cpuPercent: number;
  cpuUsPerMsg: number;
  /** VmHWM of the peer process. */
  peakRssMb: number;
  exitCode: number | null;
}

export interface ScenarioResult {
  scenario: Scenario;
  title: string;
  /** Sustained msg/s flat out (middle 80 % of what arrived). */
  rate: number;
  /** MQTT→Kafka QoS 1: each flat-out round's rate, and ceilings 1 and 2 before each; `rate` and the ratio take the better of each. */
  rounds?: RoundRates;
  /** MQTT→Kafka: the load generator's own sustained publish rate in the pass `rate` comes from. */
  offeredRate?: number;
  mbps: number;
  sent: number;
  delivered: number;
  /** Connector CPU over the flat-out window, % of one core. */
  cpuPercent: number;
  cpuUsPerMsg: number;
  /**
   * Kafka→MQTT: the drain rate while a producer writes flat out at the same time. The latency pass
   * runs at half of this, since it too has a live producer on the same cores; the flat-out drain
   * of a preloaded topic has none.
   */
  liveRate?: number;
  halfRate: number;
  halfRateCpuPercent: number;
  latency: LatencySummary | undefined;
  latencyDelivered: number;
  latencySent: number;
  latencyBudgetMs: number;
  /** VmHWM of the connector process. */
  peakRssMb: number;
  ceilings: string[];
  /** The ceiling the ratio is taken against (the lower of 1 and 2 for MQTT→Kafka). */
  ceilingKey: string;
  ceilingRate: number;
  ratio: number;
  batchAvg?: number;
  dropped: number;
  exitCode: number | null;
  /** CPU that processes outside the benchmark took during the scenario, % of all cores: the noise. */
  otherCpuPercent?: number;
  /** The same latency pass through raw clients: ceiling 3's for Kafka→MQTT, a raw subscriber feeding a raw producer for MQTT→Kafka. */
  rawLatency?: LatencySummary;
  /** `--peer`: the peer bridge on the same scenario, measured right after the connector. */
  peers?: PeerResult[];
  /** A spool scenario: the replay after an outage (bench/spool-replay.ts). */
  replay?: ReplayResult;
  /** `--peer`, MQTT→Kafka: a backlog queued in Mosquitto drained by the connector and by the peer (bench/backlog.ts). */
  backlog?: { connector: BacklogResult; peers: (BacklogResult & { variant: string; label: string })[] };
}

export interface TargetResult {
  scenario: string;
  target: string;
  value: string;
  pass: boolean;
  /** Reported for information: printed as INFO, not a target. */
  info?: boolean;
}

/** A C-client reference rate (mosquitto_pub → mosquitto_sub, kcat → kcat): no target. */
export interface ReferenceResult {
  label: string;
  size: number;
  rate: number;
  mbps: number;
  count: number;
  note?: string;
}

export interface BenchResults {
  startedAt: string;
  wallSeconds: number;
  quick: boolean;
  latencySeconds: number;
  mosquittoConfig: string[];
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGb: number;
    kernel: string;
    node: string;
    mosquitto: string;
    kafka: string;
    loadAvgStart: number[];
    loadAvgEnd: number[];
  };
  /** Node flags and memory limit the connector ran with (bench/connector-runtime.ts). */
  connectorRuntime: string;
  ceilings: CeilingResult[];
  scenarios: ScenarioResult[];
  /** `--peer`: what the peer is and the guarantees it gives, stated next to its figures. */
  peer?: { name: string; version: string; binary: string; guarantees: string; config: string };
  /** C-client reference rates, when their tools are installed. */
  references?: ReferenceResult[];
  /** `--scale`: one route on 1, 2 and 3 instances (bench/scale.ts). */
  scale?: ScaleRow[];
  targets: TargetResult[];
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number | undefined) => (n === undefined ? "–" : n < 10 ? n.toFixed(1) : n.toFixed(0));

export function toMarkdown(r: BenchResults): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push(`# Benchmark results (${r.startedAt}${r.quick ? ", quick" : ""})`, "");
  lines.push(
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, ${m.kernel}, Node ${m.node}, ${m.mosquitto}, ${m.kafka}. ` +
      `Mosquitto, Kafka, the load generator, the readers and the connector all share these ${m.cpus} cores. ` +
      `Load average ${m.loadAvgStart.join(" / ")} at the start, ${m.loadAvgEnd.join(" / ")} at the end. Wall time ${r.wallSeconds} s.`,
    "",
    `Connector: ${r.connectorRuntime}.`,
    "",
  );
  lines.push(
    "| scenario | msg/s | MB/s | ceiling msg/s | ratio | p50 ms | p99 ms | at msg/s | CPU % | CPU µs/msg | peak RSS MB | other load % |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const s of r.scenarios) {
    const c = s.ceilingKey.split("/")[0]!.replace("c", "");
    lines.push(
      `| ${s.title} | ${int(s.rate)} | ${s.mbps.toFixed(1)} | ${int(s.ceilingRate)} (${c}) | ${s.ratio.toFixed(2)} | ${ms(s.latency?.p50)} | ${ms(s.latency?.p99)} | ${int(s.halfRate)} | ${s.cpuPercent.toFixed(0)} | ${s.cpuUsPerMsg.toFixed(0)} | ${s.peakRssMb.toFixed(0)} | ${s.otherCpuPercent?.toFixed(0) ?? "–"} |`,
    );
  }
  lines.push(
    "",
    "msg/s and MB/s: sustained flat-out rate (middle 80 % of the messages) at the target broker; MB/s counts payload bytes. " +
      "Latency: send time stamped in the payload to arrival at a reader of the target broker, in a separate pass paced at half the flat-out rate (Kafka→MQTT: half the live rate, the drain rate measured while a producer writes flat out, as one does during the latency pass). " +
      "CPU: connector process (user + system) over the flat-out window, 100 % = one core. Other load: CPU taken by processes outside the benchmark during the scenario, % of all cores (noise). Ceiling (1): Mosquitto → raw mqtt.js subscriber; " +
      "(2) raw kafkajs producer; (3) raw kafkajs consumer → raw mqtt.js publisher. MQTT→Kafka ratios are against the lower of (1) and (2). " +
      "MQTT→Kafka QoS 1 runs two flat-out rounds, with both ceilings measured again between them, and takes the better of each (table below).",
    "",
  );
  lines.push("| for scenario | ceiling | msg/s | MB/s |", "|---|---|---:|---:|");
  for (const c of r.ceilings) lines.push(`| ${c.scenario} | (${c.kind}) ${c.label} | ${int(c.rate)} | ${c.mbps.toFixed(1)} |`);
  const rounds = r.scenarios.filter((s) => s.rounds);
  if (rounds.length) {
    lines.push("", "MQTT→Kafka QoS 1 flat-out rounds, in the order run (ceilings, connector, ceilings, connector); each round's ratio is against the lower of that round's ceilings:", "");
    lines.push("| scenario | ceiling 1 msg/s | ceiling 2 msg/s | connector msg/s | ratio per round |", "|---|---:|---:|---:|---:|");
    for (const s of rounds) {
      const x = s.rounds!;
      const ratios = roundRatios(x).map((v) => v.toFixed(2));
      lines.push(`| ${s.scenario.id} | ${x.ceiling1.map(int).join(" / ")} | ${x.ceiling2.map(int).join(" / ")} | ${x.connector.map(int).join(" / ")} | ${ratios.join(" / ")} |`);
    }
  }
  const rawM2k = r.scenarios.filter((s) => s.rawLatency && s.scenario.direction === "m2k");
  if (rawM2k.length) {
    lines.push("", "MQTT→Kafka latency pass repeated with raw clients (a raw mqtt.js subscriber, PUBACK at once, feeding a raw kafkajs producer with the scenario's batch limits, one request in flight; after the connector stopped), same rate, half as long:", "");
    lines.push("| scenario | at msg/s | connector p50 / p99 ms | raw clients p50 / p99 ms |", "|---|---:|---:|---:|");
    for (const s of rawM2k) lines.push(`| ${s.scenario.id} | ${int(s.halfRate)} | ${ms(s.latency?.p50)} / ${ms(s.latency?.p99)} | ${ms(s.rawLatency?.p50)} / ${ms(s.rawLatency?.p99)} |`);
  }
  const replays = r.scenarios.filter((s) => s.replay);
  if (replays.length) {
    lines.push(
      "",
      "Spool replay after a Kafka outage: Kafka stopped, a backlog spooled (`--spool-mode outage`), Kafka started, live traffic at the scenario's half rate while the spool drains. Replay rate: records leaving the spool per second until it is empty (live ones included, since the route spools until it has caught up):",
      "",
    );
    lines.push("| scenario | backlog | spooled at msg/s | live msg/s | replay msg/s | replay ÷ live | drained in s | lost | fsync p99 ms |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const s of replays) {
      const x = s.replay!;
      lines.push(`| ${s.scenario.id} | ${int(x.backlog)} | ${int(x.spoolRate)} | ${int(x.liveRate)} | ${int(x.replayRate)} | ${(x.replayRate / x.liveRate).toFixed(2)} | ${x.drainSeconds.toFixed(1)} | ${int(x.lost)} | ${ms(x.fsyncP99Ms)} |`);
    }
  }
  const raw = r.scenarios.filter((s) => s.rawLatency && s.scenario.direction === "k2m");
  if (raw.length) {
    lines.push("", "Kafka→MQTT latency pass repeated with ceiling 3's raw clients (after the connector stopped), same rate, half as long:", "");
    lines.push("| scenario | drain msg/s | live msg/s | at msg/s | connector p50 / p99 ms | raw clients p50 / p99 ms |", "|---|---:|---:|---:|---:|---:|");
    for (const s of raw) lines.push(`| ${s.scenario.id} | ${int(s.rate)} | ${s.liveRate !== undefined ? int(s.liveRate) : "–"} | ${int(s.halfRate)} | ${ms(s.latency?.p50)} / ${ms(s.latency?.p99)} | ${ms(s.rawLatency?.p50)} / ${ms(s.rawLatency?.p99)} |`);
  }
  const peered = r.scenarios.filter((s) => s.peers?.length);
  if (r.peer && peered.length) {
    lines.push("", `## Peer: ${r.peer.name} ${r.peer.version}, same run, same brokers, topics, payloads and QoS`, "");
    lines.push(`**Weaker guarantees.** ${r.peer.guarantees}`, "");
    lines.push(r.peer.config, "");
    lines.push(
      "| scenario | bridge | msg/s | rounds msg/s | load generator msg/s | MB/s | CPU % | CPU µs/msg | peak RSS MB | delivered | connector ÷ peer msg/s | connector ÷ peer CPU µs/msg |",
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    );
    const gen = (x: number | undefined) => (x === undefined ? "–" : int(x));
    for (const s of peered) {
      lines.push(
        `| ${s.scenario.id} | connector | ${int(s.rate)} | ${s.rounds ? s.rounds.connector.map(int).join(" / ") : "–"} | ${gen(s.offeredRate)} | ${s.mbps.toFixed(1)} | ${s.cpuPercent.toFixed(0)} | ${s.cpuUsPerMsg.toFixed(1)} | ${s.peakRssMb.toFixed(0)} | ${int(s.delivered)}/${int(s.sent)} | | |`,
      );
      for (const p of s.peers!) {
        lines.push(
          `| ${s.scenario.id} | ${p.label} | ${int(p.rate)} | ${p.rounds ? p.rounds.map(int).join(" / ") : "–"} | ${gen(p.offeredRate)} | ${p.mbps.toFixed(1)} | ${p.cpuPercent.toFixed(0)} | ${p.cpuUsPerMsg.toFixed(1)} | ${p.peakRssMb.toFixed(0)} | ${int(p.delivered)}/${int(p.sent)} | ${(s.rate / p.rate).toFixed(2)} | ${(s.cpuUsPerMsg / p.cpuUsPerMsg).toFixed(2)} |`,
        );
      }
    }
    lines.push(
      "",
      "A bridge cannot pass more than the load generator offers: where both bridges run at the load generator's rate, the msg/s ratio measures the load generator (and Mosquitto's Receive Maximum of 20 for it), not the bridges; CPU µs/msg still compares them.",
    );
  }
  const drained = r.scenarios.filter((s) => s.backlog);
  if (drained.length) {
    lines.push(
      "",
      "Backlog drain (MQTT→Kafka): each bridge's persistent session is subscribed, the bridge stops, one publisher queues the messages in Mosquitto, and the bridge starts again and drains them. No load generator runs meanwhile, so the rate is the bridge's and Mosquitto's delivery to it. Mosquitto sends an MQTT 5 client up to its Receive Maximum (the connector: 1000) unacknowledged, and an MQTT 3.1.1 client (Bento) up to `max_inflight_messages` (20); Bento acknowledges on receipt, the connector after Kafka.",
      "",
      "| scenario | bridge | queued | msg/s | CPU % | CPU µs/msg | peak RSS MB | in Kafka | drained in s | connector ÷ peer msg/s | connector ÷ peer CPU µs/msg |",
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    );
    for (const s of drained) {
      const c = s.backlog!.connector;
      const row = (label: string, x: BacklogResult, ratios: string) =>
        `| ${s.scenario.id} | ${label} | ${int(x.count)} | ${int(x.rate)} | ${x.cpuPercent.toFixed(0)} | ${x.cpuUsPerMsg.toFixed(1)} | ${x.peakRssMb.toFixed(0)} | ${int(x.delivered)} | ${x.drainSeconds.toFixed(1)} | ${ratios}`;
      lines.push(row("connector", c, " | |"));
      for (const p of s.backlog!.peers) lines.push(row(p.label, p, ` ${(c.rate / p.rate).toFixed(2)} | ${(c.cpuUsPerMsg / p.cpuUsPerMsg).toFixed(2)} |`));
    }
  }
  if (r.references?.length) {
    lines.push("", "C-client reference rates (no target; the physical reference on these brokers and cores):", "");
    lines.push("| reference | payload | messages | msg/s | MB/s | note |", "|---|---:|---:|---:|---:|---|");
    for (const x of r.references) lines.push(`| ${x.label} | ${x.size} B | ${int(x.count)} | ${int(x.rate)} | ${x.mbps.toFixed(1)} | ${x.note ?? ""} |`);
  }
  if (r.scale?.length) lines.push(...scaleMarkdown(r.scale));
  lines.push("", "## Targets", "", "```");
  for (const t of r.targets) lines.push(`${t.info ? "INFO" : t.pass ? "PASS" : "FAIL"}  ${t.scenario.padEnd(18)} ${t.target}: ${t.value}`);
  lines.push("```", "");
  const notes = r.scenarios.filter((s) => s.delivered < s.sent || s.dropped > 0 || (s.exitCode !== 0 && s.exitCode !== null));
  if (notes.length) {
    lines.push("Notes:", "");
    for (const s of notes) {
      lines.push(`- ${s.scenario.id}: ${int(s.delivered)} of ${int(s.sent)} delivered flat out, ${int(s.dropped)} counted in dropped_total, connector exit code ${s.exitCode}.`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * One row per scenario: the ceiling as a full-width grey bar, the connector as a blue bar of
 * ratio × that width, with both rates written on the right and a dashed line at the 70 % target.
 */
export function toSvg(r: BenchResults): string {
  const rowH = 34;
  const left = 330;
  const barW = 420;
  const right = 190;
  const top = 56;
  const width = left + barW + right;
  const height = top + r.scenarios.length * rowH + 40;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">Connector vs raw-client ceiling, same run, same brokers (msg/s)</text>`);
  out.push(`<text x="${width / 2}" y="38" text-anchor="middle" fill="#555">${esc(`${r.machine.cpus} shared cores · ${r.startedAt.slice(0, 16).replace("T", " ")} UTC${r.quick ? " · quick" : ""}`)}</text>`);
  const x70 = left + barW * 0.7;
  r.scenarios.forEach((s, i) => {
    const y = top + i * rowH;
    const ratio = Math.min(1.5, s.ratio);
    const connW = Math.max(1, Math.min(barW, barW * ratio));
    const pass = s.scenario.qos === 1 ? (s.ratio >= 0.7 ? "#1f77b4" : "#d62728") : "#7fa7c9";
    out.push(`<text x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(s.scenario.id)}</text>`);
    out.push(`<rect x="${left}" y="${y + 3}" width="${barW}" height="12" fill="#c7c7c7"/>`);
    out.push(`<rect x="${left}" y="${y + 16}" width="${connW.toFixed(1)}" height="12" fill="${pass}"/>`);
    const kind = s.ceilingKey.split("/")[0]!.replace("c", "");
    out.push(`<text x="${left + barW + 8}" y="${y + 13}" fill="#555">ceiling (${kind}) ${Math.round(s.ceilingRate).toLocaleString("en-US")}</text>`);
    out.push(`<text x="${left + barW + 8}" y="${y + 27}">connector ${Math.round(s.rate).toLocaleString("en-US")} (${(100 * s.ratio).toFixed(0)} %)</text>`);
  });
  const yEnd = top + r.scenarios.length * rowH;
  out.push(`<line x1="${x70}" y1="${top - 4}" x2="${x70}" y2="${yEnd}" stroke="#333" stroke-dasharray="4 3"/>`);
  out.push(`<text x="${x70}" y="${yEnd + 14}" text-anchor="middle" fill="#333">70 % target</text>`);
  const ly = yEnd + 30;
  out.push(`<rect x="${left}" y="${ly - 10}" width="12" height="10" fill="#c7c7c7"/><text x="${left + 16}" y="${ly}">ceiling (1/2/3)</text>`);
  out.push(`<rect x="${left + 120}" y="${ly - 10}" width="12" height="10" fill="#1f77b4"/><text x="${left + 136}" y="${ly}">connector QoS 1 (red: below 70 %)</text>`);
  out.push(`<rect x="${left + 350}" y="${ly - 10}" width="12" height="10" fill="#7fa7c9"/><text x="${left + 366}" y="${ly}">QoS 0</text>`);
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/**
 * `--peer`: the connector and Bento side by side on the scenarios both ran, msg/s as bars on one
 * scale per scenario, with CPU µs/msg and peak RSS written beside each bar.
 */
export function toPeerSvg(r: BenchResults): string | undefined {
  interface Bar {
    label: string;
    rate: number;
    cpu: number;
    rss: number;
    color: string;
  }
  const conn = "#1f77b4";
  const peer = "#ff7f0e";
  const groups: { title: string; bars: Bar[] }[] = [];
  for (const s of r.scenarios) {
    if (s.peers?.length) {
      groups.push({
        title: s.scenario.id,
        bars: [{ label: "connector", rate: s.rate, cpu: s.cpuUsPerMsg, rss: s.peakRssMb, color: conn }, ...s.peers.map((p) => ({ label: p.variant, rate: p.rate, cpu: p.cpuUsPerMsg, rss: p.peakRssMb, color: peer }))],
      });
    }
    if (s.backlog) {
      const c = s.backlog.connector;
      groups.push({
        title: `${s.scenario.id} backlog`,
        bars: [{ label: "connector", rate: c.rate, cpu: c.cpuUsPerMsg, rss: c.peakRssMb, color: conn }, ...s.backlog.peers.map((p) => ({ label: p.variant, rate: p.rate, cpu: p.cpuUsPerMsg, rss: p.peakRssMb, color: peer }))],
      });
    }
  }
  if (!groups.length || !r.peer) return undefined;
  const barH = 13;
  const left = 190;
  const barW = 380;
  const right = 300;
  const top = 56;
  const groupH = (n: number) => (n + 1) * (barH + 3) + 12;
  const width = left + barW + right;
  const height = top + groups.reduce((h, g) => h + groupH(g.bars.length - 1), 0) + 30;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(`Connector vs ${r.peer.name} ${r.peer.version}, same run, same brokers, QoS 1 (msg/s)`)}</text>`);
  out.push(`<text x="${width / 2}" y="38" text-anchor="middle" fill="#555">${esc(`${r.machine.cpus} shared cores · ${r.startedAt.slice(0, 16).replace("T", " ")} UTC · Bento acknowledges MQTT on receipt, before Kafka has it`)}</text>`);
  let y = top;
  for (const g of groups) {
    const max = Math.max(...g.bars.map((b) => b.rate));
    out.push(`<text x="${left - 8}" y="${y + barH}" text-anchor="end" font-weight="bold">${esc(g.title)}</text>`);
    g.bars.forEach((b, i) => {
      const by = y + i * (barH + 3);
      out.push(`<text x="${left - 8}" y="${by + barH + barH - 2}" text-anchor="end" fill="#555">${esc(b.label)}</text>`);
      out.push(`<rect x="${left}" y="${by + barH}" width="${Math.max(1, (barW * b.rate) / max).toFixed(1)}" height="${barH}" fill="${b.color}"/>`);
      out.push(`<text x="${left + barW + 8}" y="${by + barH + barH - 2}">${esc(`${Math.round(b.rate).toLocaleString("en-US")} msg/s · ${b.cpu.toFixed(0)} µs/msg · ${b.rss.toFixed(0)} MB`)}</text>`);
    });
    y += groupH(g.bars.length - 1);
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function scaleMarkdown(rows: ScaleRow[]): string[] {
  const one = rows.find((x) => x.instances === 1);
  const lines = [
    "",
    `## Scale: one mqttToKafka route on 1, 2 and 3 instances (shared subscription), ${rows[0]!.publishers} publishers`,
    "",
    "| instances | msg/s into Kafka | vs 1 instance | publishers offered msg/s | delivered / sent | CPU % of a core (per instance) | CPU µs/msg (all instances) | vs 1 instance | records per Kafka request | machine busy % | peak RSS MB (per instance) |",
    "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|",
  ];
  for (const x of rows) {
    lines.push(
      `| ${x.instances} | ${int(x.rate)} | ${one ? (x.rate / one.rate).toFixed(2) + " ×" : "–"} | ${int(x.offeredRate)} | ${int(x.delivered)} / ${int(x.sent)} | ${x.cpuPercent.toFixed(0)} (${x.perInstanceCpuPercent.map((p) => p.toFixed(0)).join(" + ")}) | ${x.cpuUsPerMsg.toFixed(1)} | ${one ? (x.cpuUsPerMsg / one.cpuUsPerMsg).toFixed(2) + " ×" : "–"} | ${x.batchAvg.toFixed(0)} | ${x.machineBusyPercent.toFixed(0)} | ${x.peakRssMb.map((m) => m.toFixed(0)).join(", ")} |`,
    );
  }
  lines.push(
    "",
    "Every instance, both brokers and the publishers share the same cores (machine busy % is all of them together), so more instances cannot add speed here: the rows show what sharing the route costs (more MQTT clients, more Kafka producers, so smaller batches and more requests for Kafka per message). A message delivered more than once would show as delivered above sent.",
  );
  return lines;
}
