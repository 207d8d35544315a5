/**
 * Independent steps run at once (one round trip instead of several), with two guarantees the
 * plain `Promise.all` lacks: every step has settled before this returns or throws (nothing is left
 * in flight when Lambda freezes the sandbox), and a failure is reported in argument order, so
 * the same error wins whichever step answered first.
 */
export async function atOnce<T extends readonly unknown[]>(...steps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(steps);
  const values: unknown[] = [];
  for (const result of settled) {
    if (result.status === 'rejected') throw result.reason;
    values.push(result.value);
  }
  return values as unknown as T;
}
