/**
 * Function sandboxes: each function of the template runs in worker threads of its own, each with
 * its own module state (SDK clients, caches, the logger) and `process.env` = exactly the function's
 * resolved template environment plus the variables the Lambda runtime itself provides (region,
 * function name, memory, log group, credentials) and the SDK endpoint overrides that stand for the
 * AWS endpoints (the IAM gates). Each loads the function's deployed bundle (local/bundles.ts).
 *
 * Lambda runs one invocation per sandbox at a time and scales out with more sandboxes. Here each
 * function has a small pool (default 2 workers, one per core of a small machine): an invocation
 * takes an idle worker, else a new one (a cold start) while the pool has room, else shares the
 * least busy worker (concurrent invocations in one sandbox, which Lambda never does: module state
 * is then shared between them). Reserved concurrency is enforced: an invocation above it fails as
 * Lambda's throttle does (TooManyRequestsException, `Rate Exceeded.`). A timed-out invocation
 * fails with `Task timed out after N seconds` and its sandbox is discarded, as Lambda does. Each
 * sandbox's heap is what Lambda's Node.js runtime allows the function's memory size (heapLimits).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ResolvedFunction } from './function-table.js';
import { credentialsFor } from './iam-gate.js';
import { LambdaTimeoutError } from './lambda.js';
import type { RuntimeLogger } from './log.js';
import type { LocalResponseStream, ResponseMetadata } from './streaming-shim.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const WORKER = path.join(here, 'sandbox-worker.mjs');
/**
 * A worker inherits the runtime's own flags by default (`--import tsx` under `npm start`), which
 * would load a TypeScript loader and its source-map hooks into every sandbox (Lambda's runtime has
 * neither; they cost CPU on every invocation): a sandbox gets the CPU-profile flags only.
 */
const SANDBOX_EXEC_ARGV = process.execArgv.filter((arg) => arg.startsWith('--cpu-prof'));

/** What the sandbox worker (sandbox-worker.mjs) is started with. */
interface SandboxInit {
  entry: string;
  exportName: string;
  functionName: string;
  memoryMb: number;
  region: string;
  account: string;
}

type ToSandbox = { type: 'invoke'; id: number; event: unknown; deadline: number; requestId: string; streaming: boolean };

interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

type FromSandbox =
  | { type: 'ready' }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'meta'; id: number; metadata: ResponseMetadata }
  | { type: 'chunk'; id: number; data: Uint8Array }
  | { type: 'end'; id: number };

/**
 * The V8 heap the Lambda Node.js runtime gives a function of this memory size: its bootstrap
 * (/var/runtime/bootstrap in the Node.js base images) starts node with a new space of a tenth of
 * the memory (`--max-semi-space-size` half of it) and the rest as old space
 * (`--max-old-space-size`). A handler that outgrows it dies as on Lambda. Lambda also kills a
 * sandbox whose whole process (buffers, native memory) passes the size; worker threads share one
 * process, so only the heap is held to it here.
 */
export function heapLimits(memoryMb: number): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  const newSpace = Math.floor(memoryMb / 10);
  // V8's young generation is three semi spaces (two for scavenges, one for new large objects).
  return { maxOldGenerationSizeMb: memoryMb - newSpace, maxYoungGenerationSizeMb: 3 * Math.floor(newSpace / 2) };
}

/** What Lambda reports when node aborts on a full heap: the runtime process exited. */
function outOfMemory(memoryMb: number): Error {
  const error = new Error(`Runtime exited with error: signal: aborted (JavaScript heap out of memory at ${memoryMb} MB)`);
  error.name = 'Runtime.ExitError';
  return error;
}

export class LambdaThrottleError extends Error {
  constructor(fn: string) {
    super(`Rate Exceeded. (${fn}: reserved concurrency reached)`);
    this.name = 'TooManyRequestsException';
  }
}

/** An error the handler threw, rebuilt on this side with its name, message and stack. */
function rebuild(error: SerializedError): Error {
  const e = new Error(error.message);
  e.name = error.name;
  if (error.stack) e.stack = error.stack;
  return e;
}

export interface SandboxOptions {
  fn: ResolvedFunction;
  region: string;
  account: string;
  /** SDK endpoint overrides (the IAM gates): AWS_ENDPOINT_URL_DYNAMODB, ..._SQS, ..._SSM. */
  endpoints: Record<string, string>;
  logger: RuntimeLogger;
  /** Discard the handlers' output (tests). */
  quiet?: boolean;
  /** Print the handlers' EMF metric lines too. */
  verbose?: boolean;
  /** Workers per function (default 2). */
  maxSandboxes?: number;
  /** Overrides the template timeout (a short SSE stream in tests). */
  timeoutMs?: number;
  /** The handler module: the function's bundle (local/bundles.ts), or a test fixture. */
  entry: string;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  stream?: LocalResponseStream;
}

class SandboxWorker {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly pending = new Map<number, Pending>();
  busy = 0;
  dead = false;
  /** An invocation timed out here: no new ones; terminated once the others in flight are done. */
  retiring = false;

