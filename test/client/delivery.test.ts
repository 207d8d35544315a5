/**
 * The client against the local runtime (auth on, as deployed): connections dropped by the service
 * while another client keeps sending, token refresh and refusal, history pages, REST sends, SSE.
 */
import '../support/quiet.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ulidFloor, ulidTime } from '../../client/src/ids.js';
import { ChatClientError, type ChatMessage, LIMITS } from '../../client/src/index.js';
import type { Runtime } from '../../local/runtime.js';
import { padTo, png } from '../support/media.js';
import { closeClients, dropConnection, recordedClient, startAuthRuntime, uniqueRoom } from './helpers.js';

let rt: Runtime;

beforeAll(async () => {
  // Short SSE streams (the function timeout minus the handler's margin), so streams end and resume.
  rt = await startAuthRuntime({ sseTimeoutMs: 12_500 });
});

afterEach(() => closeClients());

afterAll(async () => {
  await rt?.stop();
});

const tokenFor = (sub: string) => () => rt.issueToken!(sub);
const ascending = (ids: string[]) => ids.every((id, i) => i === 0 || ids[i - 1]! < id);

describe('ChatClient over the WebSocket API', () => {
  it('gets every message once and in order while the service drops its connection twice and another client keeps sending', async () => {
    const room = uniqueRoom('drop');
    const reader = recordedClient(rt, { room, getToken: tokenFor('reader') });
    const writer = recordedClient(rt, { room, getToken: tokenFor('writer') });
    await Promise.all([reader.opened(), writer.opened()]);

    const total = 40;
    // Drop the reader's connection when it has seen 10, then 25 messages (event-driven, mid-stream).
    const drops: Promise<void>[] = [];
    const dropAt = new Set([10, 25]);
    reader.client.on('message', () => {
      if (!dropAt.has(reader.messages.items.length)) return;
      // Drop k closes connection k (its greeting carries the id).
      drops.push(reader.connectionId(drops.length + 1).then((id) => dropConnection(rt, id)));
    });

    const sent: ChatMessage[] = await Promise.all(Array.from({ length: total }, (_, i) => writer.client.send(`m${i}`)));
    const sentIds = sent.map((m) => m.id);
    expect(sent.map((m) => m.content)).toEqual(Array.from({ length: total }, (_, i) => `m${i}`));
    expect(ascending(sentIds)).toBe(true);

    await reader.messages.until((items) => items.length >= total, `${total} messages at the reader`);
    await Promise.all(drops);
    expect(reader.ids()).toEqual(sentIds);
    // The writer's timeline has its own messages once, in order, too.
    expect(writer.ids()).toEqual(sentIds);
    // Both drops happened and were followed by a resume on a new connection.
    await reader.opened(3);
    expect(reader.connections.items.length).toBeGreaterThanOrEqual(3);
    expect(reader.states.items.filter((s) => s === 'reconnecting').length).toBe(2);
    expect(reader.resumes.items.length).toBe(2);
    expect(reader.errors.items).toEqual([]);

    // Nothing more arrives later (no late duplicate), checked with one more message through the same path.
    const last = await writer.client.send('last');
    await reader.messages.until((items) => items.some((m) => m.id === last.id), 'the last message');
    expect(reader.ids()).toEqual([...sentIds, last.id]);
  });

  it('queues sends while offline and delivers them, each acknowledged once, after the reconnect', async () => {
    const room = uniqueRoom('offline');
    const writer = recordedClient(rt, { room, getToken: tokenFor('writer') });
    const reader = recordedClient(rt, { room, getToken: tokenFor('reader') });
    await Promise.all([writer.opened(), reader.opened()]);
    const connectionId = await writer.connectionId(1);
    await dropConnection(rt, connectionId);
    await writer.states.until((s) => s.includes('reconnecting'), 'reconnecting');
    const queued = ['q1', 'q2', 'q3'].map((text) => writer.client.send(text));
    const sent = await Promise.all(queued);
    expect(sent.map((m) => m.content)).toEqual(['q1', 'q2', 'q3']);
    await reader.messages.until((m) => m.length >= 3, 'the queued messages');
    expect(reader.ids()).toEqual(sent.map((m) => m.id));
    expect(writer.client.pending).toBe(0);
  });

  it('resumes a later session from `after` (the lastId an earlier one stored): exactly what came after it', async () => {
    const room = uniqueRoom('session');
    const first = recordedClient(rt, { room, getToken: tokenFor('ana') });
    const earlier: string[] = [];
    for (let i = 0; i < 3; i++) earlier.push((await first.client.send(`e${i}`)).id);
    const stored = first.client.lastId;
    expect(stored).toBe(earlier.at(-1));
    first.client.close();
    const missed: string[] = [];
    const other = recordedClient(rt, { room, getToken: tokenFor('ben') });
    for (let i = 0; i < 2; i++) missed.push((await other.client.send(`m${i}`)).id);

    const next = recordedClient(rt, { room, getToken: tokenFor('ana'), after: stored });
    await next.resumes.until((r) => r.length > 0, 'the resume');
    expect(next.ids()).toEqual(missed);
  });

  it('calls getToken on every connection: an expired token is replaced by a fresh one on reconnect', async () => {
    const room = uniqueRoom('refresh');
    let calls = 0;
    let expired = false;
    const issued: string[] = [];
    const getToken = () => {
      calls++;
      // The app's token cache: once the first token has expired, it fetches another.
      const token = rt.issueToken!(expired ? 'renewed' : 'first');
      issued.push(token);
      return token;
    };
    const client = recordedClient(rt, { room, getToken });
    await client.opened();
    const [greeting] = await client.connections.until((c) => c.length > 0, 'the first greeting');
    expect(greeting!.user).toBe('first');
    const callsAtOpen = calls;
    expired = true;
    await dropConnection(rt, await client.connectionId(1));
    await client.opened(2);
    expect(calls).toBeGreaterThan(callsAtOpen);
    const second = await client.connections.until((c) => c.length >= 2, 'the second greeting');
    expect(second[1]!.user).toBe('renewed');
    const message = await client.client.send('with the renewed token');
    expect(message.sender).toBe('renewed');
  });

  it('stops with a clear token_refused error when the service refuses the token, and rejects queued sends', async () => {
    const room = uniqueRoom('refused');
    let calls = 0;
    const client = recordedClient(rt, {
      room,
      getToken: () => {
        calls++;
        return 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.forged';
      },
    });
    const send = client.client.send('never stored');
    const [error] = await client.errors.until((e) => e.length > 0, 'the refusal');
    expect(error).toBeInstanceOf(ChatClientError);
    expect(error!.code).toBe('token_refused');
    expect([401, 403]).toContain(error!.status);
    expect(error!.message).toMatch(/refused the token/);
    await expect(send).rejects.toMatchObject({ code: 'token_refused' });
    expect(client.client.state).toBe('closed');
    expect(client.states.items).not.toContain('open');
    // It stopped: no further connection attempts.
    const callsAfter = calls;
    await expect(client.client.send('after')).rejects.toMatchObject({ code: 'closed' });
    expect(calls).toBe(callsAfter);
  });

  it('pages through history with an async iterator, newest page first, every message once', async () => {
    const room = uniqueRoom('history');
    const writer = recordedClient(rt, { room, getToken: tokenFor('writer') });
    const sent: string[] = [];
    for (let i = 0; i < 7; i++) sent.push((await writer.client.send(`h${i}`)).id);
    const pages: string[][] = [];
    for await (const page of writer.client.history({ limit: 3 })) pages.push(page.map((m) => m.id));
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.reverse().flat()).toEqual(sent);
  });

  it('sends an image too large for one WebSocket frame over REST (with its client_id), in order with the others', async () => {
    const room = uniqueRoom('large');
    const posts: Array<Record<string, unknown>> = [];
    const fetchSpy: typeof fetch = async (input, init) => {
      if (init?.method === 'POST') posts.push(JSON.parse(String(init.body)));
      return fetch(input, init);
    };
    const writer = recordedClient(rt, { room, getToken: tokenFor('writer'), fetch: fetchSpy });
    const reader = recordedClient(rt, { room, getToken: tokenFor('reader') });
    await Promise.all([writer.opened(), reader.opened()]);
    const image = padTo(png(), 60 * 1024).toString('base64');
    expect(image.length).toBeGreaterThan(LIMITS.wsFrameBytes);
    const sent = await Promise.all([
      writer.client.send('before'),
      writer.client.send({ type: 'image', content: image, format: 'png' }),
      writer.client.send('after'),
    ]);
    expect(sent.map((m) => m.type)).toEqual(['text', 'image', 'text']);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ type: 'image', format: 'png', room });
    expect(posts[0]!.client_id).toMatch(/^[0-9a-f-]{36}$/);
    await reader.messages.until((m) => m.length >= 3, 'three messages');
    expect(reader.ids()).toEqual(sent.map((m) => m.id));
    expect(writer.ids()).toEqual(sent.map((m) => m.id));
  });

  it('streams SSE events and resumes with Last-Event-ID when the stream ends, and in a new iterator', async () => {
    const room = uniqueRoom('sse');
    const streamRequests: Array<string | null> = [];
    const fetchSpy: typeof fetch = async (input, init) => {
      if (String(input).includes('/api/events')) streamRequests.push(new Headers(init?.headers).get('last-event-id'));
      return fetch(input, init);
    };
    const writer = recordedClient(rt, { room, getToken: tokenFor('writer'), fetch: fetchSpy });
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) sent.push((await writer.client.send(`s${i}`)).id);

    // Starts after the first message: gets the second and third, then live ones. The stream ends
    // 2.5 s in (a 12.5 s function timeout less the handler's margin); keep sending until the
    // iterator has reconnected on its own and a message sent after that arrived.
    const seen: string[] = [];
    for await (const event of writer.client.events({ lastEventId: sent[0] })) {
      expect(event.event).toBe('message');
      seen.push(event.id);
      if (seen.length < sent.length - 1) continue;
      if (streamRequests.length >= 2 && seen.at(-1) === sent.at(-1) && sent.length > 5) break;
      sent.push((await writer.client.send(`live${sent.length}`)).id);
    }
    expect(seen).toEqual(sent.slice(1));
    expect(streamRequests[0]).toBe(sent[0]);
    // The reconnect carried the last id it had seen.
    expect(sent).toContain(streamRequests[1]);

    // A new iterator from the last id: exactly what came after it.
    const later = (await writer.client.send('later')).id;
    for await (const event of writer.client.events({ lastEventId: seen.at(-1) })) {
      expect(event.id).toBe(later);
      break;
    }
  });

  it('finds the SSE stream through the HTTP API redirect when no sseUrl is given, and stops on abort', async () => {
    const room = uniqueRoom('sse-redirect');
    const client = recordedClient(rt, { room, getToken: tokenFor('reader'), sseUrl: undefined });
    const first = (await client.client.send('one')).id;
    const controller = new AbortController();
    const events: string[] = [];
    const stream = client.client.events({ lastEventId: ulidFloor(ulidTime(first) - 1), signal: controller.signal });
    for await (const event of stream) {
      events.push(event.id);
      if (event.id === first) controller.abort();
    }
    expect(events).toEqual([first]);
  });
});
