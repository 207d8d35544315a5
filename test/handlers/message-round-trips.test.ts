/**
 * The message path's independent round trips run at once: the connection record is read while the
 * rate limit is counted (when the authorizer named the caller), and the room is read while the
 * message is stored. What must stay ordered stays ordered: nothing is posted before the message is
 * stored, a failed store delivers nothing, and a missing record is reported before a rate limit.
 * Ports are in-memory here because the test is about ordering, which real round trips on the
 * embedded emulators cannot hold still; the same paths run end to end in ws.test.ts and the runtime
 * suites.
 */
import { describe, expect, it } from 'vitest';
import { ChatService } from '../../lambdas/domain/chat-service.js';
import { ChatError } from '../../lambdas/domain/errors.js';
import { InlineFanout } from '../../lambdas/domain/inline-fanout.js';
import type { ConnectionRecord } from '../../lambdas/domain/model.js';
import type { MemberPage } from '../../lambdas/domain/ports.js';
import type { FanoutTask } from '../../lambdas/domain/tasks.js';
import { type ActionContext, runAction } from '../../lambdas/domain/ws-actions.js';
import { deferred } from '../support/deferred.js';


const record: ConnectionRecord = { connectionId: 'c1', userId: 'alice', roles: [], room: 'general', protocol: 'json', connectedAt: new Date(0).toISOString() } as ConnectionRecord;

function actionContext(overrides: Partial<ActionContext>): { ctx: ActionContext } {
  const ctx: ActionContext = {
    connectionId: 'c1',
    chat: { sendMessage: async () => ({ id: 'm1', room: 'general', timestamp: new Date(0).toISOString() }) as never },
    history: { since: async () => [] },
    connections: { get: async () => record, setRoom: async () => record },
    resolveSender: (identity) => identity.userId,
    sendToSelf: async () => undefined,
    ...overrides,
  };
  return { ctx };
}

describe('an action counts the rate limit while the connection record is read', () => {
  it('with the caller known from the authorizer: both start before either answers, counted for that user', async () => {
    const read = deferred<ConnectionRecord | undefined>();
    const counted: Array<[string | undefined, string | undefined]> = [];
    let readPending = false;
    const { ctx } = actionContext({
      callerUserId: 'alice',
      connections: {
        get: () => {
          readPending = true;
          return read.promise.finally(() => (readPending = false));
        },
        setRoom: async () => record,
      },
      rateLimiter: {
        check: async (connectionId, userId) => {
          expect(readPending).toBe(true);
          counted.push([connectionId, userId]);
        },
      },
    });
    const reply = runAction('send_text', { text: 'hi' }, ctx);
    await new Promise((r) => setImmediate(r));
    expect(counted).toEqual([['c1', 'alice']]);
    read.resolve(record);
    expect((await reply)?.event).toBe('message_received');
  });

  it('without a caller (auth off): the record first, then the count for its user', async () => {
    const order: string[] = [];
    const { ctx } = actionContext({
      connections: {
        get: async () => {
          order.push('read');
          return { ...record, userId: 'anon-1' };
        },
        setRoom: async () => record,
      },
      rateLimiter: {
        check: async (_c, userId) => {
          order.push(`count:${userId}`);
        },
      },
    });
    await runAction('ping', undefined, { ...ctx, rateLimiter: undefined });
    await runAction('send_text', { text: 'hi', sender: 'anon-1' }, ctx);
    expect(order).toEqual(['read', 'count:anon-1']);
  });

  it('reports a missing record before a rate limit, and a rate limit before anything is sent', async () => {
    let sent = 0;
    const limited = new ChatError('rate_limited', 'slow down', { retry_after_seconds: 1 });
    const base = {
      callerUserId: 'alice',
      chat: {
        sendMessage: async () => {
          sent++;
          return {} as never;
        },
      },
      rateLimiter: { check: async () => Promise.reject(limited) },
    };
    const missing = actionContext({ ...base, connections: { get: async () => undefined, setRoom: async () => undefined } }).ctx;
    await expect(runAction('send_text', { text: 'hi' }, missing)).rejects.toMatchObject({ code: 'not_found' });
    const present = actionContext(base).ctx;
    await expect(runAction('send_text', { text: 'hi' }, present)).rejects.toMatchObject({ code: 'rate_limited' });
    expect(sent).toBe(0);
  });
});

