/** Rejects with "no answer within N s (what)" if `p` has not settled after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s (${what})`)), ms)));
  return Promise.race([p, timedOut]).finally(() => clearTimeout(t));
}
