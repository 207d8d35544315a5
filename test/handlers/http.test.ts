/**
 * REST handler (HTTP API payload 2.0) against dynalite + fauxqs and a recording @connections
 * endpoint: every route of the seed and of the history extension, what is stored, what each
 * WebSocket connection receives after the fan-out tasks ran, and every error path.
 */
import '../support/quiet.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isUlid } from '../../lambdas/domain/ids.js';
import type { ChatMessage, PublishedEvent } from '../../lambdas/domain/model.js';
import { LIMITS, MEDIA_MAX_BASE64_CHARS } from '../../lambdas/shared/limits.js';
import { HTTP_ROUTES } from '../../lambdas/shared/routes.js';
import { connectionId, startTestEnv, type TestEnv } from '../support/env.js';
import { rest, wsConnect, wsSend } from '../support/invoke.js';
import { AUDIO, b64, IMAGES, mp3Frame, padTo, png, wav } from '../support/media.js';

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv();
});
afterAll(async () => {
  await env?.stop();
});
beforeEach(async () => {
  await env.resetData();
});

/** Connects WebSocket clients and delivers their `connected` greetings, then forgets the frames. */
async function connectClients(rooms: Record<string, string | null>): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const [name, room] of Object.entries(rooms)) {
    const id = connectionId(`${name}-`);
    const result = await wsConnect(id, room ? { query: { room } } : {});
    expect(result.statusCode).toBe(200);
    if (room === null) expect((await wsSend(id, { action: 'leave' })).event).toBe('left');
    ids[name] = id;
  }
  await env.drainTasks();
  env.gateway.reset();
  return ids;
}

async function expectNothingStored(): Promise<void> {
  expect(await env.allStoredItems()).toEqual([]);
  expect(await env.receiveRecords()).toEqual([]);
  expect(env.gateway.requests).toEqual([]);
}

function expectMessageShape(message: ChatMessage, expected: Partial<ChatMessage>): void {
  expect(isUlid(message.id)).toBe(true);
  expect(new Date(message.timestamp).toISOString()).toBe(message.timestamp);
  expect(Math.abs(Date.parse(message.timestamp) - Date.now())).toBeLessThan(60_000);
  expect(message).toMatchObject(expected);
}

describe('GET /api/health', () => {
  it('answers 200 with the service status as JSON', async () => {
    const res = await rest('GET', '/api/health');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ status: 'healthy', service: 'chat-service' });
    expect(Number.isNaN(Date.parse(res.body.timestamp))).toBe(false);
  });

  it('ignores a trailing slash', async () => {
    expect((await rest('GET', '/api/health/')).status).toBe(200);
  });
});

