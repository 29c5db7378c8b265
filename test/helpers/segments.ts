// Reads the compression codec of every record batch straight from the broker's log segments with
// Kafka's own DumpLogSegments tool, so a test sees what was written, not what a client decodes.
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { KafkaBroker } from "../../scripts/local-brokers";
import { kafkaLibsDir } from "../../scripts/local-brokers";
import { runBounded } from "./spawn";

export async function segmentCodecs(kafka: KafkaBroker, topic: string): Promise<string[]> {
  const logDirs = join(kafka.dataDir, "kraft-logs");
  const files = readdirSync(logDirs)
    .filter((d) => d.startsWith(`${topic}-`))
    .flatMap((d) => readdirSync(join(logDirs, d)).filter((f) => f.endsWith(".log")).map((f) => join(logDirs, d, f)))
    .filter((f) => existsSync(f));
  if (!files.length) throw new Error(`no log segments for ${topic} under ${logDirs}`);
  const libs = await kafkaLibsDir();
  const res = await runBounded("java", ["-cp", `${libs}/*`, "kafka.tools.DumpLogSegments", "--files", files.join(",")], { timeoutMs: 60_000 }).done;
  const codecs = new Set<string>();
  for (const m of res.stdout.toString("utf8").matchAll(/compresscodec: (\w+)/g)) codecs.add(m[1]!.toLowerCase());
  return [...codecs].sort();
}
