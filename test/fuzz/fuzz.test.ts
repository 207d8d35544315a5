/**
 * Property-based fuzzing of every entry point: REST routes, WebSocket frames, task messages, the
 * SSE request and bearer tokens. Every generated case is invalid by construction; each must get a
 * clear client error (HTTP 4xx with {"error": {"code", "message"}}, or a WebSocket `error` event
 * with a code), never a 5xx, a thrown exception, a stack trace, or a stored item.
 *
 * Seeded and reproducible: FUZZ_SEED=<n> replays a run; FUZZ_RUNS scales the case count.
 */
import '../support/quiet.js';
import fc from 'fast-check';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHs256, verifyJwt } from '../../lambdas/auth/jwt.js';
import { ChatError } from '../../lambdas/domain/errors.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { HTTP_ROUTES, WS_ACTIONS } from '../../lambdas/shared/routes.js';
import { routesForPath } from '../../lambdas/shared/route-match.js';
import { connectionId, functionUrlEvent, startTestEnv, type TestEnv } from '../support/env.js';
import { rest, wsConnect, wsSendRaw } from '../support/invoke.js';
import { AUDIO, b64, IMAGES } from '../support/media.js';
import { StreamCapture } from '../support/stream-capture.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const SCALE = Number(process.env.FUZZ_RUNS_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const counts: Record<string, number> = {};
const count = (entry: string) => {
  counts[entry] = (counts[entry] ?? 0) + 1;
};

/** No stack frames, file paths or raw exception names in anything a client sees. */
function assertNoLeak(text: string): void {
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules|TypeError|ReferenceError|SyntaxError/);
}

function assertClientError(status: number, raw: string): void {
  expect(status, raw.slice(0, 300)).toBeGreaterThanOrEqual(400);
  expect(status, raw.slice(0, 300)).toBeLessThan(500);
  const body = JSON.parse(raw) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof body.error?.code).toBe('string');
  expect(typeof body.error?.message).toBe('string');
  assertNoLeak(raw);
}

// ---------- generators of invalid payloads ----------

const oddString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\uD800', '😀'.repeat(30), 'a'.repeat(LIMITS.senderMaxChars + 1), '<script>', '../../etc'),
);
const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 1 }));
const badRoom = fc.oneof(
  fc.constantFrom('', 'has space', 'a/b', 'x'.repeat(LIMITS.roomMaxChars + 1), 'ünï', '#hash'),
  notAString,
);
const unknownType = fc.string({ maxLength: 12 }).filter((t) => !['text', 'image', 'audio'].includes(t));
/** client_id values outside 1-64 characters of [A-Za-z0-9_-]. */
const badClientId = fc.oneof(
  notAString,
  fc.constantFrom('', 'x'.repeat(65), 'has space', 'ü', 'a/b'),
  fc.string({ minLength: 1, maxLength: 70 }).filter((v) => !/^[A-Za-z0-9_-]{1,64}$/.test(v)),
);
const mediaFormats = [...Object.keys(IMAGES), ...Object.keys(AUDIO)] as string[];

/** Base64 that is not valid: a bad character, wrong padding or a truncated tail. */
const badBase64 = fc.oneof(
  fc.string({ minLength: 1, maxLength: 60 }).map((s) => `${b64(IMAGES.png())}${s.includes('!') ? s : `!${s}`}`),
  fc.constantFrom('====', 'abc', 'ab=c', 'a===', '@@@@', 'iVBORw0KGgo'),
  fc.integer({ min: 1, max: 3 }).map((cut) => b64(IMAGES.png()).slice(0, -cut)),
);

/** A valid file declared as another format of the same kind. */
const mismatchedMedia = fc
  .tuple(fc.constantFrom<'image' | 'audio'>('image', 'audio'), fc.nat(), fc.nat())
  .map(([kind, a, b]) => {
    const table = kind === 'image' ? IMAGES : AUDIO;
    const names = Object.keys(table).filter((n) => n !== 'jpeg');
    const actual = names[a % names.length]!;
    const others = names.filter((n) => n !== actual && !(actual === 'jpg' && n === 'jpeg'));
    const declared = others[b % others.length]!;
    return { type: kind, content: b64((table as Record<string, () => Buffer>)[actual]!()), format: declared };
  });

