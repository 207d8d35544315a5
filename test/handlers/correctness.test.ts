/**
 * Correctness at the edges: rooms whose messages pass DynamoDB's 1 MB Query page, a resume that
 * runs into the function's deadline, rate limits on every WebSocket action, and client-supplied
 * ids that make a retried send store and deliver the message once.
 */
import '../support/quiet.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StreamHistory } from '../../lambdas/domain/history.js';
import type { ChatMessage, StreamItem } from '../../lambdas/domain/model.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { LOW_RATE_LIMITS, startTestEnv, type TestEnv } from '../support/env.js';
import { connectClients as connectClientsIn, rest, wsSend } from '../support/invoke.js';
import { b64, padTo, png } from '../support/media.js';

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

const connectClients = (rooms: Record<string, string>) => connectClientsIn(env, rooms);

/** An image of ~80 KB: 24 of them are about 2.6 MB of base64, more than two Query pages. */
const IMAGE = b64(padTo(png(), 80 * 1024));

async function postImages(room: string, count: number): Promise<ChatMessage[]> {
  const messages: ChatMessage[] = [];
  for (let i = 0; i < count; i++) {
    const res = await rest('POST', '/api/message', { body: { type: 'image', content: IMAGE, format: 'png', sender: `s${i}`, room } });
    expect(res.status, res.raw.slice(0, 200)).toBe(201);
    messages.push(res.body.message);
  }
  return messages;
}

describe('Query pages stop at 1 MB', () => {
  it('history returns every message of a room larger than 1 MB through next_before', async () => {
    const posted = await postImages('big', 24);
    const seen: string[] = [];
    let before: string | null = null;
    for (let page = 0; page < 30; page++) {
      const query: string = `/api/messages?room=big&limit=50${before ? `&before=${before}` : ''}`;
      const res = await rest('GET', query);
      expect(res.status).toBe(200);
      seen.unshift(...res.body.messages.map((m: ChatMessage) => m.id));
      before = res.body.next_before;
      if (!before) break;
    }
    expect(seen).toEqual(posted.map((m) => m.id));
  });

  it('resume replays every missed message of a room larger than 1 MB, complete only when it is', async () => {
    const ids = await connectClients({ back: 'big' });
    const posted = await postImages('big', 24);
    env.gateway.reset();
    const reply = await wsSend(ids.back!, { action: 'resume', data: { after: posted[0]!.id } });
    const replayed = env.gateway.eventsFor(ids.back!).map((f) => (f.data as ChatMessage).id);
    expect(replayed).toEqual(posted.slice(1).map((m) => m.id));
    expect(reply).toEqual({ event: 'resumed', data: { room: 'big', count: 23, last_id: posted[23]!.id, complete: true } });
  });
});

describe('history pages stay under the Lambda response limit', () => {
  it('a page ends at historyPageMaxBytes of content, and next_before continues from there', async () => {
    const big = 'x'.repeat(200 * 1024);
    const items: StreamItem[] = Array.from({ length: 60 }, (_, i) => {
      const id = `01M8D6FCB0GMYR4YWQEB1X${String(100 + i).padStart(4, '0')}`;
      return { kind: 'message', stream: 'room#r', message: { id, type: 'text', content: big, sender: 's', room: 'r', timestamp: '2026-01-01T00:00:00.000Z' } };
    });
    const newestFirst = [...items].reverse();
    const history = new StreamHistory({
      pageBefore: async (_stream, before, limit) => newestFirst.filter((it) => before === undefined || it.kind !== 'event' && it.message.id < before).slice(0, limit),
      pageAfter: async () => [],
    });
    const first = await history.history('r', undefined, 50);
    const bytes = first.messages.reduce((n, m) => n + JSON.stringify(m).length, 0);
    expect(bytes).toBeLessThanOrEqual(LIMITS.historyPageMaxBytes);
    expect(first.messages.length).toBeLessThan(50);
    expect(first.nextBefore).toBe(first.messages[0]!.id);
    const ids = first.messages.map((m) => m.id);
    let before = first.nextBefore;
    while (before) {
      const page = await history.history('r', before, 50);
      ids.unshift(...page.messages.map((m) => m.id));
      before = page.nextBefore;
    }
    expect(ids).toEqual(items.map((it) => (it.kind === 'event' ? '' : it.message.id)));
  });
});

