/**
 * The checks of `npm run smoke`, in the order they run. Each one uses rooms of its own (under the
 * run's unique room name), opens its own clients through `ctx.use` (closed when it ends), and
 * returns a short description of what it saw, or throws a CheckFailure saying what went wrong.
 */
import { HTTP_ROUTES, type HttpOperation, SSE_PATH } from '../../lambdas/shared/routes.js';
import { type Closable, fail, type JsonResponse, expectStatus, requestJson, SseClient, WsClient } from './clients.js';

export interface Target {
  /** HTTP API base URL (stack output HttpApiUrl). */
  http: string;
  /** WebSocket API URL (WebSocketUrl). */
  ws: string;
  /** SSE stream URL (SseUrl). */
  sse: string;
  /** A user's token; absent when the service runs without auth. */
  token?: string;
  /** A token with the admin role (broadcast). */
  adminToken?: string;
  /** A room name unique to this run; checks use it as a prefix. */
  room: string;
}

export interface CheckContext {
  target: Target;
  /** Aborted when the check's time is up. */
  signal: AbortSignal;
  /** Registers a client to close when the check ends. */
  use<T extends Closable>(client: T): T;
}

export interface Check {
  name: string;
  /** Why the check cannot run with this target, if it cannot. */
  skip?(target: Target): string | undefined;
  run(ctx: CheckContext): Promise<string>;
}

const pathOf = (operation: HttpOperation) => HTTP_ROUTES.find((r) => r.operation === operation)!.path;

interface Message {
  id: string;
  content: string;
  room?: string;
}

/** A text message body; `sender` only without a token (with one, the service takes the token's user). */
const text = (target: Target, content: string, room?: string) => ({
  type: 'text',
  content,
  ...(room ? { room } : {}),
  ...(target.token ? {} : { sender: 'smoke' }),
});

async function postMessage(ctx: CheckContext, room: string, content: string): Promise<Message> {
  const { target, signal } = ctx;
  const res = await requestJson(`${target.http}${pathOf('sendMessage')}`, { method: 'POST', token: target.token, body: text(target, content, room), signal });
  expectStatus(res, 201, `POST ${pathOf('sendMessage')}`);
  return messageOf(res);
}

function messageOf(res: JsonResponse): Message {
  const message = (res.body as { message?: Message } | undefined)?.message;
  if (typeof message?.id !== 'string') fail(`no message id in ${JSON.stringify(res.body).slice(0, 300)}`);
  return message;
}

/** Two clients in a room, both greeted with `connected`. */
async function connectPair(ctx: CheckContext, room: string): Promise<[WsClient, WsClient]> {
  const { target, signal } = ctx;
  const [a, b] = await Promise.all(
    [0, 1].map(async () => ctx.use(await WsClient.connect(target.ws, { room, token: target.token }, signal))),
  );
  await Promise.all([a!, b!].map((c) => c.next('connected', (d) => d.room === room)));
  return [a!, b!];
}

const nonce = () => Math.random().toString(36).slice(2, 10);

const HISTORY_READS = 5;
const HISTORY_RETRY_MS = 400;

/** Waits `ms`, or less if the check's time is up (the next await then fails). */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

