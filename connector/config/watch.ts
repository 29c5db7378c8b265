import { watch, statSync, type FSWatcher } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * Calls `onChange` (debounced) when any of the config files or directories changes. Directories are
 * watched rather than files: Kubernetes updates a mounted ConfigMap by swapping a `..data` symlink,
 * which a watch on the old file would never see.
 */
export function watchConfig(paths: string[], onChange: () => void, debounceMs = 500): { close(): void } {
  const dirs = new Set<string>();
  for (const p of paths) {
    const abs = resolve(p);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      // a missing path is reported by the loader on the next reload
    }
    dirs.add(isDir ? abs : dirname(abs));
  }
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  const watchers: FSWatcher[] = [...dirs].map((d) => watch(d, { persistent: false }, fire));
  return {
    close() {
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
