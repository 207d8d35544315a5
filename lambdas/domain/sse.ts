/** Server-Sent Events framing of stream items (protocol-neutral, no I/O). */
import { eventOf } from './chat-service.js';
import { GLOBAL_STREAM, itemId, roomStream, type StreamItem } from './model.js';

/** SSE event name: `message`, `broadcast`, or the published event's own `event_type`. */
export function sseEventName(item: StreamItem): string {
  return item.kind === 'event' ? item.event.event_type : eventOf(item).event;
}

export function formatSse(item: StreamItem): string {
  const data = item.kind === 'event' ? item.event : item.message;
  return `id: ${itemId(item)}\nevent: ${sseEventName(item)}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const sseComment = (text: string) => `: ${text.replace(/[\r\n]/g, ' ')}\n\n`;
export const sseRetry = (ms: number) => `retry: ${Math.max(0, Math.floor(ms))}\n\n`;

/** The stream item a fan-out frame carries (message, broadcast, notification), if any. */
export function itemFromEvent(event: { event: string; data: unknown }): StreamItem | undefined {
  const data = event.data as Record<string, unknown> | null;
  if (!data || typeof data !== 'object' || typeof data.id !== 'string') return undefined;
  switch (event.event) {
    case 'message':
      return { kind: 'message', stream: roomStream(String(data.room)), message: data as never };
    case 'broadcast':
      return { kind: 'broadcast', stream: GLOBAL_STREAM, message: data as never };
    case 'notification':
      return typeof data.event_type === 'string' ? { kind: 'event', stream: GLOBAL_STREAM, event: data as never } : undefined;
    default:
      return undefined;
  }
}

/** Remembers the ids sent on one stream (bounded), so overlapping sources never send one twice. */
export class SentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly max = 10_000) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string);
  }
}
