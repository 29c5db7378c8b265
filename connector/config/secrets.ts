import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { ConnectorError } from "../core/errors";

/**
 * Reads Secrets and ConfigMaps the way Kubernetes mounts them: `<dir>/<name>/<key>`.
 * Errors name the object and key that are missing, never the content.
 */
export class SecretStore {
  constructor(readonly dir: string) {}

  path(name: string, key: string): string {
    return join(this.dir, name, key);
  }

  has(name: string, key: string): boolean {
    return existsSync(this.path(name, key));
  }

  read(name: string, key: string, what: string): Buffer {
    const p = this.path(name, key);
    try {
      return readFileSync(p);
    } catch (e) {
      throw new ConnectorError("SECRET_MISSING", `${what}: cannot read key \`${key}\` of \`${name}\` (expected file ${p})`, { cause: e });
    }
  }

  /**
   * A credential without the one line ending that `echo pw > file`, `kubectl create secret
   * --from-file` and many secret tools leave at the end.
   */
  readLine(name: string, key: string, what: string): Buffer {
    const b = this.read(name, key, what);
    const end = b.at(-1) === 0x0a ? (b.at(-2) === 0x0d ? b.length - 2 : b.length - 1) : b.length;
    return b.subarray(0, end);
  }

  readText(name: string, key: string, what: string): string {
    return this.readLine(name, key, what).toString("utf8");
  }

  /** Every PEM file (`*.crt`, `*.pem`) of a CA ConfigMap, as one bundle. */
  readCaBundle(name: string, what: string): Buffer {
    const dir = join(this.dir, name);
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => /\.(crt|pem)$/i.test(f) && !f.startsWith(".")).sort();
    } catch (e) {
      throw new ConnectorError("SECRET_MISSING", `${what}: CA ConfigMap \`${name}\` is not mounted (expected directory ${dir})`, { cause: e });
    }
    if (files.length === 0) throw new ConnectorError("SECRET_MISSING", `${what}: CA ConfigMap \`${name}\` has no *.crt or *.pem key (looked in ${dir})`);
    return Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
  }
}
