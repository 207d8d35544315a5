/**
 * The SSE function (Lambda Function URL, RESPONSE_STREAM) as deployed, in its sandbox, driven with
 * Function URL events: the stream's metadata and body are captured as the Function URL would get
 * them. Items are stored through the REST function; the relay connects to a small WebSocket server
 * standing in for the WebSocket API (the function's WS_URL), to which the tests push the frames
 * fan-out would post (the whole path, fan-out included, runs in test/local/sse.test.ts). A stream
 * lasts until 10 s before the function's timeout, which each test shortens to what it needs.
 */
import '../support/quiet.js';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { DynamoStreamStore } from '../../lambdas/adapters/dynamo-stream-store.js';
import { ulidFloor } from '../../lambdas/domain/ids.js';
import type { ChatMessage, PublishedEvent, StreamItem } from '../../lambdas/domain/model.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { functionUrlEvent, startTestEnv, type TestEnv } from '../support/env.js';
import { rest } from '../support/invoke.js';
import { StreamCapture } from '../support/stream-capture.js';
import { waitFor } from '../support/wait.js';

/** What the SSE function keeps before its timeout to end the stream cleanly (lambdas/handlers/sse.ts). */
const END_MARGIN_MS = 10_000;

/** Stands in for the WebSocket API: greets each relay with `connected`, then relays what tests push. */
class RelayApi {
  private readonly rooms = new Map<WebSocket, string>();
  /** Refuses every subscription (the WebSocket API unreachable for the relay). */
  refusing = false;
  /** Sends the `connected` greeting (a task on AWS, so it may come late or after other frames). */
  greeting = true;

  private constructor(private readonly server: WebSocketServer) {
    server.on('connection', (socket, request) => {
      const room = new URL(request.url ?? '/', 'ws://x').searchParams.get('room') ?? 'general';
      this.rooms.set(socket, room);
      socket.on('close', () => this.rooms.delete(socket));
      if (this.greeting) socket.send(JSON.stringify({ event: 'connected', data: { connection_id: 'relay', room } }));
    });
  }