describe('resume and the function deadline', () => {
  /**
   * The function's timeout shortened to `timeoutMs`; with `holdPost`, the post of frame number
   * `after + 1` to the connection is held `ms` at the @connections gate (a slow post): once it is
   * through, less than the reply margin is left.
   */
  async function withDeadline<T>(timeoutMs: number, holdPost: { after: number; ms: number } | undefined, run: () => Promise<T>): Promise<T> {
    let posts = 0;
    env.injectFaults({
      decide: (call) => {
        if (!holdPost || call.service !== 'execute-api' || call.request.method !== 'POST') return undefined;
        posts++;
        return posts === holdPost.after + 1 ? { type: 'delay', ms: holdPost.ms } : undefined;
      },
    });
    const restore = env.setFunctionTimeout('wsMessage', timeoutMs);
    try {
      return await run();
    } finally {
      restore();
      env.injectFaults(undefined);
    }
  }

  it('stops before the deadline with complete: false and the id to continue from; continuing replays the rest once', async () => {
    const ids = await connectClients({ back: 'late' });
    const posted = await postImages('late', 8);
    env.gateway.reset();
    // 5 s to live; the 4th post takes 4.2 s: after it, under a second (the reply margin) is left.
    expect(LIMITS.replyMarginMs).toBeGreaterThan(5_000 - 4_200);
    const first = await withDeadline(5_000, { after: 3, ms: 4_200 }, () => wsSend(ids.back!, { action: 'resume', data: { after: posted[0]!.id } }));
    const sent = env.gateway.framesFor(ids.back!).length;
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(sent).toBeLessThan(7);
    expect(first).toEqual({ event: 'resumed', data: { room: 'late', count: sent, last_id: posted[sent]!.id, complete: false } });

    const second = await wsSend(ids.back!, { action: 'resume', data: { after: posted[sent]!.id } });
    expect(second).toEqual({ event: 'resumed', data: { room: 'late', count: 7 - sent, last_id: posted[7]!.id, complete: true } });
    const replayed = env.gateway.eventsFor(ids.back!).map((f) => (f.data as ChatMessage).id);
    expect(replayed).toEqual(posted.slice(1).map((m) => m.id));
  });

  it('with no time left at all it sends nothing and says where to continue', async () => {
    const ids = await connectClients({ back: 'none' });
    const posted = await postImages('none', 2);
    env.gateway.reset();
    // A timeout shorter than the reply margin: out of time from the start.
    const reply = await withDeadline(LIMITS.replyMarginMs - 100, undefined, () => wsSend(ids.back!, { action: 'resume', data: { after: posted[0]!.id } }));
    expect(reply).toEqual({ event: 'resumed', data: { room: 'none', count: 0, last_id: posted[0]!.id, complete: false } });
    expect(env.gateway.framesFor(ids.back!)).toEqual([]);
  });
});

describe('every WebSocket action counts toward the rate limit', () => {
  // Deployed with low limits (CDK context): another template, another environment.
  let lowLimits: TestEnv;
  beforeAll(async () => {
    lowLimits = await startTestEnv({ context: LOW_RATE_LIMITS });
  });
  afterAll(async () => {
    await lowLimits?.stop();
  });
  beforeEach(async () => {
    await lowLimits.resetData();
  });

  it.each([
    ['ping', {}],
    ['join', { room: 'elsewhere' }],
    ['resume', { after: '00000000000000000000000000' }],
    ['leave', {}],
  ])('%s', async (action, data) => {
    const ids = await connectClientsIn(lowLimits, { busy: 'general' });
    for (let i = 0; i < 3; i++) expect((await wsSend(ids.busy!, { action, data })).event).not.toBe('error');
    const limited = await wsSend(ids.busy!, { action, data });
    expect(limited).toMatchObject({ event: 'error', data: { code: 'rate_limited' } });
  });
});

describe('client-supplied ids', () => {
  it('POST /api/message: a retry with the same client_id answers the original message, stored and delivered once', async () => {
    const ids = await connectClients({ reader: 'retry' });
    const body = { type: 'text', content: 'once', sender: 'ana', room: 'retry', client_id: 'c-1_A' };
    const first = await rest('POST', '/api/message', { body });
    expect(first.status).toBe(201);
    expect(first.body.message).toMatchObject({ content: 'once', client_id: 'c-1_A' });
    const again = await rest('POST', '/api/message', { body });
    expect(again.status).toBe(201);
    expect(again.body.message).toEqual(first.body.message);
    await env.drainTasks();
    expect(await env.streamItems('room#retry')).toHaveLength(1);
    expect(env.gateway.eventsFor(ids.reader!)).toEqual([{ event: 'message', data: first.body.message }]);
  });

  it('WebSocket send_text: a retry gets message_received with the same id; the room sees it once', async () => {
    const ids = await connectClients({ writer: 'ws-retry', reader: 'ws-retry' });
    const frame = { action: 'send_text', data: { text: 'hello once', sender: 'ana', client_id: 'k42' } };
    const first = await wsSend(ids.writer!, frame);
    const again = await wsSend(ids.writer!, frame);
    expect(first.event).toBe('message_received');
    expect(again).toEqual(first);
    expect((first.data as { message: ChatMessage }).message.client_id).toBe('k42');
    await env.drainTasks();
    expect(env.gateway.eventsFor(ids.reader!).map((f) => (f.data as ChatMessage).id)).toEqual([(first.data as { id: string }).id]);
    expect(await env.streamItems('room#ws-retry')).toHaveLength(1);
  });

  it('the same client_id from another sender, or another client_id, is another message', async () => {
    const a = await rest('POST', '/api/message', { body: { type: 'text', content: 'x', sender: 'ana', room: 'ids', client_id: 'same' } });
    const b = await rest('POST', '/api/message', { body: { type: 'text', content: 'x', sender: 'bob', room: 'ids', client_id: 'same' } });
    const c = await rest('POST', '/api/message', { body: { type: 'text', content: 'x', sender: 'ana', room: 'ids', client_id: 'other' } });
    expect(new Set([a.body.message.id, b.body.message.id, c.body.message.id]).size).toBe(3);
    expect(await env.streamItems('room#ids')).toHaveLength(3);
  });

  it.each(['', 'x'.repeat(65), 'has space', 'ü', 7])('rejects client_id %j', async (clientId) => {
    const res = await rest('POST', '/api/message', { body: { type: 'text', content: 'x', sender: 'ana', client_id: clientId } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
  });
});
