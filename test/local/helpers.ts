/**
 * Helpers of the local runtime's tests: real clients only (ws, eventsource, fetch), and waiting on
 * events (frames, task outcomes, SSE messages) with a deadline instead of sleeping.
 */
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import type { RecordOutcome } from '../../local/event-source.js';
import type { Runtime } from '../../local/runtime.js';

export interface Frame {
  event: string;
  data: Record<string, unknown> & { [key: string]: unknown };
  raw: string;
}

/** Resolves with the first value `subscribe` reports that matches, or rejects after `timeoutMs`. */
export function waitForEvent<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  predicate: (value: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const unsubscribe = subscribe((value) => {
      if (!predicate(value)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
}

/**
 * Everything a source reported, kept from the start: a test can wait for a value that may already
 * have arrived (no race between "act" and "start listening") or is still to come.
 */
export class Recorded<T> {
  readonly items: T[] = [];
  private readonly listeners = new Set<(item: T) => void>();

  push(item: T): void {
    this.items.push(item);
    for (const listener of [...this.listeners]) listener(item);
  }

  waitFor(predicate: (item: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const ready = this.items.find(predicate);
    if (ready !== undefined) return Promise.resolve(ready);
    return waitForEvent<T>(
      (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
      predicate,
      timeoutMs,
      what,
    );
  }
}

/**
 * A WebSocket client that keeps every frame it receives, so a test can wait for a frame that may
 * already have arrived (no race between "send" and "start listening").
 */
export class WsClient {
  private readonly log = new Recorded<Frame>();
  readonly frames: Frame[] = this.log.items;
  private readonly consumed = new Set<Frame>();
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const raw = data.toString();
      let frame: Frame;
      try {
        const parsed = JSON.parse(raw) as { event?: string; data?: Record<string, unknown> };
        frame = { event: parsed.event ?? '', data: parsed.data ?? (parsed as Record<string, unknown>), raw };
      } catch {
        frame = { event: '', data: {}, raw };
      }
      this.log.push(frame);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** The next frame (received earlier and not yet taken, or still to come) that matches. */
  next(predicate: (frame: Frame) => boolean, timeoutMs = 10_000, what = 'a frame'): Promise<Frame> {
    return this.log
      .waitFor(
        (f) => !this.consumed.has(f) && predicate(f),
        timeoutMs,
        `${what} (received so far: ${this.frames.map((f) => f.event || f.raw.slice(0, 60)).join(', ')})`,
      )
      .then((frame) => {
        this.consumed.add(frame);
        return frame;
      });
  }

  nextEvent(event: string, predicate: (frame: Frame) => boolean = () => true, timeoutMs = 10_000): Promise<Frame> {
    return this.next((f) => f.event === event && predicate(f), timeoutMs, `"${event}"`);
  }

  send(action: string, data?: unknown): void {
    this.ws.send(JSON.stringify(data === undefined ? { action } : { action, data }));
  }

  /** Sends an action and waits for the reply frame of that kind. */
  async request(action: string, data: unknown, replyEvent: string): Promise<Frame> {
    const reply = this.nextEvent(replyEvent);
    this.send(action, data);
    return reply;
  }

  /**
   * A ping/pong round trip: every frame the server wrote to this socket before the pong has arrived
   * once it resolves (one TCP stream, in order). Used to assert that a frame did NOT come.
   */
  async roundTrip(): Promise<void> {
    await this.request('ping', {}, 'pong');
  }

  received(predicate: (frame: Frame) => boolean): Frame[] {
    return this.frames.filter(predicate);
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    return this.closed;
  }
}

/** Opens a WebSocket; rejects with the HTTP status when the handshake is refused. */
export function openWs(url: string, options: WebSocket.ClientOptions = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    const client = new WsClient(ws);
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once('error', (error) => reject(error));
  });
}

/** Connects to a room and waits for the `connected` greeting (delivered by a task, unasked). */
export async function joinRoom(runtime: Runtime, room: string): Promise<{ client: WsClient; connectionId: string }> {
  const client = await openWs(`${runtime.wsUrl}/?room=${encodeURIComponent(room)}`);
  const connected = await client.nextEvent('connected');
  return { client, connectionId: String(connected.data.connection_id) };
}

/**
 * Every record outcome the runtime's task event source reports, from creation on: a test can wait
 * for the outcome of a task that may already have run by the time it asks.
 */
export class TaskLog {
  private readonly log = new Recorded<RecordOutcome>();
  readonly records: RecordOutcome[] = this.log.items;
  private readonly onRecord = (record: RecordOutcome) => this.log.push(record);

  constructor(private readonly runtime: Runtime) {
    runtime.tasks.on('record', this.onRecord);
  }

  waitFor(predicate: (record: RecordOutcome) => boolean, timeoutMs = 15_000, what = 'a task outcome'): Promise<RecordOutcome> {
    return this.log.waitFor(predicate, timeoutMs, what);
  }

  /** The fan-out (or any task) carrying `text` in its body has run and been deleted from the queue. */
  done(text: string, timeoutMs?: number): Promise<RecordOutcome> {
    return this.waitFor((r) => r.outcome === 'deleted' && r.body.includes(text), timeoutMs, `the task carrying ${text}`);
  }

  dispose(): void {
    this.runtime.tasks.off('record', this.onRecord);
  }
}

export interface JsonResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies of many shapes, read field by field in assertions
  body: any;
  headers: Headers;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

export interface SseEvent {
  type: string;
  id: string;
  // biome-ignore lint/suspicious/noExplicitAny: event payloads of many shapes, read field by field in assertions
  data: any;
}

/** An EventSource (the `eventsource` package, as in a browser) that keeps every event it gets. */
export class SseClient {
  private readonly received = new Recorded<SseEvent>();
  readonly events: SseEvent[] = this.received.items;
  readonly opens: number[] = [];
  readonly source: EventSource;

  constructor(url: string, types: string[], init?: { headers?: Record<string, string> }) {
    this.source = new EventSource(url, {
      fetch: (input, requestInit) =>
        fetch(input, { ...requestInit, headers: { ...(requestInit?.headers as Record<string, string>), ...init?.headers } }),
    });
    this.source.addEventListener('open', () => this.opens.push(Date.now()));
    for (const type of types) {
      this.source.addEventListener(type, (ev) => {
        const event: SseEvent = { type, id: ev.lastEventId, data: JSON.parse(ev.data) };
        this.received.push(event);
      });
    }
  }

  waitFor(predicate: (event: SseEvent) => boolean, timeoutMs = 15_000, what = 'an SSE event'): Promise<SseEvent> {
    return this.received.waitFor(predicate, timeoutMs, what);
  }

  /** Resolves once the EventSource is open (its first connection). */
  opened(timeoutMs = 10_000): Promise<void> {
    if (this.source.readyState === EventSource.OPEN) return Promise.resolve();
    return waitForEvent<void>(
      (listener) => {
        const l = () => listener();
        this.source.addEventListener('open', l);
        return () => this.source.removeEventListener('open', l);
      },
      () => true,
      timeoutMs,
      'the SSE stream to open',
    );
  }

  close(): void {
    this.source.close();
  }
}

export const textMessage = (content: string, sender = 'tester', room?: string) => ({ type: 'text', content, sender, ...(room ? { room } : {}) });

/** A unique room name per test, so tests never see each other's traffic. */
export function uniqueRoom(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
