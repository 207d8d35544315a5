/**
 * What each WebSocket client action does, independent of the wire protocol. Returns the reply
 * event for the sender; other deliveries go through fan-out.
 */
import { LIMITS } from '../shared/limits.js';
import { WS_ACTIONS, type WsAction } from '../shared/routes.js';
import { type ChatService, eventOf } from './chat-service.js';
import { ChatError } from './errors.js';
import type { StreamHistory } from './history.js';
import { contentOrAttachment, type DraftMessage } from './messages.js';
import { type ConnectionRecord, DEFAULT_ROOM, GLOBAL_STREAM, type Identity, itemId, type ServerEvent, roomStream } from './model.js';
import type { ConnectionStore } from './ports.js';
import { admitInto, openRooms, type RoomAccess } from './room-access.js';
import type { PresenceService } from './presence.js';
import type { TypingService } from './typing.js';
import {
  joinSchema,
  messageInputSchema,
  presenceActionSchema,
  resumeSchema,
  typingSchema,
  sendAudioSchema,
  sendImageSchema,
  sendTextSchema,
} from './schemas.js';
import type { RateLimiter } from './rate-limit.js';
import { parseWith } from './validation.js';
import { atOnce } from './at-once.js';

export { parseWith };

export interface ActionContext {
  connectionId: string;
  chat: Pick<ChatService, 'sendMessage'>;
  history: Pick<StreamHistory, 'since'>;
  connections: Pick<ConnectionStore, 'get' | 'setRoom'>;
  /** The message's sender for this identity and claimed `sender` (the auth policy, passed in). */
  resolveSender: (identity: Identity, claimed: string | undefined) => string;
  /** Sends a frame-worthy event to the calling connection (resume replays missed items). */
  sendToSelf: (event: ServerEvent) => Promise<void>;
  /** Per-connection and per-user limits, counted by every action; absent where not exercised. */
  rateLimiter?: Pick<RateLimiter, 'check'>;
  /** Milliseconds left before the function's deadline (a replay stops in time to answer). */
  timeLeftMs?: () => number;
  /** Who may use a room (private rooms); every room is open without it. */
  rooms?: RoomAccess;
  /**
   * Presence (join/leave transitions, the `presence` action) and typing; absent where not wired.
   * Their rooms are checked here (assertRoom), so their own RoomAccess is `openRooms`.
   */
  presence?: Pick<PresenceService, 'entered' | 'left' | 'list'>;
  typing?: Pick<TypingService, 'typing'>;
  /**
   * The caller's user id from the `$connect` authorizer (API Gateway passes its context to every
   * route of the connection; the record was written from it): the rate limit is then counted while
   * the record is read. Unset (auth off, or no authorizer): counted after the read, for the record's user.
   */
  callerUserId?: string | undefined;
}

/**
 * A room other than the connection's own is checked. The connection's own room was checked when
 * it connected or joined, and a member's removal takes it out of the record, so it costs no read.
 */
async function assertRoom(ctx: ActionContext, record: ConnectionRecord, room: string): Promise<void> {
  if (room === record.room) return;
  await (ctx.rooms ?? openRooms).assertMember({ userId: record.userId, roles: record.roles }, room);
}

function requirePort<T>(port: T | undefined, what: string): T {
  if (!port) throw new ChatError('unknown_action', `${what} is not available here`);
  return port;
}

/** A message as a client sends it: `sender` may be omitted when authenticated. */
interface ClientDraft {
  type: string;
  content: string;
  sender?: string | undefined;
  format?: string | undefined;
  clientId?: string | undefined;
  attachmentId?: string | undefined;
}

async function requireConnection(ctx: ActionContext): Promise<ConnectionRecord> {
  const record = await ctx.connections.get(ctx.connectionId);
  if (!record) throw new ChatError('not_found', 'Connection is not registered; reconnect');
  return record;
}

/**
 * The connection's record, the action counted toward the rate limit. Two independent round trips:
 * at once when the caller's user is known without the record (one round trip less on every action,
 * the message path's latency), else one after the other. A missing record is reported first.
 */
async function countedConnection(ctx: ActionContext): Promise<ConnectionRecord> {
  const limiter = ctx.rateLimiter;
  if (!limiter || !ctx.callerUserId) {
    const record = await requireConnection(ctx);
    await limiter?.check(ctx.connectionId, record.userId);
    return record;
  }
  const [record] = await atOnce(requireConnection(ctx), limiter.check(ctx.connectionId, ctx.callerUserId));
  return record;
}

async function send(ctx: ActionContext, input: ClientDraft, room: string | undefined): Promise<ServerEvent> {
  const record = await countedConnection(ctx);
  const sender = ctx.resolveSender({ userId: record.userId, roles: record.roles }, input.sender);
  const target = room ?? record.room;
  if (!target) throw new ChatError('not_in_room', 'Join a room first ({"action": "join", "data": {"room": "..."}})');
  await assertRoom(ctx, record, target);
  const draft: DraftMessage = { type: input.type, content: input.content, sender };
  if (input.format !== undefined) draft.format = input.format;
  if (input.clientId !== undefined) draft.clientId = input.clientId;
  if (input.attachmentId !== undefined) {
    draft.attachmentId = input.attachmentId;
    draft.uploader = record.userId;
  }
  const message = await ctx.chat.sendMessage(draft, {
    room: target,
    excludeConnectionId: ctx.connectionId,
    ...(ctx.timeLeftMs ? { handOnAfter: Date.now() + ctx.timeLeftMs() - LIMITS.fanoutHandOnMarginMs } : {}),
  });
  return {
    event: 'message_received',
    data: { id: message.id, status: 'received', room: message.room, timestamp: message.timestamp, message },
  };
}

