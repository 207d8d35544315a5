/**
 * 3. Live delivery. K real WebSocket clients on loopback in one room, S of them senders; in each
 * round every sender sends one message at once, and the round ends when all S x (K - 1) copies have
 * arrived (closed loop: latency is fan-out time, not an ever-growing queue). Measures delivered
 * messages per second and send-to-receive latency percentiles, with the same workload, in the same
 * run, against the local runtime (the service), a plain `ws` broadcast server (the floor) and a
 * Socket.IO server (the peer). Servers run in a process of their own; clients in this one.
 */
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { startLiveServer, type ServerKind } from './lib/live-server.js';
import { type Distribution, distribution, round, sleep } from './lib/stats.js';

export interface LiveOptions {
  clients?: number[];
  senders?: number;
  /** Rounds per client count (default: 10 at 100 clients, 3 at 1,000). */
  rounds?: (k: number) => number;
  servers?: ServerKind[];
  /** Task queue pollers of the runtime (Lambda's event source starts with five). */
  pollers?: number;
  roundTimeoutMs?: number;
}

export interface LiveRun {
  server: ServerKind;
  clients: number;
  senders: number;
  rounds: number;
  expected: number;
  delivered: number;
  lost: number;
  /** Deliveries per second over the rounds' busy time. */
  deliveredPerSecond: number;
  latencyMs: Distribution;
  connectMs: number;
}

export interface LiveResult {
  runs: LiveRun[];
  /** Per client count: service / floor and service / peer (p95 latency and throughput). */
  ratios: Array<{ clients: number; p95VsFloor: number; p95VsPeer: number; throughputVsFloor: number; throughputVsPeer: number }>;
}

interface BenchClient {
  send(text: string): void;
  onContent(listener: (content: string) => void): void;
  close(): void;
}

const now = () => performance.timeOrigin + performance.now();

function jsonClient(url: string, room: string, timeoutMs: number): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/?room=${encodeURIComponent(room)}`, { perMessageDeflate: false });
    const listeners: Array<(content: string) => void> = [];
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no `connected` greeting'));
    }, timeoutMs);
    let ready = false;
    ws.on('message', (raw) => {
      const text = raw.toString();
      if (!ready) {
        if (text.includes('"connected"')) {
          ready = true;
          clearTimeout(timer);
          resolve({
            send: (t) => ws.send(JSON.stringify({ action: 'send_text', data: { text: t, sender: 'bench' } })),
            onContent: (l) => listeners.push(l),
            close: () => ws.close(1000),
          });
        }
        return;
      }
      if (!text.startsWith('{"event":"message"')) return;
      const content = (JSON.parse(text) as { data: { content: string } }).data.content;
      for (const l of listeners) l(content);
    });
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function socketioClient(url: string, room: string, timeoutMs: number): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const socket: Socket = io(url, { transports: ['websocket'], query: { room }, forceNew: true, reconnection: false, timeout: timeoutMs });
    const listeners: Array<(content: string) => void> = [];
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no `connected` event'));
    }, timeoutMs);
    socket.on('message', (message: { content: string }) => {
      for (const l of listeners) l(message.content);
    });
    socket.once('connected', () => {
      clearTimeout(timer);
      resolve({
        send: (t) => socket.emit('send_text', { text: t, sender: 'bench' }),
        onContent: (l) => listeners.push(l),
        close: () => socket.close(),
      });
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

async function runOne(kind: ServerKind, url: string, k: number, senders: number, rounds: number, roundTimeoutMs: number): Promise<LiveRun> {
  const room = `live-${k}-${Date.now().toString(36)}`;
  const connectStart = now();
  const open = kind === 'socketio' ? socketioClient : jsonClient;
  const clients = await mapLimit(Array.from({ length: k }), 50, () => open(url, room, 60_000));
  const connectMs = now() - connectStart;
  await sleep(200);

  const latencies: number[] = [];
  let received = 0;
  let lastReceive = 0;
  for (const c of clients) {
    c.onContent((content) => {
      const parts = content.split('|');
      if (parts[0] !== 'b') return;
      const t = now();
      latencies.push(t - Number(parts[2]));
      received++;
      lastReceive = t;
    });
  }
  const perRound = senders * (k - 1);
  let busyMs = 0;
  for (let r = 0; r < rounds; r++) {
    const target = received + perRound;
    const start = now();
    for (let s = 0; s < senders; s++) clients[s]!.send(`b|${r}-${s}|${now()}`);
    const end = Date.now() + roundTimeoutMs;
    while (received < target && Date.now() < end) await sleep(5);
    busyMs += Math.max(0, (received >= target ? lastReceive : now()) - start);
    await sleep(100);
  }
  for (const c of clients) c.close();
  await sleep(300);
  const expected = perRound * rounds;
  return {
    server: kind,
    clients: k,
    senders,
    rounds,
    expected,
    delivered: received,
    lost: expected - received,
    deliveredPerSecond: round((received / busyMs) * 1000, 0),
    latencyMs: distribution(latencies),
    connectMs: round(connectMs, 0),
  };
}

export async function measureLive(options: LiveOptions = {}): Promise<LiveResult> {
  const ks = options.clients ?? [100, 1000];
  const senders = options.senders ?? 4;
  const rounds = options.rounds ?? ((k: number) => (k <= 100 ? 10 : 3));
  const servers = options.servers ?? ['runtime', 'ws', 'socketio'];
  const runs: LiveRun[] = [];
  for (const k of ks) {
    for (const kind of servers) {
      const server = await startLiveServer(kind, { pollers: options.pollers ?? 5 });
      try {
        runs.push(await runOne(kind, server.url, k, senders, rounds(k), options.roundTimeoutMs ?? 30_000));
      } finally {
        await server.stop();
      }
    }
  }
  const ratios = ks.map((k) => {
    const of = (kind: ServerKind) => runs.find((r) => r.clients === k && r.server === kind);
    const svc = of('runtime');
    const floor = of('ws');
    const peer = of('socketio');
    const ratio = (a?: number, b?: number) => (a !== undefined && b ? round(a / b, 2) : Number.NaN);
    return {
      clients: k,
      p95VsFloor: ratio(svc?.latencyMs.p95, floor?.latencyMs.p95),
      p95VsPeer: ratio(svc?.latencyMs.p95, peer?.latencyMs.p95),
      throughputVsFloor: ratio(svc?.deliveredPerSecond, floor?.deliveredPerSecond),
      throughputVsPeer: ratio(svc?.deliveredPerSecond, peer?.deliveredPerSecond),
    };
  });
  return { runs, ratios };
}