  constructor(init: SandboxInit, env: Record<string, string>, options: SandboxOptions) {
    this.worker = new Worker(WORKER, {
      workerData: init,
      env,
      stdout: true,
      stderr: true,
      name: init.functionName,
      execArgv: SANDBOX_EXEC_ARGV,
      resourceLimits: heapLimits(init.memoryMb),
    });
    pipeOutput(this.worker, options);
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: FromSandbox) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'init-error') reject(rebuild(message.error));
        else this.onMessage(message);
      };
      this.worker.on('message', onMessage);
      this.worker.on('error', (error) => {
        const failure = (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? outOfMemory(init.memoryMb) : error;
        reject(failure);
        this.fail(failure);
      });
      this.worker.on('exit', (code) => {
        const error = new Error(`Runtime exited with error: exit status ${code}`);
        error.name = 'Runtime.ExitError';
        reject(error);
        this.fail(error);
      });
    });
    this.ready.catch(() => undefined);
  }

  private onMessage(message: FromSandbox): void {
    if (!('id' in message)) return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    switch (message.type) {
      case 'result':
        this.pending.delete(message.id);
        pending.resolve(message.value);
        break;
      case 'error':
        this.pending.delete(message.id);
        pending.reject(rebuild(message.error));
        break;
      case 'meta':
        pending.stream?.setMetadata(mergeMetadata(pending.stream, message.metadata));
        break;
      case 'chunk':
        // Writes after the client left are swallowed, as on Lambda.
        if (pending.stream && !pending.stream.destroyed) pending.stream.write(Buffer.from(message.data));
        break;
      case 'end':
        if (pending.stream && !pending.stream.destroyed && !pending.stream.writableEnded) pending.stream.end();
        break;
    }
  }

  private fail(error: Error): void {
    this.dead = true;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  async terminate(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }
}

const metadataSeen = new WeakMap<LocalResponseStream, ResponseMetadata>();
function mergeMetadata(stream: LocalResponseStream, next: ResponseMetadata): ResponseMetadata {
  const previous = metadataSeen.get(stream) ?? {};
  const merged = { ...previous, ...next, headers: { ...previous.headers, ...next.headers } };
  metadataSeen.set(stream, merged);
  return merged;
}

function pipeOutput(worker: Worker, options: SandboxOptions): void {
  for (const [source, target] of [
    [worker.stdout, process.stdout],
    [worker.stderr, process.stderr],
  ] as const) {
    if (options.quiet) {
      source.resume();
      continue;
    }
    let rest = '';
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        // CloudWatch metrics (EMF lines) only clutter a local terminal; --verbose shows them.
        if (!options.verbose && line.startsWith('{"_aws"')) continue;
        target.write(`${line}\n`);
      }
    });
  }
}

/** The environment of a sandbox: the template's, plus what the Lambda runtime sets. */
export function sandboxEnv(options: SandboxOptions): Record<string, string> {
  const { fn } = options;
  const credentials = credentialsFor(fn);
  return {
    ...fn.environment,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    LAMBDA_TASK_ROOT: path.join(here, '..'),
    _HANDLER: fn.handler,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    ...options.endpoints,
  };
}

export class FunctionSandboxes {
  private readonly workers = new Set<SandboxWorker>();
  private inflight = 0;
  private nextId = 1;
  private stopped = false;
  private readonly init: SandboxInit;
  private readonly env: Record<string, string>;
  private readonly max: number;
  /** The invocation timeout (the template's, unless a test shortens it with setTimeout). */
  timeoutMs: number;

  constructor(private readonly options: SandboxOptions) {
    const { fn } = options;
    const exportName = fn.handler.split('.').pop() ?? 'handler';
    this.init = {
      entry: options.entry,
      exportName,
      functionName: fn.functionName,
      memoryMb: fn.memoryMb,
      region: options.region,
      account: options.account,
    };
    this.env = sandboxEnv(options);
    this.max = Math.max(1, options.maxSandboxes ?? 2);
    this.timeoutMs = options.timeoutMs ?? fn.timeoutSeconds * 1000;
  }

  /** Starts one sandbox ahead of the first invocation (npm start: no cold start on the first request). */
  async warm(): Promise<void> {
    if (this.workers.size === 0) await this.spawn().ready;
  }

  get size(): number {
    return this.workers.size;
  }

  private spawn(): SandboxWorker {
    const worker = new SandboxWorker(this.init, this.env, this.options);
    this.workers.add(worker);
    worker.worker.once('exit', () => this.workers.delete(worker));
    return worker;
  }

  private pick(): SandboxWorker {
    const live = [...this.workers].filter((w) => !w.dead && !w.retiring);
    const idle = live.find((w) => w.busy === 0);
    if (idle) return idle;
    if (live.length < this.max) return this.spawn();
    return live.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  invoke(event: unknown): Promise<unknown> {
    return this.run(event, undefined);
  }

  /** A RESPONSE_STREAM invocation: the handler's bytes go to `stream`. */
  async invokeStreaming(event: unknown, stream: LocalResponseStream): Promise<void> {
    await this.run(event, stream);
  }

  private async run(event: unknown, stream: LocalResponseStream | undefined): Promise<unknown> {
    if (this.stopped) throw new Error(`${this.options.fn.functionName}: the runtime is stopping`);
    const reserved = this.options.fn.reservedConcurrency;
    if (reserved !== undefined && this.inflight >= reserved) throw new LambdaThrottleError(this.options.fn.functionName);
    this.inflight++;
    const worker = this.pick();
    worker.busy++;
    try {
      await worker.ready;
      const id = this.nextId++;
      const deadline = Date.now() + this.timeoutMs;
      const result = new Promise<unknown>((resolve, reject) => worker.pending.set(id, { resolve, reject, stream }));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          worker.pending.delete(id);
          // Lambda discards a sandbox whose invocation timed out; invocations that share this one
          // (a pool at its limit) finish first.
          worker.retiring = true;
          reject(new LambdaTimeoutError(this.timeoutMs / 1000));
        }, this.timeoutMs);
      });
      const message: ToSandbox = { type: 'invoke', id, event, deadline, requestId: randomUUID(), streaming: stream !== undefined };
      worker.worker.postMessage(message);
      try {
        return await Promise.race([result, timeout]);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      worker.busy--;
      this.inflight--;
      if (worker.retiring && worker.busy === 0) void worker.terminate();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.workers].map((w) => w.terminate()));
    this.workers.clear();
  }
}
