/**
 * Presence and typing events reach rooms of at most LIMITS.presenceBroadcastMaxConnections
 * connections: a change is one post per member, so in a room of N filling up that is N^2 posts.
 * Both delivery paths (inline in the sending function, and the task consumer) decide from one read
 * of at most cap + 1 connections. Domain code with in-memory ports: the decision is plain logic.
 */
import { describe, expect, it } from 'vitest';
import { FanoutService } from '../../lambdas/domain/fanout.js';
import { InlineFanout } from '../../lambdas/domain/inline-fanout.js';
import type { Member, MemberPage } from '../../lambdas/domain/ports.js';
import type { FanoutTask, Task } from '../../lambdas/domain/tasks.js';
import { LIMITS } from '../../lambdas/shared/limits.js';

const CAP = LIMITS.presenceBroadcastMaxConnections;

function room(size: number) {
  const members: Member[] = Array.from({ length: size }, (_, i) => ({ connectionId: `c${String(i).padStart(5, '0')}`, protocol: 'json' }));
  const posted: string[] = [];
  const reads: number[] = [];
  const sent: Task[] = [];
  const connections = {
    shardCount: 1,
    async listRoom(_room: string, cursor: string | undefined, limit: number): Promise<MemberPage> {
      reads.push(limit);
      const start = cursor ? Number(cursor) : 0;
      const page = members.slice(start, start + limit);
      return start + limit < members.length ? { members: page, cursor: String(start + limit) } : { members: page };
    },
    async listShard(): Promise<MemberPage> {
      return { members: [] };
    },
    async removeStale() {
      return undefined;
    },
  };
  const deps = {
    connections,
    gateway: {
      async post(connectionId: string) {
        posted.push(connectionId);
        return 'ok' as const;
      },
    },
    tasks: {
      async send(task: Task) {
        sent.push(task);
      },
    },
  };
  return { deps, posted, reads, sent };
}

const presence = (extra: Partial<FanoutTask> = {}): FanoutTask => ({
  kind: 'fanout',
  key: `k-${Math.random()}`,
  audience: { type: 'room', room: 'r' },
  event: { event: 'presence', data: { room: 'r', user: 'u', state: 'online' } },
  maxAudience: CAP,
  ...extra,
});

const ledger = () => {
  const done = new Set<string>();
  return { isDone: async (k: string) => done.has(k), markDone: async (k: string) => void done.add(k) };
};

describe('presence and typing audience cap', () => {
  it(`inline: a room of ${CAP} connections gets the event, one of ${CAP + 1} gets none and nothing is queued`, async () => {
    const small = room(CAP);
    await new InlineFanout({ ...small.deps, maxMembers: 128 }).deliver(presence());
    expect(small.posted).toHaveLength(CAP);
    expect(small.reads).toEqual([CAP + 1]);

    const large = room(CAP + 1);
    const stats = await new InlineFanout({ ...large.deps, maxMembers: 128 }).deliver(presence());
    expect(stats?.delivered).toBe(0);
    expect(large.posted).toEqual([]);
    expect(large.sent).toEqual([]);
    expect(large.reads).toEqual([CAP + 1]);
  });

  it('the task consumer decides the same way from one read, and a message (no cap) still reaches a large room', async () => {
    const small = room(CAP);
    await new FanoutService({ ...small.deps, ledger: ledger() }).run(presence({ exclude: 'c00000' }));
    expect(small.posted).toHaveLength(CAP - 1);

    const large = room(1000);
    await new FanoutService({ ...large.deps, ledger: ledger() }).run(presence());
    expect(large.posted).toEqual([]);
    expect(large.sent).toEqual([]);
    expect(large.reads).toEqual([CAP + 1]);

    const message = room(1000);
    await new FanoutService({ ...message.deps, ledger: ledger(), partSize: 1000 }).run(presence({ maxAudience: undefined, event: { event: 'message', data: {} } }));
    expect(message.posted).toHaveLength(1000);
  });
});
