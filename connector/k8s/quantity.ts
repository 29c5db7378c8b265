/**
 * Kubernetes storage quantities (`10Gi`, `500M`, `1e9`) as bytes, for the spool's byte budget. Only
 * what a volume size can be: no negative values, no milli units.
 */
const UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

const QUANTITY = /^(\d+(?:\.\d+)?)(?:(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)|[eE](\d+))?$/;

/** Bytes, or a message saying what is wrong with `text`. */
export function storageBytes(text: string): number | { problem: string } {
  const m = QUANTITY.exec(text.trim());
  if (!m) return { problem: `got ${JSON.stringify(text)}; expected a Kubernetes quantity such as 10Gi, 500Mi or 2G` };
  const bytes = Number(m[1]) * (m[3] !== undefined ? 10 ** Number(m[3]) : UNITS[m[2] ?? ""]!);
  if (!Number.isFinite(bytes) || bytes < 1) return { problem: `got ${JSON.stringify(text)}; must be at least one byte` };
  return Math.floor(bytes);
}
