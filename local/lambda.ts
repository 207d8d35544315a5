/**
 * How the local runtime invokes a handler "as Lambda would": a Context object with the fields the
 * Node.js runtime provides (awsRequestId, functionName, getRemainingTimeInMillis, ...), and the
 * function's timeout from lambdas/shared/routes.ts (FUNCTIONS), after which the invocation counts
 * as failed ("Task timed out after N seconds"), exactly like a Lambda timeout. The handler code
 * keeps running in the background (a real sandbox would be frozen), so nothing is torn down.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { FUNCTIONS, type FunctionName } from '../lambdas/shared/routes.js';
import { LOCAL_REGION } from './emulators.js';

export const LOCAL_ACCOUNT = '000000000000';

export class LambdaTimeoutError extends Error {
  constructor(seconds: number) {
    super(`Task timed out after ${seconds.toFixed(2)} seconds`);
    this.name = 'Sandbox.Timedout';
  }
}

export function functionNameOf(fn: FunctionName, prefix = 'chat-local-'): string {
  return `${prefix}${FUNCTIONS[fn].entry}`;
}

/** A Lambda Context whose deadline starts now. */
export function createContext(fn: FunctionName, timeoutMs: number = FUNCTIONS[fn].timeoutSeconds * 1000): Context {
  const deadline = Date.now() + timeoutMs;
  const functionName = functionNameOf(fn);
  const notSupported = () => {
    throw new Error('Callback-style context methods are not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: String(FUNCTIONS[fn].memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: notSupported,
    fail: notSupported,
    succeed: notSupported,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: handlers of every event type go through here
export type AnyHandler = (event: any, context: Context) => unknown;

export interface InvokeOptions {
  /** Overrides the function's configured timeout (tests). */
  timeoutMs?: number;
}

/**
 * Invokes a promise-style handler (middy functions are) and rejects with LambdaTimeoutError when
 * it does not settle within the function's timeout.
 */
export async function invoke<R = unknown>(fn: FunctionName, handler: AnyHandler, event: unknown, options: InvokeOptions = {}): Promise<R> {
  const timeoutMs = options.timeoutMs ?? FUNCTIONS[fn].timeoutSeconds * 1000;
  const context = createContext(fn, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LambdaTimeoutError(timeoutMs / 1000)), timeoutMs);
    timer.unref();
  });
  try {
    return (await Promise.race([Promise.resolve().then(() => handler(event, context)), timeout])) as R;
  } finally {
    clearTimeout(timer);
  }
}

/** Random id in the style of API Gateway request and connection ids (`Abc123xyz0=`). */
export function gatewayId(length = 15): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  // 62 symbols from bytes: the slight modulo bias does not matter for ids.
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return `${out}=`;
}

/** `12/Mar/2020:19:03:58 +0000`, the requestContext.time format of API Gateway. */
export function gatewayTime(epochMs: number): string {
  const d = new Date(epochMs);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
