/**
 * Examples are only ever put into a document through `example()`: it parses the value with the
 * schema it illustrates (a product schema for requests and client frames, a wire schema for
 * answers) and fails the generator when it does not parse. The test also walks the finished
 * documents and checks that every example in them went through here.
 */
import * as z from 'zod/mini';

export interface Example<T = unknown> {
  name: string;
  summary: string;
  value: T;
  schema: z.core.$ZodType;
  /** Where it illustrates, for error messages. */
  what: string;
}

export function example<S extends z.core.$ZodType>(schema: S, what: string, name: string, summary: string, value: z.input<S>): Example<z.input<S>> {
  const result = z.safeParse(schema, value);
  if (!result.success) {
    throw new Error(`API docs: example "${name}" of ${what} does not parse: ${JSON.stringify(result.error.issues[0])}`);
  }
  return { name, summary, value, schema, what };
}
