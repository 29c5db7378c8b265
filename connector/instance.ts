/**
 * The instance index: explicit flag, then CONNECTOR_INSTANCE_INDEX, then the ordinal at the end of a
 * StatefulSet pod name in POD_NAME (`bridge-2` → 2), else 0.
 */
export function resolveInstanceIndex(flag: string | undefined, env: NodeJS.ProcessEnv): number {
  const explicit = flag ?? env["CONNECTOR_INSTANCE_INDEX"];
  if (explicit !== undefined && explicit !== "") {
    const n = Number(explicit);
    if (!Number.isInteger(n) || n < 0) throw new Error(`instance index must be a non-negative integer, got ${JSON.stringify(explicit)}`);
    return n;
  }
  return podOrdinal(env) ?? 0;
}

/** The ordinal at the end of a StatefulSet pod name in POD_NAME (`bridge-2` → 2). */
export function podOrdinal(env: NodeJS.ProcessEnv): number | undefined {
  const m = /-(\d+)$/.exec(env["POD_NAME"] ?? "");
  return m ? Number(m[1]) : undefined;
}
