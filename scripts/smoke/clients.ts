/**
 * The smoke check's clients: REST calls, WebSocket connections and SSE streams, each bounded by
 * the check's AbortSignal and closed when the check ends, whatever the outcome.
 */
import { EventSource } from 'eventsource';
import WebSocket from 'ws';

/** A failed expectation of a check: its message is the FAIL line's reason. */
export class CheckFailure extends Error {}

export function fail(message: string): never {
  throw new CheckFailure(message);
}

/** Resolves when `signal` aborts; rejects with the signal's reason, so a race with it ends a wait. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const stop = () => reject(signal.reason instanceof Error ? signal.reason : new CheckFailure('aborted'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
}

/** Resolves at the next wake-up of a client's waiters (a frame or event arrived), or rejects when aborted. */
function nextWake(waiters: Set<() => void>, signal: AbortSignal): Promise<void> {
  return Promise.race([
    new Promise<void>((resolve) => {
      const wake = () => {
        waiters.delete(wake);
        resolve();
      };
      waiters.add(wake);
    }),
    aborted(signal),
  ]);
}

/** Something a check opened and must close. */
export interface Closable {
  close(): Promise<void> | void;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A JSON request; the body is parsed when it is JSON, else kept as text. */
export async function requestJson(
  url: string,
  options: { method?: string; token?: string; body?: unknown; signal: AbortSignal; redirect?: RequestRedirect },
): Promise<JsonResponse> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
    redirect: options.redirect ?? 'follow',
  }).catch((error: Error) => fail(`${options.method ?? 'GET'} ${url}: ${describe(error)}`));
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text for the message
  }
  return { status: res.status, headers: res.headers, body };
}

/** The reason of a network error (fetch hides it in `cause`). */
export function describe(error: unknown): string {
  const e = error as Error & { cause?: Error & { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  const cause = e?.cause ? ` (${e.cause.code ?? e.cause.message})` : '';
  return `${e?.message ?? String(error)}${cause}`;
}

/** Says what came back, for a FAIL line. */
export function expectStatus(res: JsonResponse, status: number, what: string): void {
  if (res.status !== status) fail(`${what}: HTTP ${res.status} (expected ${status}) ${JSON.stringify(res.body)?.slice(0, 300)}`);
}

export interface Frame {
  event: string;
  data: Record<string, unknown>;
}

/** A WebSocket client that keeps every frame, so a wait also sees frames that came before it. */
export class WsClient implements Closable {
  private readonly frames: Frame[] = [];
  private readonly waiters = new Set<() => void>();
  private closedWith: string | undefined;

  private constructor(
    private readonly socket: WebSocket,
    private readonly signal: AbortSignal,
  ) {
    socket.on('message', (raw) => {
      try {
        this.frames.push(JSON.parse(raw.toString()) as Frame);
      } catch {
        this.frames.push({ event: '<not JSON>', data: { raw: raw.toString().slice(0, 200) } });
      }
      for (const wake of this.waiters) wake();
    });
    socket.on('close', (code, reason) => {
      this.closedWith = `closed ${code}${reason.length ? ` ${reason.toString()}` : ''}`;
      for (const wake of this.waiters) wake();
    });
  }

  /** Connects to `url` with `?room=&token=`; resolves once the handshake is accepted. */
  static async connect(url: string, params: { room: string; token?: string }, signal: AbortSignal): Promise<WsClient> {
    const target = new URL(url);
    target.searchParams.set('room', params.room);
    if (params.token) target.searchParams.set('token', params.token);
    const socket = new WebSocket(target);
    const client = new WsClient(socket, signal);
    const onAbort = () => socket.terminate();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('close', () => signal.removeEventListener('abort', onAbort));
    const shown = url.replace(/[?#].*$/, '');
    await Promise.race([
      new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('unexpected-response', (_req, res) => {
          reject(new CheckFailure(`WebSocket ${shown}: handshake answered HTTP ${res.statusCode}`));
          res.resume();
          socket.terminate();
        });
        socket.once('error', (error) => reject(new CheckFailure(`WebSocket ${shown}: ${describe(error)}`)));
      }),
      aborted(signal),
    ]);
    return client;
  }

  send(action: string, data: Record<string, unknown>): void {
    this.socket.send(JSON.stringify({ action, data }));
  }

  /** The first frame (received so far or later) that is event `event` and matches `match`. */
  async next(event: string, match: (data: Record<string, unknown>) => boolean = () => true): Promise<Frame> {
    const find = () => this.frames.find((f) => f.event === event && match(f.data ?? {}));
    for (;;) {
      const found = find();
      if (found) return found;
      const error = this.frames.find((f) => f.event === 'error');
      if (error) fail(`WebSocket error event while waiting for "${event}": ${JSON.stringify(error.data)}`);
      if (this.closedWith) fail(`WebSocket ${this.closedWith} while waiting for "${event}"`);
      await nextWake(this.waiters, this.signal);
    }
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close(1000);
    // A peer that never answers the close frame is cut off after a moment.
    const cut = setTimeout(() => this.socket.terminate(), 2000);
    await closed;
    clearTimeout(cut);
  }
}

export interface SseEvent {
  type: string;
  id: string;
  data: string;
}

/** An SSE stream read with EventSource (no automatic reconnect: a drop fails the check). */
export class SseClient implements Closable {
  private readonly events: SseEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private failed: string | undefined;

  private constructor(
    private readonly source: EventSource,
    private readonly signal: AbortSignal,
  ) {}

  /**
   * Opens `url?room=&token=`, sending `Last-Event-ID` when given; resolves when the stream is open.
   * `types` are the event names to collect (EventSource reports only the names it listens to).
   */
  static async open(
    url: string,
    params: { room: string; token?: string; lastEventId?: string; types: string[] },
    signal: AbortSignal,
  ): Promise<SseClient> {
    const target = new URL(url);
    target.searchParams.set('room', params.room);
    if (params.token) target.searchParams.set('token', params.token);
    const source = new EventSource(target, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: { ...init.headers, ...(params.lastEventId ? { 'last-event-id': params.lastEventId } : {}) },
        }),
    });
    const client = new SseClient(source, signal);
    signal.addEventListener('abort', () => source.close(), { once: true });
    for (const type of params.types) {
      source.addEventListener(type, (e) => {
        client.events.push({ type, id: e.lastEventId, data: e.data });
        client.wake();
      });
    }
    const shown = url.replace(/[?#].*$/, '');
    await Promise.race([
      new Promise<void>((resolve, reject) => {
        source.onopen = () => resolve();
        source.onerror = (e) => {
          const reason = e.code ? `HTTP ${e.code}` : (e.message ?? 'connection failed');
          client.failed = `SSE ${shown}: ${reason}`;
          source.close();
          client.wake();
          reject(new CheckFailure(client.failed));
        };
      }),
      aborted(signal),
    ]);
    return client;
  }

  private wake(): void {
    for (const wake of this.waiters) wake();
  }

  /** Every event received so far. */
  received(): readonly SseEvent[] {
    return this.events;
  }

  /** The first event (received so far or later) that matches. */
  async next(what: string, match: (event: SseEvent) => boolean): Promise<SseEvent> {
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (this.failed) fail(`${this.failed} while waiting for ${what}`);
      await nextWake(this.waiters, this.signal);
    }
  }

  close(): void {
    this.source.close();
  }
}
