/**
 * The Lambda response-streaming API. On AWS the `awslambda` global comes from the Node.js runtime
 * (typed by @types/aws-lambda); the local runtime installs a shim of the same shape
 * (local/streaming-shim.ts) before loading handlers, so the handler is written exactly as for AWS.
 */
import type { Writable } from 'node:stream';

export interface ResponseMetadata {
  statusCode: number;
  headers?: Record<string, string>;
}

export interface StreamingRuntime {
  HttpResponseStream: { from(stream: Writable, metadata: ResponseMetadata): Writable };
  streamifyResponse: typeof awslambda.streamifyResponse;
}

export function streamingRuntime(): StreamingRuntime {
  const runtime = (globalThis as unknown as { awslambda?: StreamingRuntime }).awslambda;
  if (!hasStreamingRuntime() || !runtime) throw new Error('awslambda streaming runtime is not available');
  return runtime;
}

/** Other libraries may create an empty `awslambda` object: only a real streaming API counts. */
export function hasStreamingRuntime(): boolean {
  const runtime = (globalThis as unknown as { awslambda?: Partial<StreamingRuntime> }).awslambda;
  return typeof runtime?.streamifyResponse === 'function' && typeof runtime.HttpResponseStream?.from === 'function';
}
