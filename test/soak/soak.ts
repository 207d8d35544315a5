/**
 * Soak run of the local runtime: hundreds of WebSocket connections in rooms, sending for a fixed
 * time, then leaving. Measures what was sent and delivered (exactly, per connection, with a bitset
 * of message numbers: lost and duplicated too), heap and RSS after a warm-up and at the end (after
 * a forced GC where possible), and the connection records left in the table once every client has
 * gone (each `$disconnect` must have run).
 *
 * Used by test/soak/soak.test.ts (short form, inside `npm test`) and test/soak/run.ts (`npm run soak`).
 * Loopback only; every wait is bounded.
 */
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import WebSocket from 'ws';
import { LOCAL_CREDENTIALS } from '../../local/emulators.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { createRng } from '../support/faults.js';

export interface SoakOptions {
  /** WebSocket connections. */
  clients: number;
  /** How long the clients send. */
  durationMs: number;
  /** Connections per room (default 10). */
  roomSize?: number;
  /** Mean time between two messages of one client (default 4 s); each waits for its reply first. */
  sendIntervalMs?: number;
  /** Traffic before the first memory sample (default: a quarter of the duration, at most 10 s). */
  warmupMs?: number;
  /** Connections opened at once while connecting (default 25). */
  connectConcurrency?: number;
  /** How long to wait for the last deliveries after sending stops (default 30 s). */
  drainTimeoutMs?: number;
  /** Use this runtime (its emulators must be the embedded ones); else one is started and stopped. */
  runtime?: Runtime;
  seed?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface SoakResult {
  clients: number;
  rooms: number;
  durationMs: number;
  /** Messages sent, accepted (`message_received`), rejected (`error`). */
  sent: number;
  accepted: number;
  rejected: number;
  /** Deliveries due (accepted messages × the other members of the room), made, missing, extra. */
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  /** Reply time of sends (ms). */
  replyP50: number;
  replyP99: number;
  connectMs: number;
  drainMs: number;
  /** Memory after the warm-up and at the end (bytes), after a forced GC when `forcedGc`. */
  heapStart: number;
  heapEnd: number;
  rssStart: number;
  rssEnd: number;
  heapPeak: number;
  rssPeak: number;
  forcedGc: boolean;
  /** Connection records still in the table after every client left. */
  leakedConnectionRecords: number;
}

/** `global.gc` without --expose-gc on the command line (vitest forks, tsx): the flag set at run time. */
function gcFunction(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

async function settledMemory(gc: (() => void) | undefined): Promise<NodeJS.MemoryUsage> {
  if (gc) {
    // Two rounds: the first frees objects whose finalizers free more.
    for (let i = 0; i < 2; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return process.memoryUsage();
}

/** A growable bitset of message numbers. */
class Seen {
  private bits = new Uint8Array(1024);
  /** Marks n; true when it was already marked (a duplicate). */
  mark(n: number): boolean {
    const byte = n >> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (n & 7);
    const had = (this.bits[byte]! & mask) !== 0;
    this.bits[byte] = this.bits[byte]! | mask;
    return had;
  }
  has(n: number): boolean {
    const byte = n >> 3;
    return byte < this.bits.length && (this.bits[byte]! & (1 << (n & 7))) !== 0;
  }
}

interface SoakClient {
  ws: WebSocket;
  room: number;
  connectionId: string;
  seen: Seen;
  duplicates: number;
  /** Replies to this client's sends, in order (one send in flight at a time). */
  onReply?: (event: string, seq: number) => void;
  closed: Promise<void>;
}

const CONTENT_RE = /^soak (\d+)$/;

function openClient(url: string, room: number, timeoutMs: number): Promise<SoakClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const client: SoakClient = {
      ws,
      room,
      connectionId: '',
      seen: new Seen(),
      duplicates: 0,
      closed: new Promise((done) => ws.once('close', () => done())),
    };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no 'connected' within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on('message', (data) => {
      let frame: { event?: string; data?: Record<string, unknown> };
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return;
      }
      const event = frame.event;
      if (event === 'message') {
        const match = CONTENT_RE.exec(String(frame.data?.content ?? ''));
        if (match && client.seen.mark(Number(match[1]))) client.duplicates++;
      } else if (event === 'message_received' || event === 'error') {
        const content = (frame.data?.message as { content?: string } | undefined)?.content ?? '';
        const match = CONTENT_RE.exec(content);
        client.onReply?.(event, match ? Number(match[1]) : -1);
      } else if (event === 'connected') {
        client.connectionId = String(frame.data?.connection_id ?? '');
        clearTimeout(timer);
        resolve(client);
      }
    });
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);

async function countConnectionRecords(runtime: Runtime): Promise<number> {
  const ddb = new DynamoDBClient({ region: runtime.region, endpoint: runtime.dynamoEndpoint, credentials: LOCAL_CREDENTIALS });
  try {
    let count = 0;
    let start: Record<string, never> | undefined;
    for (let page = 0; page < 1000; page++) {
      const out = await ddb.send(
        new ScanCommand({
          TableName: runtime.resources.tables.Connections,
          // Connection records carry a shard; rate-limit counters in the same table do not.
          FilterExpression: 'attribute_exists(#shard)',
          ExpressionAttributeNames: { '#shard': 'shard' },
          Select: 'COUNT',
          ExclusiveStartKey: start,
        }),
      );
      count += out.Count ?? 0;
      start = out.LastEvaluatedKey as Record<string, never> | undefined;
      if (!start) break;
    }
    return count;
  } finally {
    ddb.destroy();
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const roomSize = Math.max(2, options.roomSize ?? 10);
  const interval = options.sendIntervalMs ?? 4_000;
  const warmupMs = options.warmupMs ?? Math.min(10_000, Math.floor(options.durationMs / 4));
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  const rng = createRng(options.seed ?? 20261127);
  const gc = gcFunction();
  const owned = !options.runtime;
  const runtime =
    options.runtime ??
    (await startRuntime({
      httpPort: 0,
      wsPort: 0,
      ssePort: 0,
      quiet: true,
      context: { ratePerUser: 100_000_000, ratePerConnection: 100_000 },
    }));
  const rooms = Math.ceil(options.clients / roomSize);
  const runId = Date.now().toString(36);
  const roomName = (r: number) => `soak-${runId}-${r}`;
  const clients: SoakClient[] = [];
  let heapPeak = 0;
  let rssPeak = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    heapPeak = Math.max(heapPeak, m.heapUsed);
    rssPeak = Math.max(rssPeak, m.rss);
  }, 250);

  try {
    // ---- connect ----
    const connectStarted = Date.now();
    const concurrency = options.connectConcurrency ?? 25;
    for (let i = 0; i < options.clients; i += concurrency) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(concurrency, options.clients - i) }, (_, k) => {
          const room = (i + k) % rooms;
          return openClient(`${runtime.wsUrl}/?room=${roomName(room)}`, room, 30_000);
        }),
      );
      clients.push(...batch);
    }
    const connectMs = Date.now() - connectStarted;
    log(`connected ${clients.length} clients in ${rooms} rooms in ${connectMs} ms`);
    const membersOf = Array.from({ length: rooms }, (_, r) => clients.filter((c) => c.room === r));

    // ---- send for durationMs; each client waits for its reply before the next message ----
    let seq = 0;
    let sent = 0;
    const acceptedSeqs: Array<{ seq: number; room: number; sender: SoakClient }> = [];
    let rejected = 0;
    const replyTimes: number[] = [];
    let sending = true;
    const stopAt = Date.now() + options.durationMs;
    const sleepUntil = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    const loop = async (client: SoakClient) => {
      await sleepUntil(Math.min(Math.floor(rng() * interval), options.durationMs));
      while (sending && Date.now() < stopAt) {
        const n = seq++;
        const started = Date.now();
        const reply = new Promise<string>((resolve) => {
          const timer = setTimeout(() => resolve('timeout'), 30_000);
          client.onReply = (event, replySeq) => {
            if (event === 'message_received' && replySeq !== n) return;
            clearTimeout(timer);
            resolve(event);
          };
        });
        client.ws.send(JSON.stringify({ action: 'message', data: { type: 'text', content: `soak ${n}`, sender: `c${client.room}` } }));
        sent++;
        const event = await reply;
        client.onReply = undefined;
        replyTimes.push(Date.now() - started);
        if (event === 'message_received') acceptedSeqs.push({ seq: n, room: client.room, sender: client });
        else rejected++;
        // Exponential think time around the mean (seeded), bounded to 4x the mean.
        const think = Math.min(4 * interval, Math.floor(-Math.log(1 - rng()) * interval));
        await sleepUntil(Math.max(0, Math.min(think, stopAt - Date.now())));
      }
    };
    const loops = clients.map((client) => loop(client));

    await sleepUntil(Math.min(warmupMs, options.durationMs));
    const start = await settledMemory(gc);
    if (process.env.SOAK_HEAP_SNAPSHOTS) log(`heap snapshot: ${writeHeapSnapshot(`${process.env.SOAK_HEAP_SNAPSHOTS}/soak-start.heapsnapshot`)}`);
    log(`after warm-up: heap ${mb(start.heapUsed)} MB, rss ${mb(start.rss)} MB, ${sent} sent`);
    await Promise.all(loops);
    sending = false;

    // ---- drain: every accepted message at every other member of its room (bounded) ----
    const expectedCount = acceptedSeqs.reduce((sum, a) => sum + membersOf[a.room]!.length - 1, 0);
    const countDelivered = () => {
      let delivered = 0;
      for (const a of acceptedSeqs) for (const member of membersOf[a.room]!) if (member !== a.sender && member.seen.has(a.seq)) delivered++;
      return delivered;
    };
    const drainStarted = Date.now();
    let delivered = countDelivered();
    while (delivered < expectedCount && Date.now() - drainStarted < drainTimeoutMs) {
      await sleepUntil(100);
      delivered = countDelivered();
    }
    const drainMs = Date.now() - drainStarted;
    const end = await settledMemory(gc);
    if (process.env.SOAK_HEAP_SNAPSHOTS) log(`heap snapshot: ${writeHeapSnapshot(`${process.env.SOAK_HEAP_SNAPSHOTS}/soak-end.heapsnapshot`)}`);
    log(`drained in ${drainMs} ms: heap ${mb(end.heapUsed)} MB, rss ${mb(end.rss)} MB`);

    // ---- leave: every client closes; every $disconnect must remove its record ----
    for (const client of clients) client.ws.close(1000);
    await Promise.all(clients.map((c) => c.closed));
    let leaked = await countConnectionRecords(runtime);
    const leaveStarted = Date.now();
    while (leaked > 0 && Date.now() - leaveStarted < 15_000) {
      await sleepUntil(200);
      leaked = await countConnectionRecords(runtime);
    }

    const sorted = [...replyTimes].sort((a, b) => a - b);
    return {
      clients: clients.length,
      rooms,
      durationMs: options.durationMs,
      sent,
      accepted: acceptedSeqs.length,
      rejected,
      expected: expectedCount,
      delivered,
      lost: expectedCount - delivered,
      duplicated: clients.reduce((sum, c) => sum + c.duplicates, 0),
      replyP50: percentile(sorted, 0.5),
      replyP99: percentile(sorted, 0.99),
      connectMs,
      drainMs,
      heapStart: start.heapUsed,
      heapEnd: end.heapUsed,
      rssStart: start.rss,
      rssEnd: end.rss,
      heapPeak,
      rssPeak,
      forcedGc: gc !== undefined,
      leakedConnectionRecords: leaked,
    };
  } finally {
    clearInterval(sampler);
    for (const client of clients) if (client.ws.readyState !== WebSocket.CLOSED) client.ws.terminate();
    if (owned) await runtime.stop();
  }
}

