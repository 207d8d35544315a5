/** Retries with exponential backoff and full jitter; gives up after a fixed number of attempts. */
export interface RetryOptions {
  retries: number;
  baseMs: number;
  maxMs: number;
  /** Whether an error is worth another attempt. */
  retryable: (error: unknown) => boolean;
  /** Stop early when there is no time left (e.g. the Lambda deadline). */
  deadline?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.floor(random() * cap);
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const wait = options.sleep ?? sleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= options.retries || !options.retryable(error)) throw error;
      const delay = backoffDelay(attempt, options.baseMs, options.maxMs, options.random);
      if (options.deadline !== undefined && Date.now() + delay >= options.deadline) throw error;
      await wait(delay);
    }
  }
}

/** Runs `worker` over items with at most `limit` in flight. */
export async function forEachLimit<T>(items: readonly T[], limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await worker(item);
    }
  });
  await Promise.all(runners);
}