/** Bodies of POST /api/message (and the WS `message` action) that must be rejected. */
const invalidMessage: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ content: fc.string(), sender: fc.constant('a') }), // no type
  fc.record({ type: fc.constant('text'), sender: fc.constant('a') }), // no content
  fc.record({ type: fc.constant('text'), content: fc.constant('hi') }), // no sender (auth off)
  fc.record({ type: notAString, content: fc.constant('hi'), sender: fc.constant('a') }),
  fc.record({ type: fc.constant('text'), content: notAString, sender: fc.constant('a') }),
  fc.record({ type: fc.constant('text'), content: fc.constant('hi'), sender: fc.oneof(notAString, fc.constantFrom('', '   ', 'x'.repeat(65))) }),
  fc.record({ type: unknownType, content: fc.constant('hi'), sender: fc.constant('a') }),
  fc.record({ type: fc.constant('text'), content: fc.constantFrom('', '   ', '\n\t'), sender: fc.constant('a') }),
  fc.record({ type: fc.constant('text'), content: fc.constant('x'.repeat(LIMITS.textMaxChars + 1)), sender: fc.constant('a') }),
  fc.record({ type: fc.constant('text'), content: fc.constant('hi'), sender: fc.constant('a'), room: badRoom }),
  fc.record({ type: fc.constant('text'), content: fc.constant('hi'), sender: fc.constant('a'), client_id: badClientId }),
  fc.record({ type: fc.constantFrom('image', 'audio'), content: badBase64, sender: fc.constant('a'), format: fc.constantFrom(...mediaFormats) }),
  fc.record({ type: fc.constantFrom('image', 'audio'), content: fc.constant(b64(IMAGES.png())), sender: fc.constant('a'), format: fc.oneof(fc.constantFrom('bmp', 'tiff', 'exe', ''), notAString) }),
  fc.record({ type: fc.constantFrom('image', 'audio'), content: fc.constant(b64(IMAGES.png())), sender: fc.constant('a') }), // no format
  mismatchedMedia.map((m) => ({ ...m, sender: 'a' })),
  fc.constant({ type: 'image', content: b64(Buffer.concat([IMAGES.png(), Buffer.alloc(LIMITS.mediaMaxBytes)])), sender: 'a', format: 'png' }),
  fc.record({ type: fc.constant('text'), content: fc.constant(''), sender: fc.constant('a'), extra: fc.jsonValue() }), // extra + invalid
  fc.oneof(fc.constant(null), fc.array(fc.jsonValue(), { maxLength: 3 }), fc.integer(), fc.string()), // not an object
);

const invalidJsonText = fc.oneof(
  fc.string({ maxLength: 80 }).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
  fc.json().filter((s) => s.length > 2).map((s) => s.slice(0, -1)).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
);

// ---------- the suite ----------

let env: TestEnv;
let member: string;

beforeAll(async () => {
  env = await startTestEnv();
  member = connectionId('fuzz');
  const connected = await wsConnect(member, { query: { room: 'fuzz' } });
  expect(connected.statusCode).toBe(200);
  await env.drainTasks();
  env.gateway.reset();
}, 60_000);

afterAll(async () => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(`fuzz: ${total} generated cases (seed ${SEED}): ${JSON.stringify(counts)}`);
  await env?.stop();
});

