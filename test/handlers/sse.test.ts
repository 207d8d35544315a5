/**
 * The SSE handler (Lambda Function URL, RESPONSE_STREAM) driven with Function URL events through a
 * minimal `awslambda` shim: the stream's metadata prelude and body are captured from a PassThrough,
 * as the Lambda runtime would send them. Items are stored through the real REST handler; the relay
 * connects to a small WebSocket server standing in for the WebSocket API, to which the tests push
 * the frames fan-out would post (the whole path, fan-out included, runs in test/local/sse.test.ts).
 */
import '../support/quiet.js';
import type { AddressInfo } from 'node:net';
import { PassThrough, type Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { dynamoClient } from '../../lambdas/adapters/clients.js';
import { DynamoStreamStore } from '../../lambdas/adapters/dynamo-stream-store.js';
import { ulidFloor } from '../../lambdas/domain/ids.js';
import type { ChatMessage, PublishedEvent, StreamItem } from '../../lambdas/domain/model.js';
import type { ResponseMetadata } from '../../lambdas/handlers/common/streaming.js';
import type { SseOptions } from '../../lambdas/handlers/sse.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { fakeContext, functionUrlEvent, startTestEnv, type TestEnv } from '../support/env.js';
import { rest } from '../support/invoke.js';
import { waitFor } from '../support/wait.js';

type SseModule = typeof import('../../lambdas/handlers/sse.js');
/** The response stream type the streamified handler is declared with (a Writable at run time). */
type ResponseStream = Parameters<NonNullable<SseModule['handler']>>[1];

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  comments: string[];
}

/** Captures one streamed response: the runtime's metadata prelude, then the body. */
class StreamCapture {
  readonly stream = new PassThrough();
  private readonly chunks: Buffer[] = [];

  constructor() {
    this.stream.on('data', (chunk: Buffer) => this.chunks.push(Buffer.from(chunk)));
  }

  private split(): { metadata?: ResponseMetadata; body: string } {
    const all = Buffer.concat(this.chunks);
    const separator = all.indexOf(Buffer.alloc(8));
    if (separator === -1) return { body: '' };
    return { metadata: JSON.parse(all.subarray(0, separator).toString('utf8')), body: all.subarray(separator + 8).toString('utf8') };
  }

  get metadata(): ResponseMetadata | undefined {
    return this.split().metadata;
  }

  get body(): string {
    return this.split().body;
  }

  /** Parsed SSE blocks (one per blank-line-terminated block). */
  blocks(): SseEvent[] {
    return this.body
      .split('\n\n')
      .filter((block) => block.length > 0)
      .map((block) => {
        const event: SseEvent = { comments: [] };
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) event.comments.push(line.slice(1).trim());
          else if (line.startsWith('id: ')) event.id = line.slice(4);
          else if (line.startsWith('event: ')) event.event = line.slice(7);
          else if (line.startsWith('data: ')) event.data = line.slice(6);
          else if (line.startsWith('retry: ')) event.retry = Number(line.slice(7));
        }
        return event;
      });
  }

  /** The events that carry an id (messages, broadcasts, published events). */
  events(): Array<{ id: string; event: string; data: unknown }> {
    return this.blocks()
      .filter((b) => b.id !== undefined)
      .map((b) => ({ id: b.id!, event: b.event!, data: JSON.parse(b.data!) }));
  }

  /** The client goes away (EventSource closed). */
  close(): void {
    this.stream.destroy();
  }
}

/** Stands in for the WebSocket API: greets each relay with `connected`, then relays what tests push. */
class RelayApi {
  private readonly rooms = new Map<WebSocket, string>();

  private constructor(private readonly server: WebSocketServer) {
    server.on('connection', (socket, request) => {
      const room = new URL(request.url ?? '/', 'ws://x').searchParams.get('room') ?? 'general';
      this.rooms.set(socket, room);
      socket.on('close', () => this.rooms.delete(socket));
      socket.send(JSON.stringify({ event: 'connected', data: { connection_id: 'relay', room } }));
    });
  }

