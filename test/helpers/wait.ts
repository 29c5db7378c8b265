// Bounded waiting, shared by every suite: nothing here loops without a deadline.

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `cond` every `intervalMs` until it is true or `timeoutMs` passed.
 * Returns whether it became true.
 */
export async function pollUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= until) return false;
    await delay(Math.min(intervalMs, Math.max(1, until - Date.now())));
  }
}

/** Like pollUntil, but throws naming what was awaited. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000, intervalMs = 50): Promise<void> {
  if (!(await pollUntil(cond, timeoutMs, intervalMs))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