describe('POST /api/message', () => {
  it('stores a text message, answers 201 with its server id, and fans it out to the room only', async () => {
    const ids = await connectClients({ alice: 'general', bob: 'general', carol: 'other' });
    const res = await rest('POST', '/api/message', { body: { type: 'text', content: 'hello world', sender: 'api-user' } });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('success');
    const message = res.body.message as ChatMessage;
    expectMessageShape(message, { type: 'text', content: 'hello world', sender: 'api-user', room: 'general' });
    expect(message.format).toBeUndefined();

    const stored = await env.allStoredItems();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ stream: 'room#general', id: message.id, kind: 'message' });
    const ttl = stored[0]!.ttl as number;
    expect(ttl).toBeGreaterThan(Date.now() / 1000 + (LIMITS.defaultRetentionDays - 1) * 86_400);
    expect(ttl).toBeLessThan(Date.now() / 1000 + (LIMITS.defaultRetentionDays + 1) * 86_400);
    expect(await env.streamItems('room#general')).toEqual([{ kind: 'message', stream: 'room#general', message }]);

    await env.drainTasks();
    expect(env.gateway.eventsFor(ids.alice!)).toEqual([{ event: 'message', data: message }]);
    expect(env.gateway.eventsFor(ids.bob!)).toEqual([{ event: 'message', data: message }]);
    expect(env.gateway.eventsFor(ids.carol!)).toEqual([]);
    expect(env.gateway.requests.every((r) => r.signed)).toBe(true);
  });

  it('delivers to the room named in the body', async () => {
    const ids = await connectClients({ inLobby: 'lobby', inGeneral: 'general' });
    const res = await rest('POST', '/api/message', { body: { type: 'text', content: 'hi lobby', sender: 's', room: 'lobby' } });
    expect(res.status).toBe(201);
    expect(res.body.message.room).toBe('lobby');
    expect((await env.streamItems('room#lobby')).map((i) => i.kind)).toEqual(['message']);
    expect(await env.streamItems('room#general')).toEqual([]);
    await env.drainTasks();
    expect(env.gateway.eventsFor(ids.inLobby!).map((f) => f.event)).toEqual(['message']);
    expect(env.gateway.eventsFor(ids.inGeneral!)).toEqual([]);
  });

  it('accepts a base64-encoded request body (isBase64Encoded)', async () => {
    const res = await rest('POST', '/api/message', { body: { type: 'text', content: 'é ✓', sender: 'b' }, base64: true });
    expect(res.status).toBe(201);
    expect(res.body.message.content).toBe('é ✓');
  });

  it('accepts text of exactly the maximum length', async () => {
    const res = await rest('POST', '/api/message', { body: { type: 'text', content: 'x'.repeat(LIMITS.textMaxChars), sender: 's' } });
    expect(res.status).toBe(201);
  });

  for (const [format, build] of Object.entries(IMAGES)) {
    it(`stores an image message (${format}) whose bytes match the format`, async () => {
      const ids = await connectClients({ peer: 'general' });
      const content = b64(build());
      const res = await rest('POST', '/api/message', { body: { type: 'image', content, sender: 'cam', format } });
      expect(res.status).toBe(201);
      expectMessageShape(res.body.message, { type: 'image', content, sender: 'cam', format, room: 'general' });
      expect((await env.streamItems('room#general'))[0]).toMatchObject({ message: { content, format } });
      await env.drainTasks();
      expect(env.gateway.eventsFor(ids.peer!)).toEqual([{ event: 'message', data: res.body.message }]);
    });
  }

  for (const [format, build] of Object.entries(AUDIO)) {
    it(`stores an audio message (${format}) whose bytes match the format`, async () => {
      const content = b64(build());
      const res = await rest('POST', '/api/message', { body: { type: 'audio', content, sender: 'mic', format } });
      expect(res.status).toBe(201);
      expectMessageShape(res.body.message, { type: 'audio', content, format, room: 'general' });
      expect(await env.streamItems('room#general')).toHaveLength(1);
    });
  }

  it('recognizes an mp3 without an ID3 tag by its frame sync', async () => {
    const res = await rest('POST', '/api/message', { body: { type: 'audio', content: b64(mp3Frame()), sender: 'm', format: 'mp3' } });
    expect(res.status).toBe(201);
  });

  it('accepts a data-URL prefix and stores the bare base64; the format is case-insensitive', async () => {
    const bare = b64(png());
    const res = await rest('POST', '/api/message', {
      body: { type: 'image', content: `data:image/png;base64,${bare}`, sender: 's', format: 'PNG' },
    });
    expect(res.status).toBe(201);
    expect(res.body.message.content).toBe(bare);
    expect(res.body.message.format).toBe('png');
  });

  it('accepts media of exactly the maximum size', async () => {
    const content = b64(padTo(png(), LIMITS.mediaMaxBytes));
    const res = await rest('POST', '/api/message', { body: { type: 'image', content, sender: 's', format: 'png' } });
    expect(res.status).toBe(201);
    // The largest message still fits one WebSocket message once wrapped in its event envelope.
    expect(Buffer.byteLength(JSON.stringify({ event: 'message', data: res.body.message }))).toBeLessThanOrEqual(
      LIMITS.wsMessageBytes,
    );
  });
});

describe('POST /api/messages/broadcast', () => {
  it('stores the broadcast in the global stream and delivers `broadcast` to every connection', async () => {
    const ids = await connectClients({ a: 'general', b: 'lobby', c: 'games', roomless: null });
    const res = await rest('POST', '/api/messages/broadcast', { body: { type: 'text', content: 'maintenance at 5', sender: 'ops' } });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('success');
    const message = res.body.message as ChatMessage;
    expectMessageShape(message, { type: 'text', content: 'maintenance at 5', sender: 'ops', room: 'global' });
    expect(await env.streamItems('global')).toEqual([{ kind: 'broadcast', stream: 'global', message }]);

    await env.drainTasks();
    for (const id of Object.values(ids)) expect(env.gateway.eventsFor(id)).toEqual([{ event: 'broadcast', data: message }]);
  });

  it('broadcasts media too', async () => {
    const res = await rest('POST', '/api/messages/broadcast', {
      body: { type: 'audio', content: b64(wav()), sender: 'ops', format: 'wav' },
    });
    expect(res.status).toBe(201);
    expect(res.body.message).toMatchObject({ type: 'audio', format: 'wav' });
  });
});

