import { setFlagsFromString } from "node:v8";

/** The image passes the same value on its command line (connector/Dockerfile). */
export const HEAP_GROWING_PERCENT = 300;

/**
 * Under a memory limit Node sizes V8 for a small heap, and V8 then lets the old generation grow to
 * only about twice its live size between full collections; with the buffers of large messages that
 * meant a full collection every ~30 ms and 2-3x the CPU per message (docs/benchmark.md, fourth
 * round). V8 reads this flag whenever it sets a new heap limit, so setting it at start-up also
 * covers a connector started without the image's command line (the npm bin, another image).
 * An explicit `--heap-growing-percent` on the command line wins.
 */
export function applyHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => a.startsWith("--heap-growing-percent") || a.startsWith("--heap_growing_percent"))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
