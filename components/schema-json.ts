/**
 * Plain-JSON views of the TypeBox schema. TypeBox keeps bookkeeping under symbol keys; everything
 * derived from the schema here (CRDs, args types) works on string keys only.
 */

/** A JSON-schema node as plain data. */
export interface JsonSchema {
  [keyword: string]: unknown;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep copy keeping only own string keys (drops TypeBox's symbol keys). */
export function plainJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainJson);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = plainJson(value[key]);
  return out;
}

export function schemaProperties(schema: JsonSchema): Record<string, JsonSchema> {
  const props = schema["properties"];
  return isRecord(props) ? (props as Record<string, JsonSchema>) : {};
}

export function schemaRequired(schema: JsonSchema): string[] {
  const req = schema["required"];
  return Array.isArray(req) ? req.filter((r): r is string => typeof r === "string") : [];
}

/** Keys of an `exactlyOneOf` (a `oneOf` made only of `required` lists), or empty. */
export function exactlyOneOfKeys(schema: JsonSchema): string[] {
  const oneOf = schema["oneOf"];
  if (!Array.isArray(oneOf)) return [];
  return oneOf.flatMap((b) => (isRecord(b) && Array.isArray(b["required"]) ? (b["required"] as string[]) : []));
}
