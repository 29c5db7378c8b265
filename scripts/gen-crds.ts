/**
 * Writes what is generated from connector/config/schema.ts:
 *   deploy/crds/<plural>.<group>.yaml  - the CRDs, for kubectl users
 *   components/spec-types.ts           - the components' spec args interfaces
 *   deploy/operator/*.yaml             - the operator's install (connector/operator/manifests.ts)
 * Usage: npm run gen:crds          (write)
 *        npm run gen:crds -- --check  (exit 1 if anything is out of date)
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { crdFileName, crdYaml, renderCrds } from "../components/crds";
import { generateSpecTypes } from "../components/args-codegen";
import { operatorYamlFiles } from "../connector/operator/manifests-yaml";

// dist/scripts/gen-crds.js -> repo root
const root = resolve(__dirname, "..", "..");

function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const crd of renderCrds()) files.set(join("deploy", "crds", crdFileName(crd)), crdYaml(crd));
  files.set(join("components", "spec-types.ts"), generateSpecTypes());
  for (const [file, content] of operatorYamlFiles()) files.set(join("deploy", "operator", file), content);
  return files;
}

function main(): void {
  const check = process.argv.includes("--check");
  const stale: string[] = [];
  for (const [rel, content] of generatedFiles()) {
    const path = join(root, rel);
    let current: string | undefined;
    try {
      current = readFileSync(path, "utf8");
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    if (check) {
      stale.push(rel);
      continue;
    }
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, content);
    console.log(`wrote ${rel}`);
  }
  if (stale.length) {
    console.error(`out of date (run npm run gen:crds): ${stale.join(", ")}`);
    process.exit(1);
  }
}

main();
