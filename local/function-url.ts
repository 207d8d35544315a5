/**
 * Lambda Function URL emulator in RESPONSE_STREAM mode, for the SSE function
 * (lib/constructs/sse.ts). The event is the payload format 2.0 event with the path preserved
 * (`GET /api/events` reaches the handler as rawPath `/api/events`), routeKey and stage `$default`.
 * The handler writes to a LocalResponseStream (streaming-shim.ts) that streams to the client as
 * it writes. CORS as configured on the Function URL: preflight answered by the service,
 * allow-origin added to the response. A handler error before the first byte gives 502 (as a
 * Function URL does for a failed invocation); after it, the connection is cut. When the function
 * timeout passes, the response ends, as Lambda ends the invocation. When the client goes away,
 * the handler is not told (as on Lambda): the invocation runs on until it returns or times out,
 * and its writes are swallowed.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FUNCTIONS } from '../lambdas/shared/routes.js';
import { answerPreflight, type CorsConfig, corsHeaders, isPreflight } from './cors.js';
import { PayloadTooLargeError, buildV2Event, readBody, sendJson } from './http-event.js';
import { closeServer, listenHttp } from './http-api.js';
import { createContext } from './lambda.js';
import type { RuntimeLogger } from './log.js';
import { LocalResponseStream, type StreamingHandler, isStreamingHandler } from './streaming-shim.js';

/** Function URL request payload limit (6 MB for the synchronous invoke behind it). */
const FUNCTION_URL_PAYLOAD_BYTES = 6 * 1024 * 1024;

export interface FunctionUrlOptions {
  host: string;
  port: number;
  handler: unknown;
  cors: CorsConfig;
  logger: RuntimeLogger;
  /** Overrides the function's timeout (tests: short streams that end and reconnect). */
  timeoutMs?: number;
}

export interface FunctionUrl {
  url: string;
  /** Invocations in progress right now (a stream whose client left still counts until it returns). */
  activeStreams(): number;
  /** `client-gone`: a client went away before its response ended; `invocation-end`: an invocation returned. */
  events: EventEmitter<{ 'client-gone': []; 'invocation-end': [] }>;
  stop(): Promise<void>;
}

export async function startFunctionUrl(options: FunctionUrlOptions): Promise<FunctionUrl> {
  const { logger } = options;
  if (!isStreamingHandler(options.handler)) {
    throw new Error('The SSE handler is not a streaming handler: install the awslambda shim before importing it');
  }
  const handler = options.handler as StreamingHandler;
  const timeoutMs = options.timeoutMs ?? FUNCTIONS.sse.timeoutSeconds * 1000;
  const streams = new Set<LocalResponseStream>();
  const events = new EventEmitter<{ 'client-gone': []; 'invocation-end': [] }>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    res.on('close', () => logger.info(`SSE ${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms`));
    if (options.cors.allowOrigins.length > 0 && isPreflight(req)) {
      answerPreflight(options.cors, req, res);
      return;
    }
    const cors = corsHeaders(options.cors, req);
    let body: Buffer;
    try {
      body = await readBody(req, FUNCTION_URL_PAYLOAD_BYTES);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) {
        sendJson(res, 413, { Message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation' }, cors);
        return;
      }
      throw error;
    }
    const event = buildV2Event(req, { routeKey: '$default', stage: '$default', apiId: 'local-sse', body });
    const stream = new LocalResponseStream(res, { ...cors, 'x-amzn-requestid': event.requestContext.requestId }, () => {
      logger.info('SSE client went away; the invocation runs on until it returns or times out');
      events.emit('client-gone');
    });
    streams.add(stream);
    const context = createContext('sse', timeoutMs);
    const timer = setTimeout(() => {
      logger.info(`SSE invocation reached its timeout (${timeoutMs} ms); ending the response`);
      if (!stream.destroyed) stream.end();
    }, timeoutMs);
    timer.unref();
    try {
      await handler(event, stream, context);
      if (!stream.writableEnded && !stream.destroyed) stream.end();
    } catch (error) {
      logger.error('sse handler failed', error);
      if (!stream.headersSent && !res.headersSent) {
        sendJson(res, 502, { Message: 'Internal Server Error' }, cors);
        stream.destroy();
      } else {
        stream.destroy(error as Error);
      }
    } finally {
      clearTimeout(timer);
      streams.delete(stream);
      events.emit('invocation-end');
    }
  };

  const { server, url } = await listenHttp(handle, options, logger, 'function url', { Message: 'Internal Server Error' });
  return {
    url,
    activeStreams: () => streams.size,
    events,
    async stop() {
      for (const stream of streams) stream.destroy();
      await closeServer(server);
    },
  };
}
