/**
 * Bounded polling: waits for a condition to hold instead of sleeping for a guessed time. Fails with
 * the last observed value when the condition does not hold within the timeout.
 */
export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  what?: string;
}

export async function waitFor<T>(
  probe: () => T | Promise<T>,
  accept: (value: T) => boolean = Boolean,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (accept(last)) return last;
    if (Date.now() >= deadline) {
      const shown = typeof last === 'string' ? last.slice(-2000) : JSON.stringify(last)?.slice(-2000);
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}; last value: ${shown}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
