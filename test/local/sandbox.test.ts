/**
 * Function sandboxes (local/sandbox.ts) with a fixture handler and functions of the real template:
 * exactly the template environment plus Lambda's own variables, module state per sandbox, the
 * template timeout ("Task timed out", then a cold start), the memory size (heap), reserved
 * concurrency (throttle), errors carried over with their name.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../lambdas/shared/routes.js';
import { type LocalResources, type ResolvedFunction, resolveFunctionTable } from '../../local/function-table.js';
import { silentLogger } from '../../local/log.js';
import { FunctionSandboxes } from '../../local/sandbox.js';
import { loadFunctionTemplate } from '../../local/template.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'sandbox-handler.mjs');
const ENDPOINTS = { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:2', AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:3' };
/** What the Lambda runtime itself sets in every function's environment. */
const LAMBDA_RUNTIME_VARIABLES = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_EXECUTION_ENV',
  'LAMBDA_TASK_ROOT',
  '_HANDLER',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
];

let table: Record<FunctionName, ResolvedFunction>;
const started: FunctionSandboxes[] = [];

beforeAll(async () => {
  const local: LocalResources = {
    region: 'us-east-1',
    account: '000000000000',
    tables: { Connections: { name: 't-Connections', arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/t-Connections' }, Messages: { name: 't-Messages', arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/t-Messages' }, Rooms: { name: 't-Rooms', arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/t-Rooms' } },
    queues: { Tasks: { url: 'http://127.0.0.1:2/000000000000/t-Tasks', arn: 'arn:aws:sqs:us-east-1:000000000000:t-Tasks', dlqUrl: 'http://127.0.0.1:2/000000000000/t-Tasks-dlq', dlqArn: 'arn:aws:sqs:us-east-1:000000000000:t-Tasks-dlq' } },
    webSocket: { apiId: 'wsapi', managementBase: 'http://127.0.0.1:4', wsBase: 'ws://127.0.0.1:5' },
    functionUrl: 'http://127.0.0.1:6/',
    functionName: (fn) => `t-${fn}`,
  };
  table = resolveFunctionTable(await loadFunctionTemplate(), local);
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

function sandboxes(fn: ResolvedFunction, options: { timeoutMs?: number; maxSandboxes?: number } = {}): FunctionSandboxes {
  const s = new FunctionSandboxes({ fn, region: 'us-east-1', account: '000000000000', endpoints: ENDPOINTS, logger: silentLogger, quiet: true, entry: FIXTURE, ...options });
  started.push(s);
  return s;
}

describe('function sandboxes', () => {
  it("gives each function exactly its template environment, resolved, plus Lambda's own variables", async () => {
    for (const name of ['http', 'sse', 'tasks'] as const) {
      const fn = table[name];
      const out = (await sandboxes(fn).invoke({ op: 'env' })) as { env: Record<string, string>; remainingMs: number; functionName: string };
      const expectedKeys = new Set([...Object.keys(fn.environment), ...LAMBDA_RUNTIME_VARIABLES, ...Object.keys(ENDPOINTS)]);
      // Node adds nothing of its own to a worker's env object given explicitly.
      expect(Object.keys(out.env).sort()).toEqual([...expectedKeys].sort());
      for (const [key, value] of Object.entries(fn.environment)) expect(out.env[key]).toBe(value);
      expect(out.functionName).toBe(`t-${name}`);
      expect(out.remainingMs).toBeLessThanOrEqual(fn.timeoutSeconds * 1000);
      expect(out.remainingMs).toBeGreaterThan(fn.timeoutSeconds * 1000 - 5000);
    }
    // Intrinsics resolved to the local resources, and AWS endpoint URLs to the local stand-ins.
    expect(table.http.environment.CONNECTIONS_TABLE).toBe('t-Connections');
    expect(table.http.environment.TASK_QUEUE_URL).toBe('http://127.0.0.1:2/000000000000/t-Tasks');
    expect(table.http.environment.SSE_URL).toBe('http://127.0.0.1:6/api/events');
    expect(table.wsMessage.environment.WS_MANAGEMENT_ENDPOINT).toBe('http://127.0.0.1:4/dev');
    expect(table.sse.environment.WS_URL).toBe('ws://127.0.0.1:5/dev');
    expect(table.http.environment.AUTH_SECRET_PARAMETER).toBe('/chat/dev/jwt-secret');
    expect(table.wsDisconnect.environment).not.toHaveProperty('AUTH_MODE');
  });

  it('keeps module state per sandbox: functions share nothing', async () => {
    const a = sandboxes(table.http);
    const b = sandboxes(table.wsConnect);
    await a.invoke({ op: 'count' });
    expect(await a.invoke({ op: 'count' })).toEqual({ invocations: 2 });
    expect(await b.invoke({ op: 'count' })).toEqual({ invocations: 1 });
  });

  it('fails an invocation at the timeout ("Task timed out") and discards its sandbox: the next one is a cold start', async () => {
    const s = sandboxes(table.http, { timeoutMs: 300, maxSandboxes: 1 });
    await s.invoke({ op: 'count' });
    await expect(s.invoke({ op: 'hang' })).rejects.toThrow('Task timed out after 0.30 seconds');
    expect(await s.invoke({ op: 'count' })).toEqual({ invocations: 1 });
  });

  it('throttles above the reserved concurrency as Lambda does', async () => {
    const s = sandboxes({ ...table.http, reservedConcurrency: 1 }, { timeoutMs: 500 });
    const first = s.invoke({ op: 'hang' });
    const second = s.invoke({ op: 'count' }).then(() => undefined, (e: Error) => e);
    expect((await second)?.name).toBe('TooManyRequestsException');
    await expect(first).rejects.toThrow('Task timed out');
  });

  it("holds each sandbox to its function's memory size: past it the sandbox dies as on Lambda, and the next invocation is a cold start", async () => {
    const small = sandboxes(table.http);
    expect(table.http.memoryMb).toBe(256);
    await expect(small.invoke({ op: 'hold', mb: 400 })).rejects.toMatchObject({ name: 'Runtime.ExitError', message: expect.stringContaining('out of memory') });
    expect(await small.invoke({ op: 'count' })).toEqual({ invocations: 1 });
    // The same work in the tasks function (1,769 MB) fits.
    expect(await sandboxes(table.tasks).invoke({ op: 'hold', mb: 400 })).toEqual({ held: 400 });
  });

  it("carries a handler's error over with its name and message", async () => {
    const error = await sandboxes(table.http).invoke({ op: 'throw' }).then(() => undefined, (e: Error) => e);
    expect(error?.name).toBe('CustomError');
    expect(error?.message).toBe('boom throw');
  });
});
