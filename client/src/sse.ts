/**
 * Server-Sent Events over `fetch` (Node has no EventSource; browsers' EventSource cannot be given a
 * fresh token on reconnect). Reconnects after the stream ends (the service ends it before the
 * function's time limit with a `retry:` hint) or fails, sending `Last-Event-ID` so the service
 * resumes with no gap; ids already yielded are skipped.
 */
import { type BackoffOptions, backoffDelay, sleep } from './backoff.js';
import { ChatClientError } from './errors.js';
import { type ChatMessage, type PublishedEvent, SSE_PATH } from './generated.js';
import { SeenIds } from './ids.js';
import type { FetchLike, TokenSource } from './rest.js';

/** `message` and `broadcast` carry a chat message; any other name is a published event's `event_type`. */
export type StreamEvent =
  | { id: string; event: 'message' | 'broadcast'; data: ChatMessage }
  | { id: string; event: string; data: PublishedEvent };

export interface EventStreamOptions {
  room?: string;
  /** Resume after this id (what an earlier stream last yielded). */
  lastEventId?: string;
  signal?: AbortSignal;
}

export interface SseSettings {
  /** The stream URL (the Function URL + SSE_PATH), or the HTTP API's redirect to it. */
  url: string;
  room: string;
  getToken: TokenSource;
  fetch: FetchLike;
  backoff: BackoffOptions;
}

interface RawEvent {
  id?: string;
  event: string;
  data: string;
  retry?: number;
}

/** Splits an SSE body into events (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<RawEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let current: RawEvent = { event: 'message', data: '' };
  let hasData = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let newline = buffer.search(/\r\n|\r|\n/);
      // A CR at the end of a chunk may be the first half of a CRLF: wait for the next byte.
      while (newline >= 0 && !(newline === buffer.length - 1 && buffer.endsWith('\r'))) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        newline = buffer.search(/\r\n|\r|\n/);
        if (line === '') {
          if (hasData || current.retry !== undefined) yield current;
          current = { event: 'message', data: '' };
          hasData = false;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') {
          current.data = hasData ? `${current.data}\n${value}` : value;
          hasData = true;
        } else if (field === 'event') current.event = value;
        else if (field === 'id' && !value.includes('\0')) current.id = value;
        else if (field === 'retry' && /^\d+$/.test(value)) current.retry = Number(value);
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

export async function* eventStream(settings: SseSettings, options: EventStreamOptions = {}): AsyncGenerator<StreamEvent, void, undefined> {
  const seen = new SeenIds();
  let lastEventId = options.lastEventId;
  let retryMs = 1000;
  let failures = 0;
  while (!options.signal?.aborted) {
    const controller = new AbortController();
    const abort = () => controller.abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      const url = new URL(settings.url);
      url.searchParams.set('room', options.room ?? settings.room);
      // In the query string, as EventSource clients do: it survives the HTTP API's cross-origin redirect.
      const token = await settings.getToken();
      if (token) url.searchParams.set('token', token);
      // Only CORS-safelisted headers but Last-Event-ID, which the Function URL's CORS allows.
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (lastEventId) headers['last-event-id'] = lastEventId;
      const res = await settings.fetch(url, { headers, cache: 'no-store', signal: controller.signal, redirect: 'follow' });
      if (res.status === 401 || res.status === 403) {
        throw new ChatClientError('token_refused', `The event stream refused the token (${res.status})`, { status: res.status });
      }
      if (!res.ok || !res.body) throw new ChatClientError('network', `The event stream answered ${res.status}`, { status: res.status });
      failures = 0;
      for await (const raw of parseSse(res.body)) {
        if (raw.retry !== undefined) retryMs = raw.retry;
        if (raw.id === undefined || raw.data === '') continue;
        lastEventId = raw.id;
        if (seen.has(raw.id)) continue;
        seen.add(raw.id);
        yield { id: raw.id, event: raw.event, data: JSON.parse(raw.data) } as StreamEvent;
      }
      // A clean end: the service's `retry:` hint says when to come back.
      await sleep(retryMs, options.signal);
    } catch (error) {
      if (options.signal?.aborted) return;
      if (error instanceof ChatClientError && error.code === 'token_refused') throw error;
      await sleep(backoffDelay(failures++, settings.backoff), options.signal);
    } finally {
      options.signal?.removeEventListener('abort', abort);
      controller.abort();
    }
  }
}

export const sseUrlOf = (base: string) => `${base.replace(/\/+$/, '')}${SSE_PATH}`;
