/** Reading stored streams back: REST history pages, and what a client missed (resume, SSE). */
import { type ChatMessage, itemId, roomStream, type StreamItem } from './model.js';
import type { StreamStore } from './ports.js';

export class StreamHistory {
  constructor(private readonly store: Pick<StreamStore, 'pageBefore' | 'pageAfter'>) {}

  /** One page of a room's history, oldest first within the page; `nextBefore` pages further back. */
  async history(room: string, before: string | undefined, limit: number): Promise<{ messages: ChatMessage[]; nextBefore?: string }> {
    const items = await this.store.pageBefore(roomStream(room), before, limit + 1);
    const hasMore = items.length > limit;
    const page = items.slice(0, limit).reverse();
    const messages = page.flatMap((item) => (item.kind === 'event' ? [] : [item.message]));
    const result: { messages: ChatMessage[]; nextBefore?: string } = { messages };
    if (hasMore && messages.length > 0) result.nextBefore = messages[0]!.id;
    return result;
  }

  /** Items of the given streams after an id, merged in id order (SSE resume and WebSocket resume). */
  async since(streams: string[], after: string, limit: number): Promise<StreamItem[]> {
    const pages = await Promise.all(streams.map((stream) => this.store.pageAfter(stream, after, limit)));
    const merged = pages.flat().sort((a, b) => (itemId(a) < itemId(b) ? -1 : itemId(a) > itemId(b) ? 1 : 0));
    return merged.slice(0, limit);
  }
}
