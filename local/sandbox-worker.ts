/**
 * Inside a function sandbox (a worker thread with its own module graph and `process.env`): the
 * Lambda Node.js runtime's part. Installs the `awslambda` streaming global, imports the handler
 * module once (the cold start), then runs the invocations the parent sends, with a Context whose
 * deadline is the function's timeout. A streaming handler writes to a relay stream whose bytes go
 * to the parent (the Function URL). As in Lambda, nothing tells the handler that the client went
 * away: the relay never closes on its own, and the invocation runs until it returns or times out
 * (https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/145).
 */
import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import type { ResponseMetadata } from './streaming-shim.js';

export interface SandboxInit {
  entry: string;
  exportName: string;
  functionName: string;
  memoryMb: number;
  region: string;
  account: string;
}

export type ToSandbox = { type: 'invoke'; id: number; event: unknown; deadline: number; requestId: string; streaming: boolean };

export type FromSandbox =
  | { type: 'ready' }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'meta'; id: number; metadata: ResponseMetadata }
  | { type: 'chunk'; id: number; data: Uint8Array }
  | { type: 'end'; id: number };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const init = workerData as SandboxInit;
const port = parentPort!;
const post = (message: FromSandbox) => port.postMessage(message);
const serialize = (error: unknown): SerializedError =>
  error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { name: 'Error', message: String(error) };

/** The response stream a streaming handler writes to: metadata and bytes relayed to the parent. */
class RelayStream extends Writable {
  private started = false;
  constructor(private readonly id: number) {
    super({ decodeStrings: true });
  }
  setMetadata(metadata: ResponseMetadata): void {
    if (this.started) throw new Error('HttpResponseStream.from() must be called before the first write');
    post({ type: 'meta', id: this.id, metadata });
  }
  setContentType(contentType: string): void {
    post({ type: 'meta', id: this.id, metadata: { headers: { 'content-type': contentType } } });
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.started = true;
    post({ type: 'chunk', id: this.id, data: new Uint8Array(chunk) });
    callback();
  }
  override _final(callback: (error?: Error | null) => void): void {
    post({ type: 'end', id: this.id });
    callback();
  }
}

const global = globalThis as unknown as { awslambda?: Record<string, unknown> };
global.awslambda ??= {};
Object.assign(global.awslambda, {
  streamifyResponse(handler: object) {
    Object.defineProperty(handler, STREAMING, { value: 'response', enumerable: false });
    return handler;
  },
  HttpResponseStream: {
    from(stream: Writable, metadata: ResponseMetadata) {
      if (stream instanceof RelayStream) stream.setMetadata(metadata);
      return stream;
    },
  },
});

function context(message: ToSandbox): Context {
  const notSupported = () => {
    throw new Error('Callback-style context methods are not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: init.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${init.region}:${init.account}:function:${init.functionName}`,
    memoryLimitInMB: String(init.memoryMb),
    awsRequestId: message.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME ?? `/aws/lambda/${init.functionName}`,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? 'local',
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: notSupported,
    fail: notSupported,
    succeed: notSupported,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: a handler of any event type
type Handler = (...args: any[]) => unknown;

async function main(): Promise<void> {
  let handler: Handler;
  try {
    const module = (await import(init.entry)) as Record<string, unknown>;
    const exported = module[init.exportName];
    if (typeof exported !== 'function') throw new Error(`${init.entry} exports no function '${init.exportName}'`);
    handler = exported as Handler;
  } catch (error) {
    post({ type: 'init-error', error: serialize(error) });
    return;
  }
  const streaming = (handler as unknown as Record<symbol, unknown>)[STREAMING] === 'response';
  port.on('message', async (message: ToSandbox) => {
    if (message.type !== 'invoke') return;
    try {
      if (message.streaming !== streaming) throw new Error(`${init.functionName}: ${streaming ? 'a streaming' : 'not a streaming'} handler`);
      if (streaming) {
        const stream = new RelayStream(message.id);
        await handler(message.event, stream, context(message));
        if (!stream.writableEnded) stream.end();
        post({ type: 'result', id: message.id, value: undefined });
        return;
      }
      const value = await handler(message.event, context(message));
      // What Lambda returns is JSON: the same serialization here.
      post({ type: 'result', id: message.id, value: value === undefined ? undefined : JSON.parse(JSON.stringify(value)) });
    } catch (error) {
      post({ type: 'error', id: message.id, error: serialize(error) });
    }
  });
  post({ type: 'ready' });
}

void main();
