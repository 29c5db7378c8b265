/**
 * MQTT→Kafka QoS 1 throughput is measured in alternating rounds (ceilings, connector, ceilings,
 * connector). Noise on shared cores only ever slows a pass down, so each side is judged by its
 * better round, and the ratio is taken against the lower of the two better ceilings.
 */
export interface RoundRates {
  connector: readonly number[];
  ceiling1: readonly number[];
  ceiling2: readonly number[];
}

export interface RoundVerdict {
  /** Index of the connector's better round. */
  best: number;
  /** Which ceiling the ratio is against, the index of its better round, and that round's rate. */
  ceiling: 1 | 2;
  ceilingRound: number;
  ceilingRate: number;
  ratio: number;
}

function argMax(xs: readonly number[], what: string): number {
  if (!xs.length) throw new Error(`no ${what} rounds to compare`);
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}

export function judgeRounds(r: RoundRates): RoundVerdict {
  const best = argMax(r.connector, "connector");
  const i1 = argMax(r.ceiling1, "ceiling 1");
  const i2 = argMax(r.ceiling2, "ceiling 2");
  const [ceiling, ceilingRound, ceilingRate] = r.ceiling1[i1]! <= r.ceiling2[i2]! ? [1 as const, i1, r.ceiling1[i1]!] : [2 as const, i2, r.ceiling2[i2]!];
  return { best, ceiling, ceilingRound, ceilingRate, ratio: r.connector[best]! / ceilingRate };
}

/** Each round's own ratio, against the lower of that round's ceilings: how far single passes wander. */
export function roundRatios(r: RoundRates): number[] {
  return r.connector.map((x, i) => {
    const c = Math.min(r.ceiling1[i] ?? Infinity, r.ceiling2[i] ?? Infinity);
    if (!Number.isFinite(c)) throw new Error(`round ${i + 1} has no ceiling measured`);
    return x / c;
  });
}
