/**
 * SSE over a Lambda Function URL with response streaming. Sends the room's messages, broadcasts
 * and published events with `id:` lines, resumes after `Last-Event-ID` (header or `lastEventId`
 * query parameter) with no gap and no duplicate, sends heartbeats, and ends before the function
 * timeout with a `retry:` hint so EventSource reconnects and resumes.
 */
import type { Writable } from 'node:stream';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { getContainer } from '../adapters/container.js';
import { authEnabled, bearerToken, verifyToken } from '../auth/authenticator.js';
import { idOf } from '../domain/chat-service.js';
import { ChatError, toErrorBody } from '../domain/errors.js';
import { isUlid, ulidFloor } from '../domain/ids.js';
import { DEFAULT_ROOM, GLOBAL_STREAM, roomStream } from '../domain/model.js';
import { roomSchema } from '../domain/schemas.js';
import { formatSse, sseComment, sseRetry } from '../domain/sse.js';
import { parseWith } from '../domain/validation.js';
import { LIMITS } from '../shared/limits.js';
import { SSE_PATH } from '../shared/routes.js';
import { logger } from './common/observability.js';
import { hasStreamingRuntime, streamingRuntime } from './common/streaming.js';

/** Items can be written with a slightly older id than one already sent (clock skew between
 * writers); each poll looks back this far and skips ids it has already sent. */
const LOOKBACK_MS = 3_000;
/** Time kept before the function timeout to end the stream cleanly. */
const END_MARGIN_MS = 10_000;

const sseQuerySchema = z.object({
  room: z._default(roomSchema, DEFAULT_ROOM),
  lastEventId: z.optional(z.string()),
  token: z.optional(z.string()),
});

export interface SseOptions {
  pollMs?: number;
  heartbeatMs?: number;
  maxStreamMs?: number;
}

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const headers = event.headers ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key ? headers[key] : undefined;
}

const sleepOrClose = (ms: number, closed: Promise<void>) =>
  Promise.race([new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.()), closed]);

export async function streamEvents(
  event: APIGatewayProxyEventV2,
  responseStream: Writable,
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  options: SseOptions = {},
): Promise<void> {
  const runtime = streamingRuntime();
  const requestId = event.requestContext?.requestId;
  logger.appendKeys({ requestId });
  let room: string;
  let resumeAfter: string | undefined;
  try {
    const method = event.requestContext?.http?.method ?? 'GET';
    const path = (event.rawPath ?? SSE_PATH).replace(/\/+$/, '');
    if (path !== SSE_PATH && path !== '') throw new ChatError('not_found', `No route for ${path.slice(0, 100)}`);
    if (method !== 'GET') throw new ChatError('method_not_allowed', 'Use GET for the event stream');
    const query = parseWith(sseQuerySchema, event.queryStringParameters ?? {}, 'query');
    // A Function URL has no authorizer: the token is verified here, before a byte is streamed.
    if (authEnabled()) await verifyToken(query.token ?? bearerToken(event.headers) ?? '');
    room = query.room;
    const lastId = header(event, 'last-event-id') ?? query.lastEventId;
    if (lastId !== undefined && lastId !== '') {
      if (!isUlid(lastId)) throw new ChatError('validation_error', 'Last-Event-ID must be an event id from this stream');
      resumeAfter = lastId;
    }
  } catch (error) {
    const { status, body } = toErrorBody(error);
    const out = runtime.HttpResponseStream.from(responseStream, {
      statusCode: status,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    out.end(JSON.stringify({ error: body }));
    return;
  }

  const out = runtime.HttpResponseStream.from(responseStream, {
    statusCode: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    },
  });
  let closed = false;
  const closedPromise = new Promise<void>((resolve) => {
    const done = () => {
      closed = true;
      resolve();
    };
    out.on('close', done);
    out.on('error', done);
  });

  const pollMs = options.pollMs ?? LIMITS.ssePollMs;
  const heartbeatMs = options.heartbeatMs ?? LIMITS.sseHeartbeatMs;
  const remaining = context?.getRemainingTimeInMillis?.() ?? LIMITS.sseMaxStreamMs + END_MARGIN_MS;
  const endAt = Date.now() + Math.min(options.maxStreamMs ?? LIMITS.sseMaxStreamMs, remaining - END_MARGIN_MS);
  const streams = [roomStream(room), GLOBAL_STREAM];
  const chat = getContainer().chat;

  // Everything after `floor` is new to this client; `sent` keeps ids within the look-back window.
  const floor = resumeAfter ?? ulidFloor(Date.now());
  const sent = new Map<string, number>();
  // Where the next read starts while a backlog comes a full page at a time (a long resume, or a
  // burst): right after the last item read. Without it the next read would start at the look-back
  // window and skip every item in between.
  let cursor: string | undefined = resumeAfter;
  let lastHeartbeat = Date.now();
  out.write(sseRetry(LIMITS.sseRetryHintMs) + sseComment(`stream ${room}`));

  try {
    while (!closed && Date.now() < endAt) {
      const now = Date.now();
      const lookback = ulidFloor(now - LOOKBACK_MS);
      const after = floor > lookback ? floor : lookback;
      const items = await chat.since(streams, cursor ?? after, LIMITS.sseResumeMaxItems);
      const fullPage = items.length >= LIMITS.sseResumeMaxItems;
      for (const item of items) {
        const id = idOf(item);
        if (id <= floor || sent.has(id)) continue;
        out.write(formatSse(item));
        sent.set(id, now);
      }
      if (fullPage) cursor = idOf(items[items.length - 1]!);
      else if (sent.size > 0) cursor = undefined;
      for (const [id, at] of sent) if (at < now - 2 * LOOKBACK_MS && sent.size > 1) sent.delete(id);
      if (Date.now() - lastHeartbeat >= heartbeatMs) {
        out.write(sseComment('heartbeat'));
        lastHeartbeat = Date.now();
      }
      if (!fullPage) await sleepOrClose(pollMs, closedPromise);
    }
  } catch (error) {
    logger.error('sse stream failed', { error: error as Error });
  }
  if (!closed) out.end(sseRetry(LIMITS.sseRetryHintMs) + sseComment('stream ends; reconnect with Last-Event-ID'));
}

/** Wrapped for streaming where the runtime provides it (AWS, or the local runtime's shim). */
export const handler = hasStreamingRuntime()
  ? streamingRuntime().streamifyResponse<APIGatewayProxyEventV2>((event, stream, context) =>
      streamEvents(event, stream, context),
    )
  : undefined;
