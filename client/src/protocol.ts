/**
 * The WebSocket protocol's frames: `{"action", "data"}` from the client, `{"event", "data"}` from
 * the service. Payload types of every server event; the check below fails to compile when the
 * service adds or renames an event (WS_EVENTS) and this table does not follow.
 */
import type { ChatMessage, ErrorCode, PublishedEvent, WsAction, WsEvent } from './generated.js';
import type { PresenceChange, PresenceList, TypingEvent } from './presence.js';

export interface ConnectedData {
  connection_id: string;
  room: string | null;
  user: string;
  message: string;
}

export interface MessageReceivedData {
  id: string;
  status: 'received';
  room: string;
  timestamp: string;
  message: ChatMessage;
}

export interface ResumedData {
  room: string;
  count: number;
  last_id: string;
  /** False when the service sent a first batch only: resume again from `last_id`. */
  complete: boolean;
}

export interface ErrorData {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export interface ServerEvents {
  connected: ConnectedData;
  message: ChatMessage;
  message_received: MessageReceivedData;
  broadcast: ChatMessage;
  notification: PublishedEvent;
  pong: { timestamp: string };
  error: ErrorData;
  joined: { room: string };
  left: { room: string | null };
  resumed: ResumedData;
  removed: { room: string };
  presence: PresenceChange;
  presence_list: PresenceList;
  typing: TypingEvent;
}

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compile-time check: ServerEvents names exactly the service's WS_EVENTS. */
export const SERVER_EVENTS_MATCH: Same<keyof ServerEvents, WsEvent> = true;

export interface ServerFrame<K extends WsEvent = WsEvent> {
  event: K;
  data: ServerEvents[K];
}

export interface ClientFrame {
  action: WsAction;
  data?: unknown;
}

/**
 * Parses a server frame; undefined for anything that is not `{"event": <known>, "data"}`. API
 * Gateway answers a route whose function failed or timed out with its own frame,
 * `{"message": "Internal server error", "connectionId", "requestId"}`: that becomes an
 * `internal_error` event, so the action waiting for a reply is retried at once.
 */
export function parseServerFrame(raw: unknown, events: readonly string[]): ServerFrame | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const frame = JSON.parse(raw) as { event?: unknown; data?: unknown; message?: unknown; connectionId?: unknown };
    if (typeof frame !== 'object' || frame === null) return undefined;
    if (frame.event === undefined && typeof frame.message === 'string' && typeof frame.connectionId === 'string') {
      return { event: 'error', data: { code: 'internal_error', message: frame.message } };
    }
    if (typeof frame.event !== 'string' || !events.includes(frame.event)) return undefined;
    return frame as ServerFrame;
  } catch {
    return undefined;
  }
}
