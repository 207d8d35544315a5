/**
 * A `join` racing a member's removal or the room's creation, in every order, with in-memory ports
 * and the real domain code (MemberRoomAccess, RoomService, the cut-off, runAction). The other
 * request runs at a chosen moment of the join (an ordering hook, no timers): before the join's
 * write, right after it, or after the join's re-check. Whatever the order, the connection must not
 * be left in a room it may not use. Also the removal's durable half: a cut-off that failed partway
 * is enqueued at once, a clean one is swept later.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionRecord, Identity } from '../../lambdas/domain/model.js';
import type { MemberPage } from '../../lambdas/domain/ports.js';
import { admitInto } from '../../lambdas/domain/room-access.js';
import { MemberRoomAccess, RoomService } from '../../lambdas/domain/rooms.js';
import { type CutOffDeps, cutOff } from '../../lambdas/domain/rooms-cutoff.js';
import type { CutOffTask } from '../../lambdas/domain/tasks.js';
import { type ActionContext, runAction } from '../../lambdas/domain/ws-actions.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { MemoryRooms } from './memory-rooms.js';

type Moment = 'before the write' | 'after the write' | 'after the re-check';
const MOMENTS: Moment[] = ['before the write', 'after the write', 'after the re-check'];

/** Connection records in memory, with the byRoom listing and the conditional leave of the cut-off. */
class MemoryConnections {
  readonly records = new Map<string, ConnectionRecord>();
  /** Runs inside setRoom, before or after the write (the ordering hook). */
  hook: { when: 'before' | 'after'; run: () => Promise<void> } | undefined;
  /** leaveRoom fails for these connection ids (a failed DynamoDB write), once each. */
  readonly failLeave = new Set<string>();

  async get(id: string) {
    const record = this.records.get(id);
    return record ? { ...record } : undefined;
  }
  async setRoom(id: string, room: string | null) {
    const hook = this.hook;
    this.hook = undefined;
    if (hook?.when === 'before') await hook.run();
    const record = this.records.get(id);
    if (!record) return undefined;
    record.room = room;
    if (hook?.when === 'after') await hook.run();
    return { ...record };
  }
  async listRoom(room: string): Promise<MemberPage> {
    return { members: [...this.records.values()].filter((r) => r.room === room).map((r) => ({ connectionId: r.connectionId, protocol: r.protocol })) };
  }
  async getMany(ids: string[]) {
    return ids.flatMap((id) => (this.records.has(id) ? [{ ...this.records.get(id)! }] : []));
  }
  async leaveRoom(id: string, room: string) {
    if (this.failLeave.delete(id)) throw new Error('injected: UpdateItem failed');
    const record = this.records.get(id);
    if (record?.room !== room) return false;
    record.room = null;
    return true;
  }
}

const alice: Identity = { userId: 'alice', roles: [] };

function world() {
  const store = new MemoryRooms();
  const connections = new MemoryConnections();
  const posted: Array<{ connectionId: string; frame: string }> = [];
  const scheduled: Array<{ task: CutOffTask; delaySeconds: number }> = [];
  const deps: CutOffDeps = {
    connections,
    records: connections,
    gateway: {
      post: async (connectionId, frame) => {
        posted.push({ connectionId, frame });
        return 'ok';
      },
    },
  };
  const service = new RoomService({
    store,
    history: { pageBefore: async () => [] },
    connections,
    clock: { now: () => Date.parse('2026-12-02T00:00:00Z') },
    adminRole: 'admin',
    cutOff: (room, leaves) => cutOff(deps, room, leaves),
    scheduleCutOff: async (task, delaySeconds) => {
      scheduled.push({ task, delaySeconds });
    },
  });
  const access = new MemberRoomAccess(store, 'admin');
  return { store, connections, posted, scheduled, deps, service, access };
}

type World = ReturnType<typeof world>;

