/**
 * The SSE stream on the emulated streaming Function URL, read with fetch (raw bytes, as they
 * arrive) and with the `eventsource` package (what a browser's EventSource does: events by type,
 * `Last-Event-ID` on reconnect). The SSE function gets a 12.5 s timeout here, so each stream ends
 * after about 2.5 s (the handler stops 10 s before its timeout) and clients must resume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { SseClient, postJson, textMessage, uniqueRoom } from './helpers.js';

let rt: Runtime;
const sources: SseClient[] = [];

function sse(room: string, types: string[], headers?: Record<string, string>): SseClient {
  const client = new SseClient(`${rt.sseStreamUrl}?room=${encodeURIComponent(room)}`, types, { headers });
  sources.push(client);
  return client;
}

async function post(room: string, content: string): Promise<string> {
  const res = await postJson(`${rt.httpUrl}/api/message`, textMessage(content, 'sse-tester', room));
  expect(res.status).toBe(201);
  return res.body.message.id as string;
}

beforeAll(async () => {
  rt = await startRuntime({
    httpPort: 0,
    wsPort: 0,
    ssePort: 0,
    quiet: true,
    sseTimeoutMs: 12_500,
    // Cold starts before the first stream: they would eat into its short life.
    warm: true,
    context: { ratePerUser: 100_000, ratePerConnection: 100_000 },
  });
});

afterAll(async () => {
  for (const source of sources) source.close();
  await rt?.stop();
});

describe('SSE Function URL', () => {
  it('streams incrementally: headers and the first bytes arrive while the stream is open, events carry id lines', async () => {
    const room = uniqueRoom('raw');
    const origin = new URL(rt.httpUrl).origin;
    const controller = new AbortController();
    const res = await fetch(`${rt.sseStreamUrl}?room=${room}`, { headers: { origin }, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (predicate: (all: string) => boolean) => {
      while (!predicate(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before the expected data; got:\n${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    // The retry hint is written at once: it arrives long before the stream ends.
    await readUntil((all) => all.includes('retry:'));
    const id = await post(room, 'raw hello');
    await readUntil((all) => all.includes(`id: ${id}`));
    expect(text).toContain(`id: ${id}\nevent: message\ndata: `);
    controller.abort();
  });

  it('delivers room messages and published events to an EventSource, with their ids', async () => {
    const room = uniqueRoom('es');
    const client = sse(room, ['message', 'deploy']);
    await client.opened();
    const id = await post(room, 'hello sse');
    const message = await client.waitFor((e) => e.type === 'message' && e.id === id);
    expect(message.data).toMatchObject({ id, content: 'hello sse', room });

    const published = await postJson(`${rt.httpUrl}/api/events/publish`, { event_type: 'deploy', data: { version: 7 } });
    expect(published.status).toBe(201);
    const event = await client.waitFor((e) => e.type === 'deploy' && e.id === published.body.event.id);
    expect(event.data).toMatchObject({ event_type: 'deploy', data: { version: 7 } });
  });

  it('resumes after Last-Event-ID: exactly the later messages, in order', async () => {
    const room = uniqueRoom('resume');
    const ids: string[] = [];
    for (const text of ['one', 'two', 'three', 'four']) ids.push(await post(room, text));
    const client = sse(room, ['message'], { 'last-event-id': ids[1]! });
    await client.waitFor((e) => e.id === ids[3]);
    const fifth = await post(room, 'five');
    await client.waitFor((e) => e.id === fifth);
    expect(client.events.map((e) => e.id)).toEqual([ids[2], ids[3], fifth]);
  });

  it('reconnects when the stream ends (function timeout) and resumes with no gap and no duplicate', async () => {
    const room = uniqueRoom('reconnect');
    const client = sse(room, ['message']);
    await client.opened();
    const sent: string[] = [];
    // Keep sending until the client has been through at least one reconnect.
    const deadline = Date.now() + 20_000;
    while ((client.opens.length < 2 || sent.length < 3) && Date.now() < deadline) {
      const id = await post(room, `tick ${sent.length}`);
      sent.push(id);
      await client.waitFor((e) => e.id === id);
    }
    expect(client.opens.length).toBeGreaterThanOrEqual(2);
    const last = await post(room, 'after reconnect');
    sent.push(last);
    await client.waitFor((e) => e.id === last);
    expect(client.events.map((e) => e.id)).toEqual(sent);
  });

  it('answers a wrong path with 404 in the service error format, and CORS preflights', async () => {
    const res = await fetch(`${rt.sseUrl}/nope`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('not_found');
    const origin = new URL(rt.httpUrl).origin;
    const preflight = await fetch(rt.sseStreamUrl, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'last-event-id' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('last-event-id');
  });
});