  static async start(): Promise<RelayApi> {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return new RelayApi(server);
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
let sse: SseModule;
const globals = globalThis as unknown as { awslambda?: unknown };
let previousRuntime: unknown;

beforeAll(async () => {
  // The Lambda runtime's streaming API, minimal: metadata JSON then 8 NUL bytes, then the body.
  previousRuntime = globals.awslambda;
  globals.awslambda = {
    streamifyResponse: <T>(fn: T) => fn,
    HttpResponseStream: {
      from(stream: Writable, metadata: ResponseMetadata): Writable {
        stream.write(JSON.stringify(metadata));
        stream.write(Buffer.alloc(8));
        return stream;
      },
    },
  };
  // Imported after the shim, so the module's `handler` export is the streamified one.
  sse = await import('../../lambdas/handlers/sse.js');
  relay = await RelayApi.start();
  process.env.WS_URL = relay.url;
  env = await startTestEnv();
});
afterAll(async () => {
  globals.awslambda = previousRuntime;
  delete process.env.WS_URL;
  await relay?.close();
  await env?.stop();
});
beforeEach(async () => {
  await env.resetData();
});

const FAST: SseOptions = { heartbeatMs: 60_000 };

function open(target: string, headers: Record<string, string> = {}, options: SseOptions = {}) {
  const capture = new StreamCapture();
  const done = sse.streamEvents(functionUrlEvent('GET', target, { headers }), capture.stream, fakeContext({ functionName: 'sse', timeoutMs: 900_000 }), {
    ...FAST,
    maxStreamMs: 10_000,
    ...options,
  });
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

    const { capture, done } = open('/api/events?room=resume', { 'Last-Event-ID': m2.id }, { maxStreamMs: 150 });
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
    expect(capture.stream.writableEnded).toBe(true);
  });

  it('takes the last event id from the lastEventId query parameter too', async () => {
    const m1 = await postText('one', 'q');
    const m2 = await postText('two', 'q');
    const { capture, done } = open(`/api/events?room=q&lastEventId=${m1.id}`, {}, { maxStreamMs: 100 });
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
    const second = open('/api/events?room=reconnect', { 'last-event-id': lastSeen }, { maxStreamMs: 100 });
    await second.done;
    const seen = [...first.capture.events(), ...second.capture.events()].map((e) => e.id);
    expect(seen).toEqual([x1.id, x2.id, x3.id, x4.id]);
  });

  it('resumes a backlog larger than one read without a gap', async () => {
    // Items written a minute ago, far outside the stream's look-back window, more than one page.
    const store = new DynamoStreamStore(dynamoClient(), env.tables.messages);
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

    const { capture, done } = open('/api/events?room=backlog', { 'Last-Event-ID': ids[0]! });
    try {
      await waitFor(() => capture.events().length, (n) => n >= total - 1, { what: 'the whole backlog', timeoutMs: 5_000 });
    } finally {
      capture.close();
      await done;
    }
    expect(capture.events().map((e) => e.id)).toEqual(ids.slice(1));
  });

  it('sends heartbeat comments while idle', async () => {
    const { capture, done } = open('/api/events?room=idle', {}, { heartbeatMs: 20 });
    await waitFor(() => capture.blocks().filter((b) => b.comments.includes('heartbeat')).length, (n) => n >= 2, {
      what: 'two heartbeats',
    });
    capture.close();
    await done;
    expect(capture.events()).toEqual([]);
  });

  it('the streamified handler export serves the same stream', async () => {
    expect(sse.handler).toBeTypeOf('function');
    const m1 = await postText('one', 'h');
    const capture = new StreamCapture();
    // The export reads WS_URL and the production heartbeat: the client closes it once the event arrived.
    const done = sse.handler!(functionUrlEvent('GET', '/api/events?room=h', { headers: { 'last-event-id': ulidFloor(0) } }), capture.stream as unknown as ResponseStream, fakeContext({ functionName: 'sse', timeoutMs: 900_000 }));
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

  it('when the relay cannot subscribe, the stream ends at once with a retry hint and no event', async () => {
    const { capture, done } = open('/api/events?room=down', {}, { relayUrl: 'ws://127.0.0.1:9' });
    await done;
    expect(capture.metadata?.statusCode).toBe(200);
    expect(capture.events()).toEqual([]);
    expect(capture.blocks().some((b) => b.retry === LIMITS.sseRetryHintMs)).toBe(true);
    expect(capture.stream.writableEnded).toBe(true);
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
    await sse.streamEvents(functionUrlEvent(method, target, { headers }), capture.stream, fakeContext({ functionName: 'sse' }), FAST);
    expect(capture.metadata).toEqual({ statusCode: status, headers: { 'content-type': 'application/json; charset=utf-8' } });
    const body = JSON.parse(capture.body);
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
    expect(capture.stream.writableEnded).toBe(true);
  });

  it('the handler export answers 400 for a bad Last-Event-ID as well', async () => {
    const capture = new StreamCapture();
    await sse.handler!(functionUrlEvent('GET', '/api/events', { headers: { 'last-event-id': 'nope' } }), capture.stream as unknown as ResponseStream, fakeContext());
    expect(capture.metadata?.statusCode).toBe(400);
    expect(JSON.parse(capture.body)).toMatchObject({ error: { code: 'validation_error' } });
  });
});