/** Runs `join` for `connectionId` with `race` at `moment`; the join's answer or its error code. */
async function joinRacing(w: World, connectionId: string, room: string, moment: Moment, race: () => Promise<unknown>): Promise<string> {
  let checks = 0;
  const ctx: ActionContext = {
    connectionId,
    chat: { sendMessage: async () => Promise.reject(new Error('not used')) },
    history: { since: async () => [] },
    connections: w.connections,
    resolveSender: (identity) => identity.userId,
    sendToSelf: async () => undefined,
    rooms: {
      assertMember: async (identity, name) => {
        const admission = await w.access.assertMember(identity, name);
        checks++;
        if (checks === 2 && moment === 'after the re-check') await race();
        return admission;
      },
    },
  };
  if (moment !== 'after the re-check') w.connections.hook = { when: moment === 'before the write' ? 'before' : 'after', run: async () => void (await race()) };
  try {
    const reply = await runAction('join', { room }, ctx);
    return reply!.event;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const removedFrames = (w: World, connectionId: string) => w.posted.filter((p) => p.connectionId === connectionId && p.frame.includes('"removed"'));

describe('a join racing a member’s removal', () => {
  for (const moment of MOMENTS) {
    it(`the removal at “${moment}” leaves the connection out of the room`, async () => {
      const w = world();
      await w.service.create(alice, { name: 'design', visibility: 'private', members: ['bob'] });
      w.connections.records.set('b1', { connectionId: 'b1', room: 'lobby', userId: 'bob', roles: [], protocol: 'json', connectedAt: '' });
      const removal: { connections?: number } = {};
      const answer = await joinRacing(w, 'b1', 'design', moment, async () => Object.assign(removal, await w.service.removeMember(alice, 'design', 'bob')));

      expect(w.connections.records.get('b1')!.room).not.toBe('design');
      // Refused when the join saw the removal; else let in and then cut off by it, with `removed`.
      if (moment === 'after the re-check') {
        expect(answer).toBe('joined');
        expect(removal.connections).toBe(1);
        expect(removedFrames(w, 'b1')).toHaveLength(1);
      } else {
        expect(answer).toBe('forbidden');
      }
      if (moment === 'before the write') expect(removal.connections).toBe(0);
      // Bob may not come back.
      expect(await joinRacing(w, 'b1', 'design', moment, async () => undefined)).toBe('forbidden');
    });
  }
});

describe('a join racing the room’s creation (the room had no record: public until then)', () => {
  const carolIn = (w: World, room: string) => w.connections.records.set('c1', { connectionId: 'c1', room, userId: 'carol', roles: [], protocol: 'json', connectedAt: '' });

  for (const moment of MOMENTS) {
    it(`the creation at “${moment}” of the join: a private room the non-member is out of, or a 409 for a room in use`, async () => {
      const w = world();
      carolIn(w, 'lobby');
      let created: string | undefined;
      const answer = await joinRacing(w, 'c1', 'fresh', moment, () =>
        w.service.create(alice, { name: 'fresh', visibility: 'private' }).then(
          () => (created = 'created'),
          (error: { code?: string }) => (created = error.code),
        ),
      );
      if (moment === 'before the write') {
        expect([created, answer]).toEqual(['created', 'forbidden']);
        expect(w.connections.records.get('c1')!.room).toBeNull();
      } else {
        // Carol was in first: the room is in use, so it stays public and she stays.
        expect([created, answer]).toEqual(['conflict', 'joined']);
        expect(w.connections.records.get('c1')!.room).toBe('fresh');
      }
    });
  }

  it('a join landing between the in-use check and the record is cut off by the creation', async () => {
    const w = world();
    carolIn(w, 'lobby');
    const write = w.store.create.bind(w.store);
    let answer: string | undefined;
    w.store.create = async (record) => {
      answer = await joinRacing(w, 'c1', 'fresh', 'after the re-check', async () => undefined);
      return write(record);
    };
    await w.service.create(alice, { name: 'fresh', visibility: 'private' });
    expect(answer).toBe('joined');
    expect(w.connections.records.get('c1')!.room).toBeNull();
    expect(removedFrames(w, 'c1')).toHaveLength(1);
    expect(await joinRacing(w, 'c1', 'fresh', 'before the write', async () => undefined)).toBe('forbidden');
  });

  it('a public room’s creation cuts nobody off', async () => {
    const w = world();
    w.connections.records.set('c1', { connectionId: 'c1', room: 'lobby', userId: 'carol', roles: [], protocol: 'json', connectedAt: '' });
    const answer = await joinRacing(w, 'c1', 'open', 'before the write', () => w.service.create(alice, { name: 'open', visibility: 'public' }));
    expect(answer).toBe('joined');
    expect(w.connections.records.get('c1')!.room).toBe('open');
  });
});

describe('admitInto', () => {
  it('re-checks only a revocable admission: no second read for an admin, general or a public record', async () => {
    const w = world();
    await w.service.create(alice, { name: 'pub', visibility: 'public' });
    await w.service.create(alice, { name: 'priv', visibility: 'private' });
    const reads = async (identity: Identity, room: string) => {
      w.store.reads = 0;
      await admitInto(w.access, identity, room, async () => undefined, async () => undefined);
      return w.store.reads;
    };
    expect(await reads({ userId: 'root', roles: ['admin'] }, 'priv')).toBe(0);
    expect(await reads(alice, 'general')).toBe(0);
    expect(await reads(alice, 'pub')).toBe(1);
    expect(await reads(alice, 'priv')).toBe(2);
    expect(await reads(alice, 'no-record')).toBe(2);
  });

  it('undoes the entry when the re-check fails for any reason, and answers that failure', async () => {
    let lookups = 0;
    const flaky = new MemberRoomAccess(
      {
        lookup: async () => {
          lookups++;
          if (lookups === 2) throw new Error('injected: BatchGetItem failed');
          return { member: false };
        },
      },
      'admin',
    );
    const undone: string[] = [];
    await expect(admitInto(flaky, alice, 'x', async () => 'in', async () => undone.push('x'))).rejects.toThrow('BatchGetItem failed');
    expect(undone).toEqual(['x']);
  });
});

describe('a removal that fails partway is not lost', () => {
  it('enqueues its cut-off at once when a connection could not be taken out, else sweeps later; a rerun finishes the job once', async () => {
    const w = world();
    await w.service.create(alice, { name: 'design', visibility: 'private', members: ['bob'] });
    for (const id of ['b1', 'b2']) w.connections.records.set(id, { connectionId: id, room: 'design', userId: 'bob', roles: [], protocol: 'json', connectedAt: '' });
    w.connections.failLeave.add('b2');

    expect(await w.service.removeMember(alice, 'design', 'bob')).toEqual({ connections: 1 });
    expect(w.scheduled).toEqual([{ task: { kind: 'cutoff', room: 'design', user: 'bob' }, delaySeconds: 0 }]);
    expect(w.connections.records.get('b2')!.room).toBe('design');

    // The task consumer's rerun: the one left behind leaves, and nobody gets `removed` twice.
    const rerun = await cutOff(w.deps, 'design', (c) => c.userId === 'bob');
    expect(rerun).toEqual({ count: 1, failed: 0, users: ['bob'] });
    expect(w.connections.records.get('b2')!.room).toBeNull();
    expect(removedFrames(w, 'b1')).toHaveLength(1);
    expect(removedFrames(w, 'b2')).toHaveLength(1);

    // A clean removal schedules the sweep (index lag), not an immediate rerun.
    await w.service.addMember(alice, 'design', 'carol');
    await w.service.removeMember(alice, 'design', 'carol');
    expect(w.scheduled.at(-1)).toEqual({ task: { kind: 'cutoff', room: 'design', user: 'carol' }, delaySeconds: LIMITS.roomCutoffSweepSeconds });
  });

  it('a failed read of the room enqueues the rerun too', async () => {
    const w = world();
    await w.service.create(alice, { name: 'design', visibility: 'private', members: ['bob'] });
    w.connections.listRoom = async () => Promise.reject(new Error('injected: Query failed'));
    expect(await w.service.removeMember(alice, 'design', 'bob')).toEqual({ connections: 0 });
    expect(w.scheduled).toEqual([{ task: { kind: 'cutoff', room: 'design', user: 'bob' }, delaySeconds: 0 }]);
  });
});
