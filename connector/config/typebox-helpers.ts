import { Type, type TSchema, type TObject, type TArray, type TProperties, type Static, type SchemaOptions, type TOptional } from "@sinclair/typebox";

/**
 * Marks a property as having a default. The schema gets a JSON-Schema `default` (so Ajv and the
 * Kubernetes API server both fill it in), and `Resolved<>` treats the property as always present.
 */
declare const DefaultedBrand: unique symbol;
export type Defaulted<T extends TSchema> = TOptional<T> & { [DefaultedBrand]: true };

export function withDefault<T extends TSchema>(schema: T, value: Static<T>): Defaulted<T> {
  return Type.Optional({ ...schema, default: value } as T) as Defaulted<T>;
}

/** A string enum rendered as `{type: string, enum: [...]}`: CRD structural schemas reject `anyOf`/`const`. */
export function StringEnum<const V extends readonly string[]>(values: V, options: SchemaOptions = {}) {
  return Type.Unsafe<V[number]>({ ...options, type: "string", enum: [...values] });
}

export function IntEnum<const V extends readonly number[]>(values: V, options: SchemaOptions = {}) {
  return Type.Unsafe<V[number]>({ ...options, type: "integer", enum: [...values] });
}

/** Object that rejects unknown fields (Ajv) and is pruned/strict-validated by Kubernetes. */
export function Strict<P extends TProperties>(properties: P, options: SchemaOptions = {}): TObject<P> {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

/**
 * Allows one of the listed keys or none (an empty object); a rule elsewhere says when none is
 * enough. Structural too: the extra branch is a bare `maxProperties: 0`.
 */
export function atMostOneOf(keys: readonly string[]): { oneOf: ({ required: string[] } | { maxProperties: 0 })[] } {
  return { oneOf: [...exactlyOneOf(keys).oneOf, { maxProperties: 0 }] };
}

/** Requires exactly one of the listed keys; structural-schema friendly (`oneOf` of `required` only). */
export function exactlyOneOf(keys: readonly string[]): { oneOf: { required: string[] }[] } {
  return { oneOf: keys.map((k) => ({ required: [k] })) };
}

type IsDefaulted<S> = S extends { [DefaultedBrand]: true } ? true : false;
type IsOptional<S> = S extends TOptional<TSchema> ? true : false;

type ResolvedProps<P extends TProperties> = {
  -readonly [K in keyof P as IsDefaulted<P[K]> extends true ? K : IsOptional<P[K]> extends true ? never : K]: Resolved<P[K]>;
} & {
  -readonly [K in keyof P as IsDefaulted<P[K]> extends true ? never : IsOptional<P[K]> extends true ? K : never]?: Resolved<P[K]>;
};

/** The static type of a document after validation filled in every default. */
export type Resolved<S extends TSchema> = S extends TObject<infer P>
  ? Flatten<ResolvedProps<P>>
  : S extends TArray<infer I>
    ? Resolved<I>[]
    : Static<S>;

type Flatten<T> = { [K in keyof T]: T[K] };