/**
 * Replays what a connection missed after `after`, a read of LIMITS.resumeReadItems at a time, up to
 * LIMITS.sseResumeMaxItems. It stops before the function's deadline; `complete` is true only when
 * nothing after `lastId` is left, so the client knows whether to resume again from `lastId`.
 */
async function replay(ctx: ActionContext, streams: string[], after: string): Promise<{ count: number; lastId: string; complete: boolean }> {
  const outOfTime = () => ctx.timeLeftMs !== undefined && ctx.timeLeftMs() <= LIMITS.replyMarginMs;
  let lastId = after;
  let count = 0;
  while (count < LIMITS.sseResumeMaxItems) {
    const want = Math.min(LIMITS.resumeReadItems, LIMITS.sseResumeMaxItems - count);
    if (outOfTime()) return { count, lastId, complete: false };
    const items = await ctx.history.since(streams, lastId, want);
    for (const item of items) {
      if (outOfTime()) return { count, lastId, complete: false };
      await ctx.sendToSelf(eventOf(item));
      lastId = itemId(item);
      count++;
    }
    if (items.length < want) return { count, lastId, complete: true };
  }
  return { count, lastId, complete: false };
}

export function isWsAction(action: string): action is WsAction {
  return (WS_ACTIONS as readonly string[]).includes(action);
}

/** Runs a client action; its reply to the sender, or null for an action that has none (`typing`). */
export async function runAction(action: string, data: unknown, ctx: ActionContext): Promise<ServerEvent | null> {
  if (!isWsAction(action)) {
    throw new ChatError('unknown_action', `Unknown action "${action.slice(0, 64)}"; use one of ${WS_ACTIONS.join(', ')}`);
  }
  switch (action) {
    case 'ping':
      await ctx.rateLimiter?.check(ctx.connectionId, undefined);
      return { event: 'pong', data: { timestamp: new Date().toISOString() } };
    case 'message': {
      const input = parseWith(messageInputSchema, data, 'message');
      const content = contentOrAttachment('message', 'content', input.content, input.attachment_id);
      return send(ctx, { type: input.type, content, sender: input.sender, format: input.format, clientId: input.client_id, attachmentId: input.attachment_id }, input.room);
    }
    case 'send_text': {
      const input = parseWith(sendTextSchema, data, 'send_text');
      return send(ctx, { type: 'text', content: input.text, sender: input.sender, clientId: input.client_id }, input.room);
    }
    case 'send_image': {
      const input = parseWith(sendImageSchema, data, 'send_image');
      const content = contentOrAttachment('send_image', 'image', input.image, input.attachment_id);
      return send(ctx, { type: 'image', content, sender: input.sender, format: input.format, clientId: input.client_id, attachmentId: input.attachment_id }, input.room);
    }
    case 'send_audio': {
      const input = parseWith(sendAudioSchema, data, 'send_audio');
      const content = contentOrAttachment('send_audio', 'audio', input.audio, input.attachment_id);
      return send(ctx, { type: 'audio', content, sender: input.sender, format: input.format, clientId: input.client_id, attachmentId: input.attachment_id }, input.room);
    }
    case 'join': {
      const input = parseWith(joinSchema, data, 'join');
      const current = await countedConnection(ctx);
      // A removal or creation racing this join is re-checked once the connection is in (admitInto);
      // refused then, the connection ends in no room, as after `leave`.
      const identity = { userId: current.userId, roles: current.roles };
      const record = await admitInto(
        ctx.rooms ?? openRooms,
        identity,
        input.room,
        () => ctx.connections.setRoom(ctx.connectionId, input.room),
        async () => {
          await ctx.connections.setRoom(ctx.connectionId, null);
          if (ctx.presence && current.room && current.room !== input.room) await ctx.presence.left(current.room, current.userId);
        },
      );
      if (!record) throw new ChatError('not_found', 'Connection is not registered; reconnect');
      if (ctx.presence && current.room !== input.room) {
        if (current.room) await ctx.presence.left(current.room, current.userId);
        await ctx.presence.entered(input.room, current.userId, ctx.connectionId);
      }
      return { event: 'joined', data: { room: input.room } };
    }
    case 'leave': {
      const before = await countedConnection(ctx);
      await ctx.connections.setRoom(ctx.connectionId, null);
      if (ctx.presence && before.room) await ctx.presence.left(before.room, before.userId);
      return { event: 'left', data: { room: before.room } };
    }
    case 'presence': {
      const input = parseWith(presenceActionSchema, data ?? {}, 'presence');
      const presence = requirePort(ctx.presence, 'presence');
      const record = await countedConnection(ctx);
      const room = input.room ?? record.room;
      if (!room) throw new ChatError('not_in_room', 'Name a room or join one first');
      await assertRoom(ctx, record, room);
      return { event: 'presence_list', data: await presence.list({ userId: record.userId, roles: record.roles }, room, undefined) };
    }
    case 'typing': {
      const input = parseWith(typingSchema, data, 'typing');
      const typing = requirePort(ctx.typing, 'typing');
      const record = await countedConnection(ctx);
      const room = input.room ?? record.room;
      if (!room) throw new ChatError('not_in_room', 'Name a room or join one first');
      await assertRoom(ctx, record, room);
      await typing.typing({ userId: record.userId, roles: record.roles }, ctx.connectionId, room, input.state);
      return null;
    }
    case 'resume': {
      const input = parseWith(resumeSchema, data ?? {}, 'resume');
      const record = await countedConnection(ctx);
      const room = input.room ?? record.room ?? DEFAULT_ROOM;
      await assertRoom(ctx, record, room);
      const { count, lastId, complete } = await replay(ctx, [roomStream(room), GLOBAL_STREAM], input.after);
      return { event: 'resumed', data: { room, count, last_id: lastId, complete } };
    }
  }
}
