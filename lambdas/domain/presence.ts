/**
 * Presence: who is online in a room, and the `online`/`offline` transitions of each user.
 *
 * A user is online in a room while they have a live connection there (two tabs are one member).
 * The connection records are the one source of truth (read through the `byRoomUser` index); a
 * small state item per (room, user) remembers what was last announced, so each transition is
 * announced once however many connections and functions race:
 * - entering (connect with a room, join) marks the user online and announces `online` only if the
 *   state was not online already;
 * - leaving (leave, join elsewhere, $disconnect, a 410 found by any fan-out, an expired record seen
 *   by a read) schedules a `presence_check` task LIMITS.presenceGraceSeconds later, which announces
 *   `offline` only if no live connection is left and the user has not entered again since.
 * Records past their expiry count as gone (DynamoDB deletes expired items late, emulators never).
 */
import { LIMITS } from '../shared/limits.js';
import { ulid } from './ids.js';
import type { Identity, ServerEvent } from './model.js';
import type { Clock } from './ports.js';
import type { RoomAccess } from './room-access.js';
import type { FanoutTask, PresenceCheckTask } from './tasks.js';

/** One connection of a room, as presence sees it. */
export interface PresenceConnection {
  connectionId: string;
  userId: string;
  /** When it entered the room (ISO time). */
  enteredAt: string;
  /** Epoch seconds after which the record counts as gone. */
  expiresAt: number;
}

export interface PresenceStore {
  /** Records that the user entered the room at `nowMs`; true when they were not online before. */
  markOnline(room: string, userId: string, nowMs: number): Promise<boolean>;
  /**
   * Records `offline` if the user is online and entered last at or before `leftAtMs`; true when
   * it changed (the one caller that announces it).
   */
  markOffline(room: string, userId: string, leftAtMs: number, nowMs: number): Promise<boolean>;
  /** Up to `limit` connections of one user in the room (expired ones included). */
  userConnections(room: string, userId: string, limit: number): Promise<PresenceConnection[]>;
  /**
   * The room's connections ordered by user, of users after `afterUser`: one Query page of up to
   * `limit` from `startKey` (opaque); `next` when the Query has more.
   */
  roomConnections(
    room: string,
    afterUser: string | undefined,
    startKey: string | undefined,
    limit: number,
  ): Promise<{ connections: PresenceConnection[]; next?: string }>;
}

export interface PresenceMember {
  user: string;
  connections: number;
  since: string;
}

