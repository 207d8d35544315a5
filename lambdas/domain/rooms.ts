/**
 * Rooms people can trust: private rooms, direct rooms and who may use them. A room without a
 * record is public, as every room was before; a room created with a record is public or private,
 * and a private room is usable by its members and by admins only.
 *
 * No AWS here: the store, the connection records and the gateway are ports (adapters in
 * lambdas/adapters/dynamo-rooms.ts).
 */
import { createHash } from 'node:crypto';
import { ChatError } from './errors.js';
import { DEFAULT_ROOM, type Identity, roomStream } from './model.js';
import type { Clock, ConnectionStore, StreamStore } from './ports.js';
import type { Admission, RoomAccess } from './room-access.js';
import type { CutOffOutcome, LeavesRoom } from './rooms-cutoff.js';
import type { CutOffTask } from './tasks.js';
import { LIMITS } from '../shared/limits.js';
import type { RoomVisibility } from './schemas.js';

/** A room's record. `owner` is null for direct rooms (no one manages them). */
export interface RoomRecord {
  name: string;
  visibility: RoomVisibility;
  owner: string | null;
  direct: boolean;
  /** The two users of a direct room. */
  members?: string[];
  createdAt: string;
}

/** What clients see of a room. */
export interface RoomInfo {
  name: string;
  visibility: 'public' | 'private';
  owner: string | null;
  direct: boolean;
  members?: string[];
  created_at: string;
}

export function roomInfo(record: RoomRecord): RoomInfo {
  const info: RoomInfo = {
    name: record.name,
    visibility: record.visibility,
    owner: record.owner,
    direct: record.direct,
    created_at: record.createdAt,
  };
  if (record.members) info.members = [...record.members];
  return info;
}

export interface RoomPage {
  rooms: RoomRecord[];
  /** True when the index may hold more after the last room of this page. */
  more: boolean;
}

export interface RoomStore {
  /** The room's record and whether `userId` is a member: one read (BatchGetItem). */
  lookup(room: string, userId: string): Promise<{ record?: RoomRecord; member: boolean }>;
  get(room: string): Promise<RoomRecord | undefined>;
  /** Stores a new room's record; false when the room already has one (conditional write). */
  create(record: RoomRecord): Promise<boolean>;
  /** Adds members (idempotent). */
  addMembers(record: RoomRecord, users: string[], now: string): Promise<void>;
  removeMember(room: string, userId: string): Promise<void>;
  /** Private rooms `userId` belongs to, by name, after `after`. */
  listMemberRooms(userId: string, after: string | undefined, limit: number): Promise<RoomPage>;
  /** Public rooms with a record, by name, after `after`. */
  listPublicRooms(after: string | undefined, limit: number): Promise<RoomPage>;
}

/** The message a refusal carries: the same whether the room exists or not. */
export const FORBIDDEN_ROOM = 'You are not allowed in this room';
const forbidden = () => new ChatError('forbidden', FORBIDDEN_ROOM);

/** Rooms that are public by configuration: never private, so they cost no read. */
export const PUBLIC_ROOMS: ReadonlySet<string> = new Set([DEFAULT_ROOM]);

/** Direct rooms are named `dm:` + a hash of the two sorted user ids; the prefix is reserved. */
export const DIRECT_PREFIX = 'dm:';

export function directRoomName(a: string, b: string): string {
  const [first, second] = [a, b].sort();
  return `${DIRECT_PREFIX}${createHash('sha256').update(`${first}\u0000${second}`).digest('hex').slice(0, 40)}`;
}

/** Admins are members of every room; the role's name comes from the auth settings (roots pass it in). */
const isAdmin = (who: Pick<Identity, 'roles'>, adminRole: string) => who.roles.includes(adminRole);

/** The RoomAccess every room-naming entry point asks: at most one read per check, none for admins. */
export class MemberRoomAccess implements RoomAccess {
  constructor(
    private readonly store: Pick<RoomStore, 'lookup'>,
    private readonly adminRole: string,
  ) {}