describe('a message is stored while its room is read', () => {
  const page: MemberPage = { members: [{ connectionId: 'c2', protocol: 'json' }] };

  function service(append: () => Promise<void>) {
    const events: string[] = [];
    const chat = new ChatService({
      store: {
        append: async () => {
          events.push('store:start');
          await append();
          events.push('store:done');
          return true;
        },
      },
      tasks: {
        send: async () => {
          events.push('task');
        },
      },
      clock: { now: () => 0 },
      retentionDays: 1,
      inline: {
        read: async () => {
          events.push('read');
          return page;
        },
        deliverRead: async (task) => {
          events.push('post');
          return { key: task.key, delivered: 1, gone: 0, failed: 0, dropped: 0, continued: false, skipped: false, parts: 0, throttled: 0 };
        },
      },
    });
    return { chat, events };
  }

  it('reads the room before the store answers, and posts only once the message is stored', async () => {
    const stored = deferred<void>();
    const { chat, events } = service(() => stored.promise);
    const sending = chat.sendMessage({ type: 'text', content: 'hi', sender: 'alice' }, { room: 'general', excludeConnectionId: 'c1' });
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['read', 'store:start']);
    stored.resolve();
    await sending;
    expect(events).toEqual(['read', 'store:start', 'store:done', 'post']);
  });

  it('delivers nothing when the message cannot be stored', async () => {
    const { chat, events } = service(async () => {
      throw new Error('store failed');
    });
    await expect(chat.sendMessage({ type: 'text', content: 'hi', sender: 'alice' }, { room: 'general' })).rejects.toThrow('store failed');
    expect(events).toEqual(['read', 'store:start']);
  });
});

describe('an inline fan-out near the deadline hands the rest on', () => {
  it('starts no post after handOnAfter: the connections go to one follow-up task, none is lost', async () => {
    const posted: string[] = [];
    const queued: FanoutTask[] = [];
    let clock = 0;
    const members = ['a', 'b', 'c', 'd'].map((id) => ({ connectionId: id, protocol: 'json' as const }));
    const inline = new InlineFanout({
      connections: { listRoom: async () => ({ members }), removeStale: async () => undefined },
      gateway: {
        post: async (id) => {
          posted.push(id);
          clock = 2; // the first post takes the invocation past its hand-on time
          return 'ok';
        },
      },
      tasks: { send: async (task) => void queued.push(task as FanoutTask) },
      concurrency: 1,
      maxMembers: 128,
    });
    const now = Date.now;
    Date.now = () => clock;
    try {
      const stats = await inline.deliver({ kind: 'fanout', key: 'm1', audience: { type: 'room', room: 'general' }, event: { event: 'message', data: {} } } as FanoutTask, 1);
      expect(posted).toEqual(['a']);
      expect(stats).toMatchObject({ delivered: 1, failed: 3 });
      expect(queued).toHaveLength(1);
      expect(queued[0]!.audience).toEqual({ type: 'connections', members: members.slice(1) });
    } finally {
      Date.now = now;
    }
  });
});

describe('a fan-out sends each post before it builds the next', () => {
  it('a post whose steps before the socket are all promise callbacks is sent before the next post starts', async () => {
    // The SDK's steps before the socket write (middleware, credentials, signing) are promise
    // callbacks: posts started in one go would all be built before any is sent.
    const events: string[] = [];
    const members = ['a', 'b', 'c', 'd'].map((id) => ({ connectionId: id, protocol: 'json' as const }));
    const inline = new InlineFanout({
      connections: { listRoom: async () => ({ members }), removeStale: async () => undefined },
      gateway: {
        post: async (id) => {
          events.push(`build ${id}`);
          for (let step = 0; step < 20; step++) await Promise.resolve();
          events.push(`send ${id}`);
          await new Promise((r) => setTimeout(r, 5));
          return 'ok';
        },
      },
      tasks: { send: async () => undefined },
      maxMembers: 128,
    });
    const stats = await inline.deliver({ kind: 'fanout', key: 'm1', audience: { type: 'room', room: 'general' }, event: { event: 'message', data: {} } } as FanoutTask);
    expect(stats).toMatchObject({ delivered: 4, failed: 0 });
    // All four are in flight at once (the window is larger than the room), yet none is built
    // before the one before it is sent.
    expect(events).toEqual(['build a', 'send a', 'build b', 'send b', 'build c', 'send c', 'build d', 'send d']);
  });
});