  static async start(): Promise<RelayApi> {
    let api: RelayApi | undefined;
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', verifyClient: () => api?.refusing !== true });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    api = new RelayApi(server);
    return api;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** What fan-out posts: a message to its room's members, broadcasts and events to everyone. */
  deliver(frame: { event: 'message' | 'broadcast'; data: ChatMessage } | { event: 'notification'; data: PublishedEvent }): void {
    for (const [socket, room] of this.rooms) {
      if (frame.event === 'message' && frame.data.room !== room) continue;
      socket.send(JSON.stringify(frame));
    }
  }

  async close(): Promise<void> {
    for (const socket of this.rooms.keys()) socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let env: TestEnv;
let relay: RelayApi;

beforeAll(async () => {
  relay = await RelayApi.start();
  env = await startTestEnv({ webSocketBase: relay.url });
});
afterAll(async () => {
  await env?.stop();
  await relay?.close();
});
beforeEach(async () => {
  await env.resetData();
});

/**
 * Opens a stream that lasts `streamMs` (the function's timeout shortened to that plus the margin
 * it keeps); `done` resolves when the invocation returned.
 */
function open(target: string, headers: Record<string, string> = {}, streamMs = 4_000) {
  const capture = new StreamCapture();
  // Restored once the invocation returned: the sandbox reads the timeout when the invocation starts.
  const restore = env.setFunctionTimeout('sse', END_MARGIN_MS + streamMs);
  const done = env.invokeStreaming('sse', functionUrlEvent('GET', target, { headers }), capture).finally(restore);
  return { capture, done };
}

/** Stores a message through the REST handler; `live` also has fan-out reach the relay. */
async function postText(content: string, room: string, live = false): Promise<ChatMessage> {
  const res = await rest('POST', '/api/message', { body: { type: 'text', content, sender: 'sse', room } });
  expect(res.status).toBe(201);
  if (live) relay.deliver({ event: 'message', data: res.body.message });
  return res.body.message;
}

describe('SSE stream', () => {
  it('streams new messages of its room, broadcasts and published events with id lines', async () => {
    const { capture, done } = open('/api/events?room=sse-room');
    await waitFor(() => capture.body, (body) => body.includes(': stream sse-room'), { what: 'the stream to open' });
    expect(capture.metadata).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' },
    });
    expect(capture.blocks()[0]).toMatchObject({ retry: LIMITS.sseRetryHintMs });

    const message = await postText('live one', 'sse-room', true);
    await postText('not for this stream', 'elsewhere', true);
    const broadcast = (await rest('POST', '/api/messages/broadcast', { body: { type: 'text', content: 'all', sender: 'ops' } })).body
      .message;
    relay.deliver({ event: 'broadcast', data: broadcast });
    const published = (await rest('POST', '/api/events/publish', { body: { event_type: 'deploy.done', data: { v: 2 } } })).body.event;
    relay.deliver({ event: 'notification', data: published });

    await waitFor(() => capture.events().length, (n) => n >= 3, { what: 'three events' });
    capture.close();
    await done;
    expect(capture.events()).toEqual([
      { id: message.id, event: 'message', data: message },
      { id: broadcast.id, event: 'broadcast', data: broadcast },
      { id: published.id, event: 'deploy.done', data: published },
    ]);
  });

  it('resumes after Last-Event-ID with no gap and no duplicate, then ends with a retry hint', async () => {
    const m1 = await postText('one', 'resume');
    const m2 = await postText('two', 'resume');
    const m3 = await postText('three', 'resume');
    const event = (await rest('POST', '/api/events/publish', { body: { event_type: 'tick', data: {} } })).body.event;
    const m4 = await postText('four', 'resume');
    await postText('other room', 'other');

    const { capture, done } = open('/api/events?room=resume', { 'Last-Event-ID': m2.id }, 150);
    await done;
    expect(capture.metadata?.statusCode).toBe(200);
    expect(capture.events()).toEqual([
      { id: m3.id, event: 'message', data: m3 },
      { id: event.id, event: 'tick', data: event },
      { id: m4.id, event: 'message', data: m4 },
    ]);
    expect(capture.events().map((e) => e.id)).not.toContain(m1.id);
    // The stream ends cleanly, before the function timeout, telling EventSource when to reconnect.
    const blocks = capture.blocks();
    const lastEvent = blocks.map((b) => b.id !== undefined).lastIndexOf(true);
    const retryAfterEvents = blocks.slice(lastEvent + 1).find((b) => b.retry !== undefined);
    expect(retryAfterEvents?.retry).toBe(LIMITS.sseRetryHintMs);
    expect(capture.writableEnded).toBe(true);
  });

  it('takes the last event id from the lastEventId query parameter too', async () => {
    const m1 = await postText('one', 'q');
    const m2 = await postText('two', 'q');
    const { capture, done } = open(`/api/events?room=q&lastEventId=${m1.id}`, {}, 100);
    await done;
    expect(capture.events().map((e) => e.id)).toEqual([m2.id]);
  });

  it('an EventSource that reconnects with the last id it saw misses nothing and sees nothing twice', async () => {
    const first = open('/api/events?room=reconnect');
    await waitFor(() => first.capture.body, (body) => body.includes(': stream reconnect'), { what: 'the stream to open' });
    const x1 = await postText('x1', 'reconnect', true);
    const x2 = await postText('x2', 'reconnect', true);
    await waitFor(() => first.capture.events().length, (n) => n >= 2, { what: 'two events' });
    first.capture.close();
    await first.done;

    // Written while the client was away.
    const x3 = await postText('x3', 'reconnect');
    const x4 = await postText('x4', 'reconnect');

    const lastSeen = first.capture.events().at(-1)!.id;
    const second = open('/api/events?room=reconnect', { 'last-event-id': lastSeen }, 100);
    await second.done;
    const seen = [...first.capture.events(), ...second.capture.events()].map((e) => e.id);
    expect(seen).toEqual([x1.id, x2.id, x3.id, x4.id]);
  });

  it('resumes a backlog larger than one read without a gap', async () => {
    // Items written a minute ago, far outside the stream's look-back window, more than one page.
    const store = new DynamoStreamStore(env.ddb, env.tables.messages);
    const base = Date.now() - 60_000;
    const total = LIMITS.sseResumeMaxItems + 20;
    const items: StreamItem[] = Array.from({ length: total }, (_, i) => {
      const id = ulidFloor(base + i);
      const message: ChatMessage = { id, type: 'text', content: `#${i}`, sender: 'old', room: 'backlog', timestamp: new Date(base + i).toISOString() };
      return { kind: 'message', stream: 'room#backlog', message };
    });
    for (let i = 0; i < items.length; i += 50) {
      await Promise.all(items.slice(i, i + 50).map((item) => store.append(item, Math.floor(Date.now() / 1000) + 3600)));
    }
    const ids = items.map((item) => (item.kind === 'event' ? item.event.id : item.message.id));

    const { capture, done } = open('/api/events?room=backlog', { 'Last-Event-ID': ids[0]! }, 6_000);
    try {
      await waitFor(() => capture.events().length, (n) => n >= total - 1, { what: 'the whole backlog', timeoutMs: 5_000 });
    } finally {
      capture.close();
      await done;
    }
    expect(capture.events().map((e) => e.id)).toEqual(ids.slice(1));
  });

  it('sends heartbeat comments while idle', async () => {
    // The deployed heartbeat interval: one stream a little longer than it.
    const { capture, done } = open('/api/events?room=idle', {}, LIMITS.sseHeartbeatMs + 1_000);
    await waitFor(() => capture.blocks().filter((b) => b.comments.includes('heartbeat')).length, (n) => n >= 1, {
      what: 'a heartbeat',
      timeoutMs: LIMITS.sseHeartbeatMs + 5_000,
    });
    capture.close();
    await done;
    expect(capture.events()).toEqual([]);
  }, 60_000);

  it('reads the last event id from the lowercase header EventSource sends', async () => {
    const m1 = await postText('one', 'h');
    const { capture, done } = open('/api/events?room=h', { 'last-event-id': ulidFloor(0) });
    await waitFor(() => capture.events().length, (n) => n >= 1, { what: 'the stored event' });
    capture.close();
    await done;
    expect(capture.events()).toEqual([{ id: m1.id, event: 'message', data: m1 }]);
  });
});

describe('SSE relay', () => {
  it('a live item that is also in the history read is sent once', async () => {
    const stored = await postText('both', 'overlap');
    const { capture, done } = open('/api/events?room=overlap', { 'Last-Event-ID': ulidFloor(0) });
    await waitFor(() => capture.events().length, (n) => n >= 1, { what: 'the stored event' });
    relay.deliver({ event: 'message', data: stored });
    const next = await postText('next', 'overlap', true);
    await waitFor(() => capture.events().length, (n) => n >= 2, { what: 'the live event' });
    capture.close();
    await done;
    expect(capture.events().map((e) => e.id)).toEqual([stored.id, next.id]);
  });

  it('the stream starts once the relay is subscribed (handshake done), without waiting for its greeting', async () => {
    relay.greeting = false;
    try {
      const { capture, done } = open('/api/events?room=no-greeting');
      await waitFor(() => capture.body, (body) => body.includes(': stream no-greeting'), { what: 'the stream to open' });
      const message = await postText('live', 'no-greeting', true);
      await waitFor(() => capture.events().length, (n) => n >= 1, { what: 'the live event' });
      capture.close();
      await done;
      expect(capture.events()).toEqual([{ id: message.id, event: 'message', data: message }]);
    } finally {
      relay.greeting = true;
    }
  });

  it('when the relay cannot subscribe, the stream ends at once with a retry hint and no event', async () => {
    relay.refusing = true;
    try {
      const { capture, done } = open('/api/events?room=down');
      await done;
      expect(capture.metadata?.statusCode).toBe(200);
      expect(capture.events()).toEqual([]);
      expect(capture.blocks().some((b) => b.retry === LIMITS.sseRetryHintMs)).toBe(true);
      expect(capture.writableEnded).toBe(true);
    } finally {
      relay.refusing = false;
    }
  });
});

describe('SSE errors: JSON error before any event', () => {
  const rows: Array<[string, string, string, Record<string, string>, number, string]> = [
    ['bad Last-Event-ID header', 'GET', '/api/events', { 'Last-Event-ID': 'not-an-id' }, 400, 'validation_error'],
    ['bad lastEventId query parameter', 'GET', '/api/events?lastEventId=12345', {}, 400, 'validation_error'],
    ['bad room', 'GET', '/api/events?room=no%20spaces', {}, 400, 'validation_error'],
    ['wrong method', 'POST', '/api/events', {}, 405, 'method_not_allowed'],
    ['unknown path', 'GET', '/api/elsewhere', {}, 404, 'not_found'],
  ];
  const cases = rows.map(([name, method, target, headers, status, code]) => ({ name, method, target, headers, status, code }));

  it.each(cases)('$name → $status $code', async ({ method, target, headers, status, code }) => {
    const capture = new StreamCapture();
    await env.invokeStreaming('sse', functionUrlEvent(method, target, { headers }), capture);
    expect(capture.metadata).toEqual({ statusCode: status, headers: { 'content-type': 'application/json; charset=utf-8' } });
    const body = JSON.parse(capture.body);
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
    expect(capture.writableEnded).toBe(true);
  });
});