  async assertMember(identity: Identity, room: string): Promise<Admission> {
    if (isAdmin(identity, this.adminRole) || PUBLIC_ROOMS.has(room)) return 'settled';
    const { record, member } = await this.store.lookup(room, identity.userId);
    // A `dm:` name with no record is no public room: no one may squat a direct room before it exists.
    if (!record) {
      if (room.startsWith(DIRECT_PREFIX)) throw forbidden();
      // Public until someone creates it (RoomService.create): an entry re-checks (admitInto).
      return 'revocable';
    }
    if (record.visibility === 'public') return 'settled';
    if (member) return 'revocable';
    throw forbidden();
  }
}

export interface RoomServiceDeps {
  store: RoomStore;
  /** A room that has history or live connections is in use: creating it is a conflict. */
  history: Pick<StreamStore, 'pageBefore'>;
  connections: Pick<ConnectionStore, 'listRoom'>;
  clock: Clock;
  adminRole: string;
  /** Takes the connections `leaves` picks out of the room, with `removed` (rooms-cutoff.ts). */
  cutOff: (room: string, leaves: LeavesRoom) => Promise<CutOffOutcome>;
  /** Enqueues a removal's cut-off to run again after `delaySeconds` (the task queue: retried, DLQ). */
  scheduleCutOff: (task: CutOffTask, delaySeconds: number) => Promise<void>;
}

export interface CreateRoomInput {
  name: string;
  visibility: RoomVisibility;
  members?: string[] | undefined;
}

interface Cursor {
  p: 'mine' | 'public';
  a?: string;
}

const CURSOR_ROOM = /^[A-Za-z0-9_.:-]{1,64}$/;

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(raw: string | undefined): Cursor {
  if (raw === undefined || raw === '') return { p: 'mine' };
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
    if ((value.p === 'mine' || value.p === 'public') && (value.a === undefined || (typeof value.a === 'string' && CURSOR_ROOM.test(value.a)))) {
      return value.a === undefined ? { p: value.p } : { p: value.p, a: value.a };
    }
  } catch {
    // falls through
  }
  throw new ChatError('validation_error', 'Invalid query: cursor is not valid');
}

export class RoomService {
  constructor(private readonly deps: RoomServiceDeps) {}

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  async create(identity: Identity, input: CreateRoomInput): Promise<RoomRecord> {
    if (input.name.startsWith(DIRECT_PREFIX)) {
      throw new ChatError('validation_error', `Invalid room: names starting with "${DIRECT_PREFIX}" are direct rooms (POST /api/rooms/direct)`);
    }
    const taken = () => new ChatError('conflict', `Room "${input.name}" already exists`);
    // Rooms of the configuration, and rooms already in use without a record, stay public.
    if (PUBLIC_ROOMS.has(input.name)) throw taken();
    const [history, live] = await Promise.all([
      this.deps.history.pageBefore(roomStream(input.name), undefined, 1),
      this.deps.connections.listRoom(input.name, undefined, 1),
    ]);
    if (history.length > 0 || live.members.length > 0) throw taken();
    const record: RoomRecord = { name: input.name, visibility: input.visibility, owner: identity.userId, direct: false, createdAt: this.now() };
    if (!(await this.deps.store.create(record))) throw taken();
    const members = new Set([identity.userId, ...(input.members ?? [])]);
    await this.deps.store.addMembers(record, [...members], record.createdAt);
    // Someone may have connected between the in-use check and the record (a connect checked before
    // the record, landing after): from now on every entry re-checks and is refused, and whoever got
    // in meanwhile is cut off here, as a removed member would be.
    if (record.visibility === 'private') {
      // Best effort: the room exists either way, and answering 500 would make a retry a 409.
      await this.deps.cutOff(record.name, (c) => !members.has(c.userId) && !isAdmin(c, this.deps.adminRole)).catch(() => undefined);
    }
    return record;
  }

