/**
 * The client's pure parts: the ids it derives resume cursors from (checked against the service's
 * own ULIDs), full-jitter backoff bounds, and that the generated wire file matches the service's
 * sources (`npm run build:client` regenerates it).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../client/src/backoff.js';
import { SeenIds, newClientId, ulidFloor, ulidTime } from '../../client/src/ids.js';
import { WS_EVENTS } from '../../client/src/generated.js';
import { parseServerFrame } from '../../client/src/protocol.js';
import { eventStream } from '../../client/src/sse.js';
import { GENERATED_PATH, generate } from '../../client/scripts/generate.js';
import { ulid, ulidFloor as serverUlidFloor } from '../../lambdas/domain/ids.js';

describe('client ids', () => {
  it('reads the time of the service ULIDs and builds the same floor ids as the service', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 47 }), (time) => {
        expect(ulidFloor(time)).toBe(serverUlidFloor(time));
        expect(ulidTime(serverUlidFloor(time))).toBe(time);
      }),
    );
    const before = Date.now();
    const id = ulid();
    expect(ulidTime(id)).toBeGreaterThanOrEqual(before);
    expect(ulidTime(id)).toBeLessThanOrEqual(Date.now());
    expect(ulidFloor(ulidTime(id)) <= id).toBe(true);
  });

  it('forgets the oldest ids beyond its bound', () => {
    const seen = new SeenIds(3);
    for (const id of ['a', 'b', 'c', 'd']) seen.add(id);
    expect(['a', 'b', 'c', 'd'].map((id) => seen.has(id))).toEqual([false, true, true, true]);
  });
});

describe('client ids and frames', () => {
  it('makes RFC 4122 version 4 client ids, also where crypto.randomUUID is missing (insecure browser contexts)', () => {
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(newClientId()).toMatch(v4);
    // Shadow the prototype's method with an own property, removed afterwards.
    Object.defineProperty(globalThis.crypto, 'randomUUID', { value: undefined, configurable: true });
    try {
      const ids = Array.from({ length: 50 }, () => newClientId());
      for (const id of ids) expect(id).toMatch(v4);
      expect(new Set(ids).size).toBe(50);
    } finally {
      delete (globalThis.crypto as { randomUUID?: unknown }).randomUUID;
    }
    expect(typeof globalThis.crypto.randomUUID).toBe('function');
  });

  it("reads the service's frames, and API Gateway's own frame for a failed integration as internal_error", () => {
    expect(parseServerFrame('{"event":"pong","data":{"timestamp":"t"}}', WS_EVENTS)).toEqual({ event: 'pong', data: { timestamp: 't' } });
    expect(parseServerFrame('{"message": "Internal server error", "connectionId": "abc=", "requestId": "r"}', WS_EVENTS)).toEqual({
      event: 'error',
      data: { code: 'internal_error', message: 'Internal server error' },
    });
    for (const raw of ['not json', '{"event":"unknown","data":{}}', 'null', '42', '{"data":{}}']) {
      expect(parseServerFrame(raw, WS_EVENTS)).toBeUndefined();
    }
  });
});

describe('backoff', () => {
  it('waits between 0 and min(max, base * 2^attempt), spread over the whole range', () => {
    const options = { baseMs: 100, maxMs: 5_000 };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const delay = backoffDelay(attempt, options, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(Math.max(1, Math.min(options.maxMs, options.baseMs * 2 ** attempt)));
      }),
    );
    expect(backoffDelay(3, options, () => 0.999999)).toBe(799);
    expect(backoffDelay(20, options, () => 0.5)).toBe(2_500);
    expect(backoffDelay(3, options, () => 0)).toBe(0);
  });
});

describe('generated wire file', () => {
  it('is what the generator makes from the service sources today', () => {
    expect(readFileSync(GENERATED_PATH, 'utf8')).toBe(generate());
  });
});

describe('SSE reader', () => {
  /** A stream served in awkward chunks: split inside lines and inside a CRLF. */
  const streamOf = (text: string, cut: number) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(text);
        for (let i = 0; i < bytes.length; i += cut) controller.enqueue(bytes.slice(i, i + cut));
        controller.close();
      },
    });

  it('parses ids, event names, multi-line data, comments, CRLF and retry hints, and reconnects with Last-Event-ID', async () => {
    const bodies = [
      ': heartbeat\r\nretry: 5\r\n\r\nid: 01A\r\nevent: message\r\ndata: {"id":"01A",\r\ndata: "content":"a"}\r\n\r\n',
      'id: 01A\nevent: message\ndata: {"id":"01A"}\n\nid: 01B\nevent: deploy\ndata: {"id":"01B","event_type":"deploy"}\n\n',
    ];
    const requests: Array<{ url: string; lastEventId: string | null }> = [];
    const fakeFetch = (async (url: URL, init: RequestInit) => {
      requests.push({ url: String(url), lastEventId: new Headers(init.headers).get('last-event-id') });
      const body = bodies.shift();
      return body === undefined ? new Response('gone', { status: 503 }) : new Response(streamOf(body, 7), { status: 200 });
    }) as unknown as typeof fetch;
    const controller = new AbortController();
    const events: unknown[] = [];
    const settings = { url: 'https://sse.example/api/events', room: 'r1', getToken: () => 'tok', fetch: fakeFetch, backoff: { baseMs: 1, maxMs: 1 } };
    for await (const event of eventStream(settings, { signal: controller.signal })) {
      events.push(event);
      if (events.length === 2) controller.abort();
    }
    expect(events).toEqual([
      { id: '01A', event: 'message', data: { id: '01A', content: 'a' } },
      { id: '01B', event: 'deploy', data: { id: '01B', event_type: 'deploy' } },
    ]);
    expect(requests).toEqual([
      { url: 'https://sse.example/api/events?room=r1&token=tok', lastEventId: null },
      { url: 'https://sse.example/api/events?room=r1&token=tok', lastEventId: '01A' },
    ]);
  });

  it('stops with token_refused on 401/403 instead of retrying', async () => {
    let calls = 0;
    const fakeFetch = (async () => {
      calls++;
      return new Response('{"error":{"code":"unauthorized","message":"bad token"}}', { status: 401 });
    }) as unknown as typeof fetch;
    const settings = { url: 'https://sse.example/api/events', room: 'r1', getToken: () => 'tok', fetch: fakeFetch, backoff: { baseMs: 1, maxMs: 1 } };
    await expect(eventStream(settings).next()).rejects.toMatchObject({ code: 'token_refused', status: 401 });
    expect(calls).toBe(1);
  });
});
