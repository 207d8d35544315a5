/**
 * The REST API: `POST /api/message` with a `client_id` and retries, history pages, and the token
 * probe that tells a refused token from a network failure.
 */
import { type BackoffOptions, backoffDelay, sleep } from './backoff.js';
import { ChatClientError, isRetryable, retryAfterMs } from './errors.js';
import { type ChatMessage, HTTP_PATHS, type MessageType } from './generated.js';
import type { PresenceList } from './presence.js';

export type TokenSource = () => string | undefined | Promise<string | undefined>;
export type FetchLike = typeof fetch;

/** A message as the app sends it; `sender` defaults to the token's subject on the service. */
export interface MessageDraft {
  type: MessageType;
  /** The text or inline media; empty (`''`) with `attachment_id`. */
  content: string;
  format?: string;
  sender?: string;
  room?: string;
  /** An uploaded file (`uploadAttachment`) in place of `content`. */
  attachment_id?: string;
}

export interface HistoryPage {
  room: string;
  messages: ChatMessage[];
  next_before: string | null;
}

export interface HistoryOptions {
  room?: string;
  /** Start from the page before this message id (default: the newest page). */
  before?: string;
  /** Messages per page, 1..LIMITS.historyMaxPage. */
  limit?: number;
}

export interface RestOptions {
  httpUrl: string;
  getToken: TokenSource;
  fetch: FetchLike;
  backoff: BackoffOptions;
  /** Attempts of a REST send before it fails (network errors, 5xx, 429). */
  sendAttempts: number;
  signal: AbortSignal;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

async function errorOf(res: Response): Promise<ChatClientError> {
  const text = await res.text().catch(() => '');
  let body: { error?: { code?: string; message?: string; details?: unknown }; message?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the status.
  }
  if (res.status === 401 || res.status === 403) {
    const message = body.error?.message ?? body.message ?? res.statusText;
    // A 403 with the service's own code is a permission (e.g. admin only), not a refused token.
    if (body.error?.code === 'forbidden') return new ChatClientError('forbidden', message, { status: res.status });
    return new ChatClientError('token_refused', `The service refused the token (${res.status} ${message})`, { status: res.status });
  }
  if (body.error?.code) {
    return new ChatClientError(body.error.code as ChatClientError['code'], body.error.message ?? res.statusText, {
      status: res.status,
      details: body.error.details,
    });
  }
  return new ChatClientError(res.status >= 500 ? 'internal_error' : 'protocol', `HTTP ${res.status} ${text.slice(0, 200)}`, { status: res.status });
}

export class RestApi {
  private readonly base: string;
  constructor(private readonly options: RestOptions) {
    this.base = trimSlash(options.httpUrl);
  }

  private async headers(json: boolean): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (json) headers['content-type'] = 'application/json';
    const token = await this.options.getToken();
    if (token) headers.authorization = `Bearer ${token}`;
    return headers;
  }

  async request(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await this.options.fetch(`${this.base}${path}`, {
        method,
        headers: await this.headers(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: this.options.signal,
      });
    } catch (error) {
      if (this.options.signal.aborted) throw new ChatClientError('closed', 'The client is closed', { cause: error });
      throw new ChatClientError('network', `Cannot reach ${this.base}: ${(error as Error).message}`, { cause: error });
    }
    if (!res.ok) throw await errorOf(res);
    return res.json();
  }

  /**
   * Sends a message over REST. Retried on network errors, 5xx and 429 with the same `client_id`, so
   * the service stores it once and answers a retry with the original message.
   */
  async postMessage(draft: MessageDraft & { client_id?: string }, options: { untilClosed?: boolean } = {}): Promise<ChatMessage> {
    let refusals = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        const body = (await this.request('POST', HTTP_PATHS.sendMessage, draft)) as { message?: ChatMessage };
        if (!body.message?.id) throw new ChatClientError('protocol', 'The reply has no message');
        return body.message;
      } catch (error) {
        const failure = error as ChatClientError;
        if (!(failure instanceof ChatClientError) || !isRetryable(failure.code)) throw failure;
        // Network failures of a queued send are retried as long as the client is open; answers
        // of the service (429, 5xx) count against `sendAttempts`.
        if (!(options.untilClosed && failure.code === 'network') && ++refusals >= this.options.sendAttempts) throw failure;
        await sleep(retryAfterMs(failure.details) ?? backoffDelay(Math.min(attempt, 10), this.options.backoff), this.options.signal);
        if (this.options.signal.aborted) throw new ChatClientError('closed', 'The client is closed');
      }
    }
  }

  async historyPage(options: HistoryOptions & { room: string }): Promise<HistoryPage> {
    const query = new URLSearchParams({ room: options.room });
    if (options.before) query.set('before', options.before);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    return (await this.request('GET', `${HTTP_PATHS.history}?${query}`)) as HistoryPage;
  }

  /** One page of who is online in a room. */
  async presencePage(room: string, cursor?: string): Promise<PresenceList> {
    const query = new URLSearchParams();
    if (cursor) query.set('cursor', cursor);
    const path = HTTP_PATHS.presence.replace('{room}', encodeURIComponent(room));
    return (await this.request('GET', query.size > 0 ? `${path}?${query}` : path)) as PresenceList;
  }

  /** Pages of a room's history, newest page first; each page is oldest first, as the service sends it. */
  async *history(options: HistoryOptions & { room: string }): AsyncGenerator<ChatMessage[], void, undefined> {
    let before = options.before;
    for (;;) {
      const page = await this.historyPage({ ...options, before });
      if (page.messages.length > 0) yield page.messages;
      if (!page.next_before) return;
      before = page.next_before;
    }
  }

  /**
   * After a WebSocket handshake failed: is it the token? Browsers do not expose the status of a
   * refused upgrade (API Gateway's 401/403), so the same token is tried on a cheap authorized REST
   * route. Resolves the refusal, or undefined when the token is fine or the service is unreachable.
   * The route reads the room's history, so a private room the user may not use is a refusal too
   * (`forbidden`): reconnecting would be refused forever.
   */
  async probeToken(room: string): Promise<ChatClientError | undefined> {
    try {
      await this.historyPage({ room, limit: 1 });
      return undefined;
    } catch (error) {
      return error instanceof ChatClientError && (error.code === 'token_refused' || error.code === 'forbidden') ? error : undefined;
    }
  }
}
