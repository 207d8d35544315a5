/**
 * A shim of the Lambda Node.js runtime's response-streaming global (`awslambda`), mapped onto a
 * node:http ServerResponse with real incremental streaming: every write goes to the socket at once
 * (no buffering, Nagle off), as a Function URL in RESPONSE_STREAM mode delivers it.
 *
 * - `awslambda.streamifyResponse(fn)` marks `fn` as a streaming handler (invoked as
 *   `fn(event, responseStream, context)`).
 * - `awslambda.HttpResponseStream.from(stream, { statusCode, headers })` sets the status and headers
 *   (sent before the first body byte) and returns the stream to write the body to, like the real
 *   runtime, which writes the metadata prelude into the same stream.
 * - Without `from()`, the response is 200 `application/octet-stream` (the Function URL default).
 * - When the HTTP client goes away, nothing tells the handler, as on Lambda: its stream stays open,
 *   its writes are swallowed, and the invocation runs until it returns or times out
 *   (https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/145).
 *
 * Install it with installStreamingShim() before importing a handler that reads the global at load.
 */
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');

export interface ResponseMetadata {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
}

/** The writable a streaming handler receives: body bytes go straight to the HTTP response. */
export class LocalResponseStream extends Writable {
  private metadata: ResponseMetadata | undefined;
  private contentType: string | undefined;
  private headSent = false;
  private gone = false;

  constructor(
    private readonly res: ServerResponse,
    /** Headers the service adds itself (CORS of the Function URL). */
    private readonly extraHeaders: Record<string, string> = {},
    /** Called once when the client goes away before the response ended (the handler is not told). */
    onClientGone?: () => void,
  ) {
    super({ decodeStrings: false });
    res.socket?.setNoDelay(true);
    res.on('close', () => {
      if (res.writableFinished) return;
      this.gone = true;
      onClientGone?.();
    });
  }

  /** The client went away before the response ended. */
  get clientGone(): boolean {
    return this.gone;
  }

  setMetadata(metadata: ResponseMetadata): void {
    if (this.headSent) throw new Error('HttpResponseStream.from() must be called before the first write');
    this.metadata = metadata;
  }

  setContentType(contentType: string): void {
    this.contentType = contentType;
  }

  get headersSent(): boolean {
    return this.headSent;
  }

  /** Sends status and headers (once). */
  sendHead(): void {
    if (this.headSent || this.res.headersSent) return;
    this.headSent = true;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(this.metadata?.headers ?? {})) headers[name.toLowerCase()] = String(value);
    if (this.contentType) headers['content-type'] = this.contentType;
    headers['content-type'] ??= 'application/octet-stream';
    if (this.metadata?.cookies?.length) headers['set-cookie'] = this.metadata.cookies;
    Object.assign(headers, this.extraHeaders);
    this.res.writeHead(this.metadata?.statusCode ?? 200, headers);
    this.res.flushHeaders();
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.sendHead();
    // Writes after the client left are swallowed, as on Lambda.
    if (this.gone || this.res.destroyed || this.res.writableEnded) {
      callback();
      return;
    }
    // res.write hands the bytes to the socket now; the callback fires once they are flushed.
    const done = (error?: Error | null) => callback(error ?? null);
    if (typeof chunk === 'string') this.res.write(chunk, encoding, done);
    else this.res.write(chunk, done);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.sendHead();
    if (this.gone || this.res.destroyed || this.res.writableEnded) {
      callback();
      return;
    }
    this.res.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.res.writableEnded && !this.res.destroyed) {
      // Aborted mid-stream (handler error, timeout, shutdown): cut the connection like Lambda does.
      if (error || this.headSent) this.res.destroy();
    }
    callback(error);
  }
}

export type StreamingHandler<E = unknown> = (event: E, responseStream: Writable, context: unknown) => unknown;

export interface AwsLambdaShim {
  streamifyResponse<E = unknown>(handler: StreamingHandler<E>): StreamingHandler<E>;
  HttpResponseStream: {
    from(stream: Writable, metadata: ResponseMetadata): Writable;
  };
}

export const awslambdaShim: AwsLambdaShim = {
  streamifyResponse(handler) {
    Object.defineProperty(handler, STREAMING, { value: 'response', enumerable: false });
    return handler;
  },
  HttpResponseStream: {
    from(stream, metadata) {
      if (stream instanceof LocalResponseStream) stream.setMetadata(metadata);
      return stream;
    },
  },
};

export function isStreamingHandler(handler: unknown): boolean {
  return typeof handler === 'function' && (handler as unknown as Record<symbol, unknown>)[STREAMING] === 'response';
}

/**
 * Installs the shim on `globalThis.awslambda` unless a real Lambda runtime already provides it.
 * The AWS SDK (through @aws/lambda-invoke-store) creates `globalThis.awslambda = {}` when it loads,
 * to hold its InvokeStore, so the shim is merged into an existing object rather than replacing it.
 */
export function installStreamingShim(): void {
  const global = globalThis as unknown as { awslambda?: Partial<AwsLambdaShim> & Record<string, unknown> };
  global.awslambda ??= {};
  const target = global.awslambda;
  if (typeof target.streamifyResponse !== 'function') target.streamifyResponse = awslambdaShim.streamifyResponse;
  if (typeof target.HttpResponseStream?.from !== 'function') target.HttpResponseStream = awslambdaShim.HttpResponseStream;
}