describe('POST /api/events/publish', () => {
  it('stores the event and delivers it to every WebSocket connection as `notification`', async () => {
    const ids = await connectClients({ a: 'general', b: 'lobby' });
    const res = await rest('POST', '/api/events/publish', { body: { event_type: 'deploy.finished', data: { version: '1.2.3', ok: true } } });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('success');
    const event = res.body.event as PublishedEvent;
    expect(isUlid(event.id)).toBe(true);
    expect(event).toMatchObject({ event_type: 'deploy.finished', data: { version: '1.2.3', ok: true } });
    expect(await env.streamItems('global')).toEqual([{ kind: 'event', stream: 'global', event }]);

    await env.drainTasks();
    expect(env.gateway.eventsFor(ids.a!)).toEqual([{ event: 'notification', data: event }]);
    expect(env.gateway.eventsFor(ids.b!)).toEqual([{ event: 'notification', data: event }]);
  });

  it('defaults data to an empty object', async () => {
    const res = await rest('POST', '/api/events/publish', { body: { event_type: 'ping' } });
    expect(res.status).toBe(201);
    expect(res.body.event.data).toEqual({});
  });
});

describe('GET /api/messages (history)', () => {
  async function post(room: string, n: number): Promise<ChatMessage[]> {
    const out: ChatMessage[] = [];
    for (let i = 0; i < n; i++) {
      const res = await rest('POST', '/api/message', { body: { type: 'text', content: `${room} #${i}`, sender: 'h', room } });
      expect(res.status).toBe(201);
      out.push(res.body.message);
    }
    return out;
  }

  it('pages back through a room with before/limit and next_before, without gaps or duplicates', async () => {
    const sent = await post('history', 5);
    await post('elsewhere', 2);
    await rest('POST', '/api/messages/broadcast', { body: { type: 'text', content: 'not history of a room', sender: 'ops' } });

    const first = await rest('GET', '/api/messages?room=history&limit=2');
    expect(first.status).toBe(200);
    expect(first.body.room).toBe('history');
    // Newest page first, oldest first within the page.
    expect(first.body.messages).toEqual(sent.slice(3, 5));
    expect(first.body.next_before).toBe(sent[3]!.id);

    const second = await rest('GET', `/api/messages?room=history&limit=2&before=${first.body.next_before}`);
    expect(second.body.messages).toEqual(sent.slice(1, 3));
    expect(second.body.next_before).toBe(sent[1]!.id);

    const third = await rest('GET', `/api/messages?room=history&limit=2&before=${second.body.next_before}`);
    expect(third.body.messages).toEqual(sent.slice(0, 1));
    expect(third.body.next_before).toBeNull();
  });

  it('returns no next_before when the page holds exactly the rest', async () => {
    const sent = await post('exact', 3);
    const res = await rest('GET', '/api/messages?room=exact&limit=3');
    expect(res.body.messages).toEqual(sent);
    expect(res.body.next_before).toBeNull();
  });

  it('defaults to room general and a page of the default size', async () => {
    const sent = await post('general', 3);
    const res = await rest('GET', '/api/messages');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ room: 'general', messages: sent, next_before: null });
  });

  it('answers an empty page for an unknown room', async () => {
    const res = await rest('GET', '/api/messages?room=nobody-here');
    expect(res.body).toEqual({ room: 'nobody-here', messages: [], next_before: null });
  });
});

describe('GET /api/events', () => {
  /** The stream URL the template gives the function: the Function URL plus the stream path. */
  const sseUrl = () => env.functions.http.environment.SSE_URL;

  it('redirects (307) to the SSE stream URL', async () => {
    const res = await rest('GET', '/api/events');
    expect(res.status).toBe(307);
    expect(sseUrl()).toMatch(/^https:\/\/.+\/api\/events$/);
    expect(res.headers.location).toBe(sseUrl());
    expect(res.raw).toBe('');
  });

  it('keeps the query string', async () => {
    const res = await rest('GET', '/api/events?room=lobby&lastEventId=01ARZ3NDEKTSV4RRFFQ69G5FAV');
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe(`${sseUrl()}?room=lobby&lastEventId=01ARZ3NDEKTSV4RRFFQ69G5FAV`);
  });
});