export const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** The figures as a two-column text table. */
export function formatSoak(result: SoakResult): string {
  const rows: Array<[string, string]> = [
    ['connections', `${result.clients} in ${result.rooms} rooms (connected in ${result.connectMs} ms)`],
    ['sending for', `${(result.durationMs / 1000).toFixed(0)} s`],
    ['messages sent', String(result.sent)],
    ['accepted / rejected', `${result.accepted} / ${result.rejected}`],
    ['throughput', `${(result.accepted / (result.durationMs / 1000)).toFixed(1)} msg/s, ${(result.delivered / (result.durationMs / 1000)).toFixed(0)} deliveries/s`],
    ['reply time p50 / p99', `${result.replyP50} / ${result.replyP99} ms`],
    ['deliveries expected', String(result.expected)],
    ['delivered', String(result.delivered)],
    ['lost', String(result.lost)],
    ['duplicated', String(result.duplicated)],
    ['drain after sending', `${result.drainMs} ms`],
    ['heap start → end', `${mb(result.heapStart)} → ${mb(result.heapEnd)} MB (${pct(result.heapEnd, result.heapStart)}), peak ${mb(result.heapPeak)} MB${result.forcedGc ? ', after forced GC' : ''}`],
    ['RSS start → end', `${mb(result.rssStart)} → ${mb(result.rssEnd)} MB (${pct(result.rssEnd, result.rssStart)}), peak ${mb(result.rssPeak)} MB`],
    ['connection records left', String(result.leakedConnectionRecords)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const line = `+${'-'.repeat(width + 2)}+${'-'.repeat(Math.max(...rows.map(([, v]) => v.length)) + 2)}+`;
  return [line, ...rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v.padEnd(line.length - width - 7)} |`), line].join('\n');
}

const pct = (end: number, start: number) => `${end >= start ? '+' : ''}${(((end - start) / start) * 100).toFixed(1)}%`;
