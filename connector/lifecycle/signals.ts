import type { Logger } from "../logger";

export const EXIT = { ok: 0, drainIncomplete: 1, config: 2, startup: 3, usage: 64 } as const;

/**
 * SIGTERM and SIGINT drain whatever runs, whether it is running or still starting. `stop`
 * resolves true when the drain completed.
 */
export function drainOnSignal(stop: () => Promise<boolean>, log: Logger): { stopped: Promise<number>; signalled: () => boolean } {
  let signalled = false;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      if (signalled) return;
      signalled = true;
      log.info({ signal: sig }, "draining");
      void stop().then((ok) => resolve(ok ? EXIT.ok : EXIT.drainIncomplete));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  return { stopped, signalled: () => signalled };
}