describe('fuzz: every invalid input gets a clear client error and changes nothing', () => {
  it('REST: POST bodies of /api/message and /api/messages/broadcast', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/api/message', '/api/messages/broadcast'), invalidMessage, async (path, body) => {
        count('rest-body');
        const res = await rest('POST', path, { body: JSON.stringify(body) });
        assertClientError(res.status, res.raw);
      }),
      { seed: SEED, numRuns: runs(2500), endOnFailure: true },
    );
  });

  it('REST: invalid JSON, empty and oversized bodies on every POST route', async () => {
    const posts = HTTP_ROUTES.filter((r) => r.method === 'POST').map((r) => r.path);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...posts),
        fc.oneof(invalidJsonText, fc.constantFrom('', '   ', `{"a":"${'x'.repeat(LIMITS.httpBodyMaxBytes)}"}`)),
        async (path, text) => {
          count('rest-json');
          const res = await rest('POST', path, { body: text });
          assertClientError(res.status, res.raw);
        },
      ),
      { seed: SEED + 1, numRuns: runs(1200), endOnFailure: true },
    );
  });

  it('REST: publish events with bad event_type or data', async () => {
    const badEvent = fc.oneof(
      fc.record({ data: fc.object() }),
      fc.record({ event_type: fc.oneof(notAString, fc.constantFrom('', 'has space', 'x'.repeat(65), 'ü')) }),
      fc.record({ event_type: fc.constant('ok'), data: fc.oneof(fc.array(fc.integer()), fc.string(), fc.integer(), fc.constant(null)) }),
      fc.constant({ event_type: 'big', data: { blob: 'x'.repeat(LIMITS.eventDataMaxBytes) } }),
    );
    await fc.assert(
      fc.asyncProperty(badEvent, async (body) => {
        count('rest-publish');
        const res = await rest('POST', '/api/events/publish', { body: JSON.stringify(body) });
        assertClientError(res.status, res.raw);
      }),
      { seed: SEED + 2, numRuns: runs(600), endOnFailure: true },
    );
  });

  it('REST: unknown paths, wrong methods and bad history queries', async () => {
    const routePaths = HTTP_ROUTES.map((r) => r.path);
    const badTarget = fc.oneof(
      fc
        .tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), fc.webPath())
        .map(([m, p]) => [m, `/${p.replace(/^\/+/, '')}`] as const)
        .filter(([, p]) => routesForPath(p.replace(/\/+$/, '')).length === 0),
      fc.tuple(fc.constantFrom('PUT', 'DELETE', 'PATCH'), fc.constantFrom(...routePaths)),
      fc
        .record({
          limit: fc.oneof(fc.constantFrom('0', '-1', '1.5', 'abc', '101', '1e9', ''), fc.integer({ min: 101 }).map(String)),
          room: fc.constantFrom('general', 'ok'),
        })
        .map((q) => ['GET', `/api/messages?${new URLSearchParams(q)}`] as const),
      fc.string({ minLength: 1, maxLength: 30 }).map((before) => ['GET', `/api/messages?before=${encodeURIComponent(before)}`] as const),
      fc.constantFrom('has space', 'a/b', 'x'.repeat(65)).map((room) => ['GET', `/api/messages?room=${encodeURIComponent(room)}`] as const),
      // Presence: a bad room in the path, bad paging.
      fc.constantFrom('has space', 'x'.repeat(65), 'ünï', '#hash', '%').map((room) => ['GET', `/api/rooms/${encodeURIComponent(room)}/presence`] as const),
      fc
        .record({
          limit: fc.oneof(fc.constantFrom('0', '-1', '1.5', 'abc', '101', ''), fc.integer({ min: LIMITS.presencePageUsers + 1 }).map(String)),
          cursor: fc.constantFrom('ok', 'has space', '!!', 'x'.repeat(401)),
        })
        .chain((q) => fc.constantFrom({ limit: q.limit }, { cursor: q.cursor }, { limit: '5', cursor: q.cursor }))
        .filter((q) => !('cursor' in q) || q.cursor !== 'ok')
        .map((q) => ['GET', `/api/rooms/general/presence?${new URLSearchParams(q as Record<string, string>)}`] as const),
    );
    await fc.assert(
      fc.asyncProperty(badTarget, async ([method, target]) => {
        count('rest-route');
        const res = await rest(method, target, method === 'GET' ? {} : { body: '{}' });
        assertClientError(res.status, res.raw);
      }),
      { seed: SEED + 3, numRuns: runs(1200), endOnFailure: true },
    );
  });

  it('REST: room routes with invalid bodies, path parameters, cursors and limits', async () => {
    const badUser = fc.oneof(notAString, fc.constantFrom('', 'has space', 'tab\there', 'x'.repeat(LIMITS.userIdMaxChars + 1), '\u0000', 'nl\n'));
    const badUserText = badUser.filter((u): u is string => typeof u === 'string' && u !== '');
    const badRoomText = badRoom.filter((r): r is string => typeof r === 'string' && r !== '');
    const notObject = fc.oneof(fc.constant(null), fc.array(fc.jsonValue(), { maxLength: 3 }), fc.integer(), fc.string());
    const visibility = fc.constantFrom('public', 'private');
    const createBody = fc.oneof(
      fc.record({ visibility }), // no name
      fc.record({ name: badRoom, visibility }),
      fc.record({ name: fc.constant('fuzz-room'), visibility: fc.oneof(notAString, fc.string({ maxLength: 10 }).filter((v) => v !== 'public' && v !== 'private')) }),
      fc.record({
        name: fc.constant('fuzz-room'),
        visibility,
        members: fc.oneof(
          fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.string()),
          fc.array(badUser, { minLength: 1, maxLength: 3 }),
          fc.constant(Array.from({ length: LIMITS.roomInitialMembersMax + 1 }, (_, i) => `u${i}`)),
        ),
      }),
      fc.string({ maxLength: 20 }).map((s) => ({ name: `dm:${s.replace(/[^A-Za-z0-9]/g, '')}`, visibility: 'private' })),
      notObject,
    );
    // The caller (auth off) is `anonymous`: a direct room with yourself is invalid too.
    const userBody = fc.oneof(fc.record({ user: badUser }), fc.constant({}), notObject);
    const request = fc.oneof(
      createBody.map((body) => ['POST', '/api/rooms', body] as const),
      fc.oneof(userBody, fc.constant({ user: 'anonymous' })).map((body) => ['POST', '/api/rooms/direct', body] as const),
      fc.oneof(
        badRoomText.map((room) => ['POST', `/api/rooms/${encodeURIComponent(room)}/members`, { user: 'someone' }] as const),
        userBody.map((body) => ['POST', '/api/rooms/fuzz-room/members', body] as const),
        badRoomText.map((room) => ['DELETE', `/api/rooms/${encodeURIComponent(room)}/members/someone`, undefined] as const),
        badUserText.map((user) => ['DELETE', `/api/rooms/fuzz-room/members/${encodeURIComponent(user)}`, undefined] as const),
        fc.constantFrom('%E0%A4%A', '%', '%ZZ').map((bad) => ['DELETE', `/api/rooms/fuzz-room/members/${bad}`, undefined] as const),
      ),
      fc
        .oneof(
          fc.record({ limit: fc.oneof(fc.constantFrom('0', '-1', '1.5', 'abc', '1e9', ''), fc.integer({ min: LIMITS.roomsMaxPage + 1 }).map(String)) }),
          fc.record({
            cursor: fc.oneof(
              fc.string({ minLength: 1, maxLength: 40 }),
              fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
              fc.constantFrom({ p: 'other' }, { p: 'mine', a: 'has space' }, { p: 'public', a: 7 }, { p: 'mine', a: 'x'.repeat(65) }).map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
              fc.constant('x'.repeat(1025)),
            ),
          }),
        )
        .filter((q) => {
          // Only cursors the service cannot have issued.
          if (!('cursor' in q)) return true;
          try {
            const v = JSON.parse(Buffer.from(q.cursor, 'base64url').toString('utf8')) as { p?: unknown; a?: unknown };
            return !((v?.p === 'mine' || v?.p === 'public') && (v.a === undefined || (typeof v.a === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(v.a))));
          } catch {
            return true;
          }
        })
        .map((q) => ['GET', `/api/rooms?${new URLSearchParams(q as Record<string, string>)}`, undefined] as const),
    );
    await fc.assert(
      fc.asyncProperty(request, async ([method, target, body]) => {
        count('rest-rooms');
        const res = await rest(method, target, body === undefined ? {} : { body: JSON.stringify(body) });
        assertClientError(res.status, res.raw);
      }),
      { seed: SEED + 8, numRuns: runs(1500), endOnFailure: true },
    );
    // No room was created by any of them.
    const listed = await rest('GET', '/api/rooms?limit=100');
    expect(listed.status).toBe(200);
    expect(listed.body.rooms).toEqual([]);
  });

  it('WebSocket: frames that are not JSON envelopes, unknown actions, invalid action data', async () => {
    const fieldsOf: Record<string, (m: Record<string, unknown>) => Record<string, unknown>> = {
      message: (m) => m,
      send_text: ({ content, ...rest }) => ({ ...rest, text: content }),
      send_image: ({ content, ...rest }) => ({ ...rest, image: content }),
      send_audio: ({ content, ...rest }) => ({ ...rest, audio: content }),
    };
    const frame = fc.oneof(
      // Frames starting with an Engine.IO packet type (0-6, b) go to the Socket.IO codec, which has
      // its own fuzz cases; these all start like JSON.
      invalidJsonText.map((s) => `{${s}`),
      fc.jsonValue().filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => JSON.stringify(v)).filter((s) => !/^[0-6b]/.test(s)),
      fc.record({ action: notAString, data: fc.object() }).map((v) => JSON.stringify(v)),
      fc.record({ action: fc.string({ maxLength: 20 }).filter((a) => !(WS_ACTIONS as readonly string[]).includes(a)), data: fc.jsonValue() }).map((v) => JSON.stringify(v)),
      fc
        .tuple(fc.constantFrom('message', 'send_text', 'send_image', 'send_audio'), invalidMessage)
        .filter(([, m]) => m !== null && typeof m === 'object' && !Array.isArray(m))
        .map(([action, m]) => {
          const data = fieldsOf[action]!(m as Record<string, unknown>);
          // send_text has no `type`: a body that is invalid only through its type (missing, not a
          // string, unknown, or a media type whose checks do not apply to text) would be a valid
          // send_text, so its text is made invalid too. Every other field means the same in both.
          return JSON.stringify({ action, data: action === 'send_text' && data.type !== 'text' ? { ...data, text: '' } : data });
        }),
      fc.record({ action: fc.constant('join'), data: fc.oneof(fc.record({ room: badRoom }), fc.constant({}), fc.constant(null)) }).map((v) => JSON.stringify(v)),
      fc.record({ action: fc.constant('resume'), data: fc.record({ after: fc.oneof(oddString, notAString) }) }).map((v) => JSON.stringify(v)),
      fc.record({ action: fc.constant('presence'), data: fc.oneof(fc.record({ room: badRoom }), fc.integer(), fc.string(), fc.array(fc.jsonValue())) }).map((v) => JSON.stringify(v)),
      fc
        .record({
          action: fc.constant('typing'),
          data: fc.oneof(
            fc.record({ state: fc.oneof(notAString, fc.constantFrom('', 'START', 'typing', 'stop ')) }),
            fc.record({ state: fc.constantFrom('start', 'stop'), room: badRoom }),
            fc.constant({}),
            fc.constant(null),
            fc.integer(),
          ),
        })
        .map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(frame, async (text) => {
        count('ws-frame');
        const result = await wsSendRaw(member, text);
        expect(result.statusCode).toBe(200);
        const reply = JSON.parse(result.body ?? '{}') as { event?: string; data?: { code?: string; message?: string } };
        expect(reply.event, result.body?.slice(0, 300)).toBe('error');
        expect(typeof reply.data?.code).toBe('string');
        expect(reply.data?.code).not.toBe('internal_error');
        assertNoLeak(result.body ?? '');
      }),
      { seed: SEED + 4, numRuns: runs(2500), endOnFailure: true },
    );
  });

  it('tasks: malformed task messages are reported as failed, never thrown', async () => {
    const body = fc.oneof(
      invalidJsonText,
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.record({ kind: fc.constantFrom('fanout', 'greet', 'other'), key: fc.oneof(notAString, fc.constant('')) }).map((v) => JSON.stringify(v)),
      fc.record({ kind: fc.constant('fanout'), key: fc.constant('k'), audience: fc.oneof(fc.record({ type: fc.constantFrom('room', 'nope') }), fc.constant({ type: 'connections', members: [] })), event: fc.constant({ event: 'message', data: {} }) }).map((v) => JSON.stringify(v)),
      fc
        .record({ kind: fc.constant('presence_check'), room: fc.oneof(notAString, fc.constantFrom('', 'x'.repeat(65))), user: fc.constantFrom('alice', ''), leftAt: fc.oneof(notAString, fc.constantFrom(-1, 1.5)) })
        .map((v) => JSON.stringify(v)),
      fc
        .record({ kind: fc.constant('cutoff'), room: fc.oneof(notAString, fc.constantFrom('', 'x'.repeat(65))), user: fc.oneof(notAString, fc.constant('')) })
        .map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(body, { minLength: 1, maxLength: 5 }), async (bodies) => {
        count('task');
        const records = bodies.map(
          (b, i) =>
            ({
              messageId: `m-${i}`,
              receiptHandle: `r-${i}`,
              body: b,
              attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'x', ApproximateFirstReceiveTimestamp: String(Date.now()) },
              messageAttributes: {},
              md5OfBody: '',
              eventSource: 'aws:sqs',
              eventSourceARN: env.queue.arn,
              awsRegion: 'us-east-1',
            }) as SQSRecord,
        );
        const result = await env.processRecords(records);
        expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(records.map((r) => r.messageId).sort());
      }),
      { seed: SEED + 5, numRuns: runs(800), endOnFailure: true },
    );
  });

  it('SSE: bad rooms, Last-Event-ID values, methods and paths get a 4xx JSON error before any stream', async () => {
    // A request that were valid would stream until shortly before the timeout (10 s margin): 1 s.
    const restore = env.setFunctionTimeout('sse', 11_000);
    try {
      const request = fc.oneof(
        badRoom.filter((r) => typeof r === 'string').map((room) => ({ method: 'GET', target: `/api/events?room=${encodeURIComponent(room as string)}`, headers: {} })),
        fc.oneof(oddString.filter((s) => s !== ''), fc.constantFrom('0', '01ARZ3NDEKTSV4RRFFQ69G5FA', 'zzzzzzzzzzzzzzzzzzzzzzzzzz')).map((id) => ({ method: 'GET', target: '/api/events', headers: { 'last-event-id': id } })),
        fc.constantFrom('POST', 'PUT', 'DELETE').map((method) => ({ method, target: '/api/events', headers: {} })),
        fc.webPath().map((p) => `/${p.replace(/^\/+/, '')}`).filter((p) => p.replace(/\/+$/, '') !== '/api/events' && p !== '/').map((p) => ({ method: 'GET', target: p, headers: {} })),
      );
      await fc.assert(
        fc.asyncProperty(request, async ({ method, target, headers }) => {
          count('sse');
          const out = new StreamCapture();
          await env.invokeStreaming('sse', functionUrlEvent(method, target, { headers }), out);
          const raw = out.body;
          const status = out.metadata?.statusCode;
          expect(status, `${method} ${target} ${JSON.stringify(headers)}`).toBeDefined();
          assertClientError(status!, raw);
        }),
        { seed: SEED + 6, numRuns: runs(800), endOnFailure: true },
      );
    } finally {
      restore();
    }
  });

  it('auth: malformed, tampered, expired and foreign tokens are rejected as unauthorized', async () => {
    const secret = 'fuzz-secret';
    const good = signHs256({ sub: 'u', exp: Math.floor(Date.now() / 1000) + 600 }, secret);
    const token = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((p) => p.join('.')),
      fc.nat({ max: good.length - 1 }).chain((i) => fc.string({ minLength: 1, maxLength: 1 }).map((c) => good.slice(0, i) + (good[i] === c ? '_' : c) + good.slice(i + 1))),
      fc.integer({ min: 60, max: 1e6 }).map((ago) => signHs256({ sub: 'u', exp: Math.floor(Date.now() / 1000) - ago }, secret)),
      fc.string({ minLength: 1, maxLength: 20 }).map((other) => signHs256({ sub: 'u', exp: Math.floor(Date.now() / 1000) + 600 }, `${secret}${other}`)),
      fc.constant(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"u","exp":9999999999}').toString('base64url')}.`),
      fc.constant(signHs256({ exp: Math.floor(Date.now() / 1000) + 600 }, secret)),
    );
    await fc.assert(
      fc.asyncProperty(token, async (t) => {
        count('token');
        const outcome = await verifyJwt(t, { secret }).then(
          () => 'accepted',
          (error: unknown) => (error instanceof ChatError ? error.code : `threw ${(error as Error).name}`),
        );
        expect(outcome).toBe('unauthorized');
      }),
      { seed: SEED + 7, numRuns: runs(800), endOnFailure: true },
    );
  });

  it('nothing was stored and no task was queued by any rejected case', async () => {
    expect(await env.allStoredItems()).toEqual([]);
    const drained = await env.drainTasks();
    expect(drained.processed).toEqual([]);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(10_000 * SCALE);
  });
});
