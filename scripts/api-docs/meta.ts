/**
 * Documentation metadata kept beside the product schemas instead of inside them: a private zod
 * registry maps a schema instance to its description (and enum where the service narrows a plain
 * string later, e.g. `type`). Both generators apply it through the converters' `override` hook, so
 * the product schemas stay free of documentation and the global registry is never touched.
 */
import * as z from 'zod/mini';

export interface DocMeta {
  description?: string;
  /** Values the service accepts for a field the schema only types as a string. */
  enum?: readonly string[];
  title?: string;
}

const docs = z.registry<DocMeta>();

/**
 * Attaches documentation to a schema instance. An instance shared by several fields (e.g. the
 * product's optional `room`) can be described once; describing it again differently would
 * silently change the other fields' text, so that throws.
 */
export function describe<T extends z.core.$ZodType>(schema: T, meta: DocMeta): T {
  const previous = docs.get(schema);
  if (previous?.description !== undefined && meta.description !== undefined && previous.description !== meta.description) {
    throw new Error(`API docs: schema already described as "${previous.description}", now "${meta.description}"; describe a field of its own`);
  }
  docs.add(schema, { ...previous, ...meta });
  return schema;
}

export function docMeta(schema: z.core.$ZodType): DocMeta | undefined {
  return docs.get(schema);
}

/** The `override` hook of zod's and zod-openapi's JSON Schema converters. */
export function applyDocMeta(ctx: { zodSchema: unknown; jsonSchema: Record<string, unknown> }): void {
  const meta = docs.get(ctx.zodSchema as z.core.$ZodType);
  if (!meta) return;
  if (meta.title !== undefined) ctx.jsonSchema.title = meta.title;
  if (meta.description !== undefined) ctx.jsonSchema.description = meta.description;
  if (meta.enum !== undefined) ctx.jsonSchema.enum = [...meta.enum];
}