export interface PresencePage {
  room: string;
  members: PresenceMember[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

export type PresenceState = 'online' | 'offline';

export function presenceEvent(room: string, user: string, state: PresenceState): ServerEvent {
  return { event: 'presence', data: { room, user, state } };
}

export interface PresenceDeps {
  store: PresenceStore;
  access: RoomAccess;
  /** Delivers a room fan-out (inline where the function may post, else through the task queue). */
  publish: (task: FanoutTask) => Promise<void>;
  /** Enqueues a presence check with a delay (SQS DelaySeconds). */
  schedule: (task: PresenceCheckTask, delaySeconds: number) => Promise<void>;
  clock: Clock;
  graceSeconds: number;
}

/** Most connections of one user a check or a typing event reads (a user's tabs in one room). */
export const USER_CONNECTIONS_READ = 25;

/** Schedules the check of a leave; functions that only see leaves (a 410, $disconnect) call just this. */
export function scheduleCheck(schedule: PresenceDeps['schedule'], graceSeconds: number, room: string, user: string, atMs: number): Promise<void> {
  return schedule({ kind: 'presence_check', room, user, leftAt: atMs }, graceSeconds);
}

const encodeCursor = (user: string) => Buffer.from(user, 'utf8').toString('base64url');
const decodeCursor = (cursor: string | undefined) => (cursor ? Buffer.from(cursor, 'base64url').toString('utf8') : undefined);

export class PresenceService {
  constructor(private readonly deps: Pick<PresenceDeps, 'store' | 'clock'> & Partial<PresenceDeps>) {}

  private live(connections: PresenceConnection[], nowMs: number): PresenceConnection[] {
    const now = Math.floor(nowMs / 1000);
    return connections.filter((c) => c.expiresAt > now);
  }

  private async announce(room: string, user: string, state: PresenceState, exclude?: string): Promise<void> {
    if (!this.deps.publish) throw new Error('presence: no publisher wired');
    const nowMs = this.deps.clock.now();
    const task: FanoutTask = {
      kind: 'fanout',
      key: ulid(nowMs),
      audience: { type: 'room', room },
      event: presenceEvent(room, user, state),
      maxAudience: LIMITS.presenceBroadcastMaxConnections,
    };
    if (exclude) task.exclude = exclude;
    await this.deps.publish(task);
  }

  /**
   * Connection `connectionId` of `user` entered `room`: announces `online` if it is the user's
   * first, to the room's other connections (the entering one knows; it reads the list itself).
   */
  async entered(room: string, user: string, connectionId?: string): Promise<boolean> {
    const changed = await this.deps.store.markOnline(room, user, this.deps.clock.now());
    if (changed) await this.announce(room, user, 'online', connectionId);
    return changed;
  }

  /** A connection of `user` left `room` at `atMs`: the check runs after the grace period. */
  async left(room: string, user: string, atMs: number = this.deps.clock.now()): Promise<void> {
    if (!this.deps.schedule) throw new Error('presence: no scheduler wired');
    await scheduleCheck(this.deps.schedule, this.deps.graceSeconds ?? LIMITS.presenceGraceSeconds, room, user, atMs);
  }

  /**
   * The grace period of a leave is over: `offline` if no live connection of the user is left in
   * the room and they did not enter again since. Idempotent (a redelivered check changes nothing).
   */
  async check(task: PresenceCheckTask): Promise<'online' | 'offline' | 'unchanged'> {
    const nowMs = this.deps.clock.now();
    const connections = await this.deps.store.userConnections(task.room, task.user, USER_CONNECTIONS_READ);
    if (this.live(connections, nowMs).length > 0) return 'online';
    if (!(await this.deps.store.markOffline(task.room, task.user, task.leftAt, nowMs))) return 'unchanged';
    await this.announce(task.room, task.user, 'offline');
    return 'offline';
  }

  /** The live connections of `user` in `room` (typing leaves them out of its fan-out). */
  async connectionsOf(room: string, user: string): Promise<string[]> {
    const connections = await this.deps.store.userConnections(room, user, USER_CONNECTIONS_READ);
    return this.live(connections, this.deps.clock.now()).map((c) => c.connectionId);
  }

  /**
   * Who is online in `room`, a page of at most `limit` users, read in Query pages of
   * LIMITS.presenceQueryPage connections, at most LIMITS.presenceReadMaxConnections per answer.
   * Users whose records have all expired are left out, and a check is scheduled for each, so
   * `offline` follows for a connection that vanished without `$disconnect` or a 410.
   */
  async list(identity: Identity, room: string, cursor: string | undefined, limit: number = LIMITS.presencePageUsers): Promise<PresencePage> {
    await this.deps.access?.assertMember(identity, room);
    const nowMs = this.deps.clock.now();
    const after = decodeCursor(cursor);
    const byUser = new Map<string, PresenceConnection[]>();
    let startKey: string | undefined;
    let read = 0;
    for (;;) {
      const page = await this.deps.store.roomConnections(room, after, startKey, LIMITS.presenceQueryPage);
      read += page.connections.length;
      for (const c of page.connections) byUser.set(c.userId, [...(byUser.get(c.userId) ?? []), c]);
      startKey = page.next;
      if (!startKey || byUser.size > limit || read >= LIMITS.presenceReadMaxConnections) break;
    }
    let users = [...byUser.keys()];
    // Stopped before the end: the last user's connections may go on, so they start the next page
    // (unless they are all this page has).
    if (startKey && users.length > 1) users = users.slice(0, -1);
    const more = startKey !== undefined || users.length > limit;
    users = users.slice(0, limit);
    const members: PresenceMember[] = [];
    const expired: string[] = [];
    for (const user of users) {
      const live = this.live(byUser.get(user)!, nowMs);
      if (live.length === 0) expired.push(user);
      else members.push({ user, connections: live.length, since: live.map((c) => c.enteredAt).sort()[0]! });
    }
    if (this.deps.schedule) {
      for (const user of expired) await this.left(room, user, nowMs).catch(() => undefined);
    }
    return { room, members, next_cursor: more && users.length > 0 ? encodeCursor(users.at(-1)!) : null };
  }
}
