/**
 * A "Lambda sandbox" for the bench: a child process that loads handler modules (the deployed
 * bundles, or the TypeScript sources) and invokes them one at a time on request over IPC, reporting
 * for each invocation its wall time, its CPU time (process.cpuUsage of this process only: the
 * emulators run in the parent), the bytes it logged, and, with `count`, every AWS SDK request it
 * made by service and operation (through `addClientMiddleware`, with DynamoDB's consumed capacity).
 *
 * Started by `startHost()` (bench/lib/host-client.ts) on plain `node`, bundled by esbuild
 * (bench/lib/bundles.ts), so no TypeScript loader sits between the handler and what is measured.
 */
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { AwsCall } from './host-protocol.js';
import type { HostRequest, HostResponse } from './host-protocol.js';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const handlers = new Map<string, Handler>();
const memory = new Map<string, number>();
let calls: AwsCall[] = [];
let logBytes = 0;

// Handler logs (Powertools writes JSON lines to stdout) are counted, not printed: CloudWatch Logs
// bills them by the byte. The IPC channel carries the results.
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  logBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
  const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
  callback?.();
  return true;
}) as typeof process.stdout.write;

const send = (message: HostResponse) => process.send?.(message);

/** DynamoDB operations that accept ReturnConsumedCapacity. */
const CAPACITY_OPS = /^(GetItem|PutItem|UpdateItem|DeleteItem|Query|Scan|BatchGetItem|BatchWriteItem)Command$/;

function sqsBytes(op: string, input: Record<string, unknown>): number {
  const size = (v: unknown) => (typeof v === 'string' ? Buffer.byteLength(v) : v ? Buffer.byteLength(JSON.stringify(v)) : 0);
  if (op === 'SendMessageCommand') return size(input.MessageBody) + size(input.MessageAttributes);
  if (op === 'SendMessageBatchCommand') {
    return ((input.Entries as Array<Record<string, unknown>>) ?? []).reduce((n, e) => n + size(e.MessageBody) + size(e.MessageAttributes), 0);
  }
  return 0;
}

type AddClientMiddleware = (plugin: unknown) => void;

/** Counts every request of the clients a bundle builds (registered before its first call). */
function installCounter(addClientMiddleware: AddClientMiddleware): void {
  addClientMiddleware({
    applyToStack(stack: { add: (mw: unknown, options: unknown) => void }) {
      stack.add(
        (next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>, context: { clientName?: string; commandName?: string }) =>
          async (args: { input: Record<string, unknown> }) => {
            const service = (context.clientName ?? 'unknown').replace(/Client$/, '');
            const operation = (context.commandName ?? 'unknown').replace(/Command$/, '');
            if (service === 'DynamoDB' && CAPACITY_OPS.test(context.commandName ?? '')) args.input.ReturnConsumedCapacity ??= 'TOTAL';
            const call: AwsCall = { service, operation, bytes: service === 'SQS' ? sqsBytes(context.commandName ?? '', args.input) : 0 };
            if (service === 'ApiGatewayManagementApi') {
              const data = args.input.Data as Uint8Array | string | undefined;
              call.bytes = typeof data === 'string' ? Buffer.byteLength(data) : (data?.byteLength ?? 0);
            }
            try {
              const out = await next(args);
              const capacity = out.output?.ConsumedCapacity as { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> | undefined;
              if (capacity) call.capacity = (Array.isArray(capacity) ? capacity : [capacity]).reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
              call.status = 200;
              return out;
            } catch (error) {
              call.status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
              call.error = (error as Error).name;
              throw error;
            } finally {
              calls.push(call);
            }
          },
        { step: 'initialize', name: 'benchRequestCounter', override: true },
      );
    },
  });
}

function contextFor(fn: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: `bench-${fn}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:bench-${fn}`,
    memoryLimitInMB: String(memory.get(fn) ?? 256),
    awsRequestId: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`,
    logGroupName: `/aws/lambda/bench-${fn}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function onMessage(message: HostRequest): Promise<void> {
  switch (message.type) {
    case 'load': {
      try {
        for (const [fn, mb] of Object.entries(message.memory ?? {})) memory.set(fn, mb);
        for (const [fn, file] of Object.entries(message.modules)) {
          const mod = (await import(pathToFileURL(file).href)) as { handler?: Handler; addClientMiddleware?: AddClientMiddleware };
          if (typeof mod.handler !== 'function') throw new Error(`${file} exports no handler`);
          if (message.count) {
            if (!mod.addClientMiddleware) throw new Error(`${file} is not an instrumented bundle`);
            installCounter(mod.addClientMiddleware);
          }
          handlers.set(fn, mod.handler);
        }
        send({ type: 'loaded' });
      } catch (error) {
        send({ type: 'loaded', error: String((error as Error).stack ?? error) });
      }
      return;
    }
    case 'invoke': {
      const handler = handlers.get(message.fn);
      if (!handler) {
        send({ type: 'result', id: message.id, error: `no handler ${message.fn}`, wallMs: 0, cpuMs: 0, logBytes: 0, calls: [] });
        return;
      }
      calls = [];
      logBytes = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let result: unknown;
      let error: string | undefined;
      try {
        result = await handler(message.event, contextFor(message.fn, message.timeoutMs ?? 30_000));
      } catch (e) {
        error = String((e as Error).message ?? e);
      }
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      send({ type: 'result', id: message.id, result, error, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, logBytes, calls });
      return;
    }
    case 'repeat': {
      // Warm CPU: the same events, back to back, with one CPU reading around all of them.
      const handler = handlers.get(message.fn)!;
      const events = message.events;
      for (let i = 0; i < Math.min(message.warmup, events.length); i++) await handler(events[i], contextFor(message.fn, 30_000));
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let failures = 0;
      for (let i = message.warmup; i < events.length; i++) {
        const out = (await handler(events[i], contextFor(message.fn, 30_000)).catch(() => ({ failed: true }))) as {
          failed?: boolean;
          statusCode?: number;
          body?: string;
          batchItemFailures?: unknown[];
        };
        const errorFrame = typeof out?.body === 'string' && out.body.includes('"event":"error"');
        if (out?.failed || errorFrame || (out?.batchItemFailures?.length ?? 0) > 0 || (typeof out?.statusCode === 'number' && out.statusCode >= 400)) failures++;
      }
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      send({ type: 'repeated', id: message.id, n: events.length - message.warmup, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, failures });
      return;
    }
    case 'exit':
      process.exit(0);
  }
}

process.on('message', (message: HostRequest) => {
  onMessage(message).catch((error) => {
    process.stderr.write(`bench host: ${String((error as Error).stack ?? error)}\n`);
  });
});
process.on('disconnect', () => process.exit(0));