  /** The one direct room of the caller and `user`, created by whichever of them asks first. */
  async openDirect(identity: Identity, user: string): Promise<{ record: RoomRecord; created: boolean }> {
    if (user === identity.userId) throw new ChatError('validation_error', 'Invalid direct room: user must be someone else');
    const name = directRoomName(identity.userId, user);
    const members = [identity.userId, user].sort();
    const fresh: RoomRecord = { name, visibility: 'private', owner: null, direct: true, members, createdAt: this.now() };
    const created = await this.deps.store.create(fresh);
    const record = created ? fresh : await this.deps.store.get(name);
    if (!record?.direct || record.members?.join('\u0000') !== members.join('\u0000')) {
      throw new Error(`direct room ${name} holds another pair`);
    }
    // Always (idempotent): a retry after a failure between the two writes completes the room.
    await this.deps.store.addMembers(record, members, this.now());
    return { record, created };
  }

  /** Private rooms the caller belongs to, then public rooms with a record; paged by an opaque cursor. */
  async list(identity: Identity, rawCursor: string | undefined, limit: number): Promise<{ rooms: RoomRecord[]; cursor?: string }> {
    let cursor = decodeCursor(rawCursor);
    const rooms: RoomRecord[] = [];
    if (cursor.p === 'mine') {
      const page = await this.deps.store.listMemberRooms(identity.userId, cursor.a, limit);
      rooms.push(...page.rooms);
      if (page.more && page.rooms.length > 0) return { rooms, cursor: encodeCursor({ p: 'mine', a: rooms[rooms.length - 1]!.name }) };
      cursor = { p: 'public' };
      if (rooms.length >= limit) return { rooms, cursor: encodeCursor(cursor) };
    }
    const page = await this.deps.store.listPublicRooms(cursor.a, limit - rooms.length);
    rooms.push(...page.rooms);
    if (page.more && page.rooms.length > 0) return { rooms, cursor: encodeCursor({ p: 'public', a: page.rooms[page.rooms.length - 1]!.name }) };
    return { rooms };
  }

  /** The room, if the caller may manage its members (owner or admin); `forbidden` otherwise. */
  private async managed(identity: Identity, room: string): Promise<RoomRecord> {
    const record = PUBLIC_ROOMS.has(room) ? undefined : await this.deps.store.get(room);
    if (!record || (record.owner !== identity.userId && !isAdmin(identity, this.deps.adminRole))) throw forbidden();
    if (record.direct) throw new ChatError('validation_error', 'A direct room always has its two members');
    return record;
  }

  async addMember(identity: Identity, room: string, user: string): Promise<void> {
    const record = await this.managed(identity, room);
    await this.deps.store.addMembers(record, [user], this.now());
  }

  /**
   * Removes a member; their connections in the room stop receiving it at once. The cut-off runs
   * again from the task queue: at once when this pass failed partway (a connection it could not
   * reach), else LIMITS.roomCutoffSweepSeconds later (one it could not see yet: the byRoom index is
   * eventually consistent). A retry of the whole request is safe too: every step is idempotent.
   */
  async removeMember(identity: Identity, room: string, user: string): Promise<{ connections: number }> {
    const record = await this.managed(identity, room);
    if (user === record.owner) throw new ChatError('validation_error', 'The owner cannot be removed');
    // The membership goes first: from then on every check refuses, so nothing can re-enter.
    await this.deps.store.removeMember(room, user);
    const outcome = await this.deps.cutOff(room, (c) => c.userId === user).catch((): CutOffOutcome => ({ count: 0, failed: 1, users: [] }));
    await this.deps.scheduleCutOff({ kind: 'cutoff', room, user }, outcome.failed > 0 ? 0 : LIMITS.roomCutoffSweepSeconds);
    return { connections: outcome.count };
  }
}
