/** Server-Sent Events framing of stream items (protocol-neutral, no I/O). */
import { eventOf, idOf } from './chat-service.js';
import type { StreamItem } from './model.js';

/** SSE event name: `message`, `broadcast`, or the published event's own `event_type`. */
export function sseEventName(item: StreamItem): string {
  return item.kind === 'event' ? item.event.event_type : eventOf(item).event;
}

export function formatSse(item: StreamItem): string {
  const data = item.kind === 'event' ? item.event : item.message;
  return `id: ${idOf(item)}\nevent: ${sseEventName(item)}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const sseComment = (text: string) => `: ${text.replace(/[\r\n]/g, ' ')}\n\n`;
export const sseRetry = (ms: number) => `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