describe('error paths: clear 4xx, nothing stored, nothing queued, nothing delivered', () => {
  const text = (content: unknown, extra: Record<string, unknown> = {}) => ({ type: 'text', content, sender: 'x', ...extra });
  const image = (content: string, format?: string) => ({ type: 'image', content, sender: 'x', ...(format ? { format } : {}) });
  const audio = (content: string, format?: string) => ({ type: 'audio', content, sender: 'x', ...(format ? { format } : {}) });
  const tooBigPng = b64(padTo(png(), LIMITS.mediaMaxBytes + 1));

  const rows: Array<[string, string, string, unknown, number, string]> = [
    ['invalid JSON', 'POST', '/api/message', '{"type": "text", ', 400, 'invalid_json'],
    ['empty body', 'POST', '/api/message', '', 400, 'invalid_json'],
    ['JSON that is not an object', 'POST', '/api/message', '["text"]', 400, 'validation_error'],
    ['JSON null', 'POST', '/api/message', 'null', 400, 'validation_error'],
    ['missing content', 'POST', '/api/message', { type: 'text', sender: 'x' }, 400, 'validation_error'],
    ['missing sender', 'POST', '/api/message', { type: 'text', content: 'hi' }, 400, 'validation_error'],
    ['missing type', 'POST', '/api/message', { content: 'hi', sender: 'x' }, 400, 'validation_error'],
    ['blank sender', 'POST', '/api/message', text('hi', { sender: '   ' }), 400, 'validation_error'],
    ['sender too long', 'POST', '/api/message', text('hi', { sender: 's'.repeat(LIMITS.senderMaxChars + 1) }), 400, 'validation_error'],
    ['content of the wrong type', 'POST', '/api/message', text(42), 400, 'validation_error'],
    ['type of the wrong type', 'POST', '/api/message', { type: 1, content: 'hi', sender: 'x' }, 400, 'validation_error'],
    ['bad room', 'POST', '/api/message', text('hi', { room: 'no spaces!' }), 400, 'validation_error'],
    ['room too long', 'POST', '/api/message', text('hi', { room: 'r'.repeat(LIMITS.roomMaxChars + 1) }), 400, 'validation_error'],
    ['unknown type', 'POST', '/api/message', { type: 'video', content: 'AAAA', sender: 'x' }, 400, 'unsupported_type'],
    ['blank text', 'POST', '/api/message', text('   '), 400, 'validation_error'],
    ['text with a media format', 'POST', '/api/message', text('hi', { format: 'png' }), 400, 'validation_error'],
    ['oversize text', 'POST', '/api/message', text('x'.repeat(LIMITS.textMaxChars + 1)), 413, 'payload_too_large'],
    ['bad base64', 'POST', '/api/message', image('not*base64!', 'png'), 400, 'invalid_base64'],
    ['base64 of a wrong length', 'POST', '/api/message', image(b64(png()).slice(0, -1), 'png'), 400, 'invalid_base64'],
    ['empty media', 'POST', '/api/message', image('', 'png'), 400, 'validation_error'],
    ['image without format', 'POST', '/api/message', image(b64(png())), 400, 'validation_error'],
    ['unsupported image format', 'POST', '/api/message', image(b64(png()), 'bmp'), 400, 'unsupported_type'],
    ['audio format on an image', 'POST', '/api/message', image(b64(wav()), 'wav'), 400, 'unsupported_type'],
    ['image format mismatch (png declared gif)', 'POST', '/api/message', image(b64(png()), 'gif'), 400, 'format_mismatch'],
    ['image format mismatch (wav declared webp)', 'POST', '/api/message', image(b64(wav()), 'webp'), 400, 'format_mismatch'],
    ['unrecognizable image bytes', 'POST', '/api/message', image(b64(Buffer.from('hello world!')), 'png'), 400, 'format_mismatch'],
    ['audio format mismatch (png declared mp3)', 'POST', '/api/message', audio(b64(png()), 'mp3'), 400, 'format_mismatch'],
    ['unsupported audio format', 'POST', '/api/message', audio(b64(wav()), 'flac'), 400, 'unsupported_type'],
    ['oversize media', 'POST', '/api/message', image(tooBigPng, 'png'), 413, 'payload_too_large'],
    [
      'oversize body',
      'POST',
      '/api/message',
      text('x'.repeat(LIMITS.httpBodyMaxBytes + 1)),
      413,
      'payload_too_large',
    ],
    ['broadcast: invalid JSON', 'POST', '/api/messages/broadcast', '{', 400, 'invalid_json'],
    ['broadcast: unknown type', 'POST', '/api/messages/broadcast', { type: 'file', content: 'x', sender: 'x' }, 400, 'unsupported_type'],
    ['broadcast: missing sender', 'POST', '/api/messages/broadcast', { type: 'text', content: 'x' }, 400, 'validation_error'],
    ['broadcast: format mismatch', 'POST', '/api/messages/broadcast', image(b64(png()), 'jpg'), 400, 'format_mismatch'],
    ['broadcast: oversize media', 'POST', '/api/messages/broadcast', image(tooBigPng, 'png'), 413, 'payload_too_large'],
    ['publish: invalid JSON', 'POST', '/api/events/publish', 'event_type=x', 400, 'invalid_json'],
    ['publish: missing event_type', 'POST', '/api/events/publish', { data: {} }, 400, 'validation_error'],
    ['publish: bad event_type', 'POST', '/api/events/publish', { event_type: 'two words' }, 400, 'validation_error'],
    ['publish: data not an object', 'POST', '/api/events/publish', { event_type: 'x', data: [1, 2] }, 400, 'validation_error'],
    ['publish: data a string', 'POST', '/api/events/publish', { event_type: 'x', data: 'text' }, 400, 'validation_error'],
    [
      'publish: oversize data',
      'POST',
      '/api/events/publish',
      { event_type: 'x', data: { blob: 'x'.repeat(LIMITS.eventDataMaxBytes) } },
      413,
      'payload_too_large',
    ],
    ['unknown route', 'GET', '/api/nope', undefined, 404, 'not_found'],
    ['unknown route (POST)', 'POST', '/api/messages/everyone', { type: 'text', content: 'x', sender: 'x' }, 404, 'not_found'],
    ['root path', 'GET', '/', undefined, 404, 'not_found'],
    ['wrong method on health', 'POST', '/api/health', {}, 405, 'method_not_allowed'],
    ['wrong method on message', 'GET', '/api/message', undefined, 405, 'method_not_allowed'],
    ['wrong method on history', 'DELETE', '/api/messages', undefined, 405, 'method_not_allowed'],
    ['wrong method on events', 'PUT', '/api/events', {}, 405, 'method_not_allowed'],
    ['history: limit 0', 'GET', '/api/messages?limit=0', undefined, 400, 'validation_error'],
    ['history: limit too big', 'GET', `/api/messages?limit=${LIMITS.historyMaxPage + 1}`, undefined, 400, 'validation_error'],
    ['history: limit not a number', 'GET', '/api/messages?limit=ten', undefined, 400, 'validation_error'],
    ['history: fractional limit', 'GET', '/api/messages?limit=1.5', undefined, 400, 'validation_error'],
    ['history: before not an id', 'GET', '/api/messages?before=yesterday', undefined, 400, 'validation_error'],
    ['history: bad room', 'GET', '/api/messages?room=a%20b', undefined, 400, 'validation_error'],
  ];

  const cases = rows.map(([name, method, path, body, status, code]) => ({ name, method, path, body, status, code }));

  it.each(cases)('$name: $method $path answers $status $code', async ({ method, path, body, status, code }) => {
    const ids = await connectClients({ watcher: 'general' });
    const res = await rest(method, path, body === undefined ? {} : { body });
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.error.code).toBe(code);
    expect(typeof res.body.error.message).toBe('string');
    expect(res.body.error.message.length).toBeGreaterThan(0);
    expect(res.raw).not.toMatch(/\bat .+\.(ts|js):\d+|Error:|stack/);
    await expectNothingStored();
    expect(env.gateway.eventsFor(ids.watcher!)).toEqual([]);
  });

  it('media just over the limit is rejected by its base64 length before decoding', () => {
    expect(tooBigPng.length).toBeGreaterThan(MEDIA_MAX_BASE64_CHARS);
  });

  it('hides internal failures behind a generic 500 without details', async () => {
    // DynamoDB answers every call of the function as for a table that does not exist.
    env.injectFaults({
      decide: (call) =>
        call.service === 'dynamodb'
          ? {
              type: 'respond',
              response: {
                status: 400,
                headers: { 'content-type': 'application/x-amz-json-1.0' },
                body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'Requested resource not found' }),
              },
            }
          : undefined,
    });
    try {
      const res = await rest('POST', '/api/message', { body: { type: 'text', content: 'hi', sender: 'x' } });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
    } finally {
      env.injectFaults(undefined);
    }
    await expectNothingStored();
  });

  it('every route of the route table is served', async () => {
    for (const route of HTTP_ROUTES) {
      const res = await rest(route.method, route.path, route.method === 'POST' ? { body: {} } : {});
      expect([200, 307, 400]).toContain(res.status);
    }
  });
});
