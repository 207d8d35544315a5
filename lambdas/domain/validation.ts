/** Validation at the edge: a schema failure becomes a `validation_error` naming the field. */
import * as z from 'zod/mini';
import { ChatError } from './errors.js';

export function parseWith<T extends z.ZodMiniType>(schema: T, data: unknown, what: string): z.infer<T> {
  const result = z.safeParse(schema, data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    const message = issue?.message && issue.message !== 'Invalid input' ? issue.message : 'bad value';
    throw new ChatError('validation_error', `Invalid ${what}: ${where}${message}`.slice(0, 300));
  }
  return result.data as z.infer<T>;
}
