/** Reading stored streams back: REST history pages, and what a client missed (resume, SSE). */
import { LIMITS } from '../shared/limits.js';
import { type ChatMessage, itemId, roomStream, type StreamItem } from './model.js';
import type { StreamStore } from './ports.js';

/** Turns a stored item into what readers get (attachments get a freshly signed URL). */
export type PresentItem = (item: StreamItem) => Promise<StreamItem>;

export class StreamHistory {
  constructor(
    private readonly store: Pick<StreamStore, 'pageBefore' | 'pageAfter'>,
    private readonly present?: PresentItem,
  ) {}

  private async shown(items: StreamItem[]): Promise<StreamItem[]> {
    const present = this.present;
    return present ? Promise.all(items.map((item) => present(item))) : items;
  }

  /**
   * One page of a room's history, oldest first within the page; `nextBefore` pages further back.
   * A page also ends at LIMITS.historyPageMaxBytes of content (always at least one message).
   */
  async history(room: string, before: string | undefined, limit: number): Promise<{ messages: ChatMessage[]; nextBefore?: string }> {
    const items = await this.store.pageBefore(roomStream(room), before, limit + 1);
    let take = Math.min(limit, items.length);
    let bytes = 0;
    for (let i = 0; i < take; i++) {
      bytes += Buffer.byteLength(JSON.stringify(items[i]));
      if (bytes > LIMITS.historyPageMaxBytes && i > 0) take = i;
    }
    const hasMore = items.length > take;
    const page = await this.shown(items.slice(0, take).reverse());
    const messages = page.flatMap((item) => (item.kind === 'event' ? [] : [item.message]));
    const result: { messages: ChatMessage[]; nextBefore?: string } = { messages };
    if (hasMore && messages.length > 0) result.nextBefore = messages[0]!.id;
    return result;
  }

  /** Items of the given streams after an id, merged in id order (SSE resume and WebSocket resume). */
  async since(streams: string[], after: string, limit: number): Promise<StreamItem[]> {
    const pages = await Promise.all(streams.map((stream) => this.store.pageAfter(stream, after, limit)));
    const merged = pages.flat().sort((a, b) => (itemId(a) < itemId(b) ? -1 : itemId(a) > itemId(b) ? 1 : 0));
    return this.shown(merged.slice(0, limit));
  }
}