export const CHECKS: Check[] = [
  {
    name: 'health',
    async run({ target, signal }) {
      const res = await requestJson(`${target.http}${pathOf('health')}`, { signal });
      expectStatus(res, 200, `GET ${pathOf('health')}`);
      const body = res.body as { status?: string; service?: string };
      if (body?.status !== 'healthy') fail(`status is ${JSON.stringify(body?.status)}, not "healthy"`);
      return `${body.service ?? 'service'} healthy`;
    },
  },
  {
    name: 'websocket',
    async run(ctx) {
      const room = `${ctx.target.room}-ws`;
      const [a, b] = await connectPair(ctx, room);
      const content = `smoke websocket ${nonce()}`;
      a.send('message', text(ctx.target, content));
      const ack = await a.next('message_received');
      const id = ack.data.id;
      if (typeof id !== 'string' || ack.data.status !== 'received') fail(`unexpected message_received ${JSON.stringify(ack.data)}`);
      const got = await b.next('message', (d) => d.id === id);
      if (got.data.content !== content) fail(`the other client got content ${JSON.stringify(got.data.content)}`);
      return `two clients in ${room}: sender got message_received ${id}, the other got message`;
    },
  },
  {
    name: 'rest-to-websocket',
    async run(ctx) {
      const room = `${ctx.target.room}-rest`;
      const client = ctx.use(await WsClient.connect(ctx.target.ws, { room, token: ctx.target.token }, ctx.signal));
      await client.next('connected', (d) => d.room === room);
      const message = await postMessage(ctx, room, `smoke rest ${nonce()}`);
      await client.next('message', (d) => d.id === message.id);
      return `POST ${pathOf('sendMessage')} ${message.id} reached a WebSocket client in ${room}`;
    },
  },
  {
    name: 'history',
    async run(ctx) {
      const { target, signal } = ctx;
      const room = `${target.room}-history`;
      const sent: string[] = [];
      for (let i = 1; i <= 3; i++) sent.push((await postMessage(ctx, room, `smoke history ${i}`)).id);
      const page = async (before?: string) => {
        const query = new URLSearchParams({ room, limit: '2', ...(before ? { before } : {}) });
        const res = await requestJson(`${target.http}${pathOf('history')}?${query}`, { token: target.token, signal });
        expectStatus(res, 200, `GET ${pathOf('history')}`);
        const body = res.body as { messages?: Message[]; next_before?: string | null };
        return { ids: (body.messages ?? []).map((m) => m.id), next: body.next_before ?? null };
      };
      // The newest two, oldest first, and a cursor; then the one before them, and no cursor.
      // History reads are eventually consistent on DynamoDB: a message written a moment ago may
      // take a few hundred ms to show, so the first page gets a few tries.
      const want = `[${sent[1]}, ${sent[2]}] next_before ${sent[1]}`;
      const complete = (p: { ids: string[]; next: string | null }) => p.ids.join() === [sent[1], sent[2]].join() && p.next === sent[1];
      let first = await page();
      let reads = 1;
      for (; !complete(first) && reads < HISTORY_READS; reads++) {
        await sleep(HISTORY_RETRY_MS, signal);
        first = await page();
      }
      if (!complete(first)) fail(`limit=2: got [${first.ids.join(', ')}] next_before ${first.next}, expected ${want}`);
      const second = await page(first.next!);
      if (second.ids.join() !== sent[0] || second.next !== null) {
        fail(`before=${first.next}: got [${second.ids.join(', ')}] next_before ${second.next}, expected [${sent[0]}] and null`);
      }
      return `3 messages in ${room}, read back in 2 pages (limit=2, then next_before)${reads > 1 ? `; the first page complete on read ${reads}` : ''}`;
    },
  },
  {
    name: 'sse-resume',
    async run(ctx) {
      const { target, signal } = ctx;
      const room = `${target.room}-sse`;
      const open = (lastEventId?: string) =>
        SseClient.open(target.sse, { room, token: target.token, lastEventId, types: ['message'] }, signal).then(ctx.use);
      const first = await open();
      const m1 = await postMessage(ctx, room, `smoke sse 1 ${nonce()}`);
      const e1 = await first.next(`message ${m1.id}`, (e) => e.id === m1.id);
      if (JSON.parse(e1.data).content !== m1.content) fail(`event ${e1.id} carries ${e1.data.slice(0, 200)}`);
      first.close();
      // Sent while no stream is open; the reconnect with Last-Event-ID must bring it, and only it.
      const m2 = await postMessage(ctx, room, `smoke sse 2 ${nonce()}`);
      const second = await open(e1.id);
      await second.next(`message ${m2.id} after reconnecting`, (e) => e.id === m2.id);
      // Events come in id order, so a replay of m1 (or of anything before it) would already be here.
      const replayed = second.received().filter((e) => e.id <= e1.id);
      if (replayed.length > 0) fail(`after Last-Event-ID ${e1.id} the stream sent again ${replayed.map((e) => e.id).join(', ')}`);
      return `event ${e1.id} received; reconnected with Last-Event-ID, got ${m2.id} and nothing before it`;
    },
  },
  {
    name: 'sse-redirect',
    async run({ target, signal }) {
      // For non-browser clients only: a browser that follows it to the Function URL sends
      // `Origin: null`, which the Function URL's CORS rejects (see the README).
      const url = `${target.http}${pathOf('eventsRedirect')}?room=${encodeURIComponent(target.room)}`;
      const res = await requestJson(url, { signal, redirect: 'manual' });
      expectStatus(res, 307, `GET ${pathOf('eventsRedirect')}`);
      const location = res.headers.get('location') ?? '';
      if (!location.startsWith(`${target.sse}?`)) fail(`redirects to ${location}, not to the SSE URL ${target.sse}`);
      return `307 to ${target.sse}`;
    },
  },
  {
    name: 'broadcast',
    skip: (target) => (target.token && !target.adminToken ? 'no --admin-token' : undefined),
    async run(ctx) {
      const { target, signal } = ctx;
      const room = `${target.room}-broadcast`;
      const [a, b] = await connectPair(ctx, room);
      const path = pathOf('broadcast');
      const res = await requestJson(`${target.http}${path}`, {
        method: 'POST',
        token: target.adminToken ?? target.token,
        body: text(target, `smoke broadcast ${nonce()}`),
        signal,
      });
      expectStatus(res, 201, `POST ${path}`);
      const { id } = messageOf(res);
      await Promise.all([a, b].map((c) => c.next('broadcast', (d) => d.id === id)));
      return `POST ${path} ${id} reached both WebSocket clients`;
    },
  },
];

/** The stream URL: `SseUrl` as output by the stack, or the Function URL's base (path added). */
export function sseStreamUrl(url: string): string {
  const base = url.replace(/\/+$/, '');
  return base.endsWith(SSE_PATH) ? base : base + SSE_PATH;
}
