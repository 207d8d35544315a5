/**
 * 3. Live delivery. K real WebSocket clients on loopback in one room, S of them senders; in each
 * round every sender sends one message at once, and the round ends when all S x (K - 1) copies have
 * arrived (closed loop: latency is fan-out time, not an ever-growing queue). Measures delivered
 * messages per second and send-to-receive latency percentiles, with the same workload, in the same
 * run, against the local runtime (the service), a plain `ws` broadcast server (the floor) and a
 * Socket.IO server (the peer). Servers run in a process of their own; clients in this one.
 *
 * Beside the closed-loop rounds, open-loop workloads (`workloads`): S senders each send at a fixed
 * rate for a while, whatever the server keeps up with, so the delivered rate can fall behind the
 * offered one (the 100 clients / 4 senders at 1 msg/s and 200 clients / 5 senders at 4 msg/s).
 * The runtime runs with auth on as deployed (every client connects with a token through the
 * `$connect` authorizer) and the rate limits raised for the run through CDK context. Every server
 * gets one warm-up message per sender before it is measured (the runtime's sandboxes then have made
 * their cold start, which the cold-start section measures), and each run reports the CPU it took per
 * delivery: the server process and the clients.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { hs256Token } from './lib/events.js';
import { type LiveServer, startLiveServer, type ServerKind } from './lib/live-server.js';
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
  /** Open-loop workloads, run after the rounds of each server. */
  workloads?: RateWorkload[];
  /** Sandboxes per function of the runtime (default: the runtime's). */
  maxSandboxes?: number;
}

/** S senders each sending `perSecond` messages a second for `durationMs` to a room of K clients. */
export interface RateWorkload {
  clients: number;
  senders: number;
  perSecond: number;
  durationMs: number;
  /** After the last send, how long to wait for the stragglers before counting the rest lost. */
  drainMs?: number;
  /** What the target judges: p95 against the ws floor's, or the delivered rate (and p95 < 1 s). */
  judge?: 'latency' | 'throughput';
}

/**
 * CPU per delivered message over the measured stretch: the server process (every thread: the
 * runtime's gateway, emulators and sandboxes) and the bench's clients. The ceiling is what this
 * machine's cores could deliver at that cost if nothing else ran.
 */
export interface CpuPerDelivery {
  serverMsPerDelivery: number;
  clientsMsPerDelivery: number;
  ceilingPerSecond: number;
}

/** Per message, the latency of its first copy and of its last one (a message's fan-out lies between). */
export interface MessageSpread {
  firstCopyMs: Distribution;
  lastCopyMs: Distribution;
}

export interface RateRun {
  server: ServerKind;
  judge: 'latency' | 'throughput';
  clients: number;
  senders: number;
  perSecond: number;
  durationMs: number;
  cpu: CpuPerDelivery;
  /** Deliveries per second the workload offers: senders x perSecond x (clients - 1). */
  offeredPerSecond: number;
  /** Deliveries per second from the first send to the last delivery. */
  deliveredPerSecond: number;
  expected: number;
  delivered: number;
  lost: number;
  latencyMs: Distribution;
  perMessage: MessageSpread;
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
  cpu: CpuPerDelivery;
}

export interface LiveResult {
  runs: LiveRun[];
  /** The open-loop workloads, per server. */
  rateRuns: RateRun[];
  /** Per workload: service / floor and service / peer. */
  rateRatios: Array<{ clients: number; senders: number; perSecond: number; p95VsFloor: number; p95VsPeer: number; deliveredVsOffered: number }>;
  /** Per client count: service / floor and service / peer (p95 latency and throughput). */
  ratios: Array<{ clients: number; p95VsFloor: number; p95VsPeer: number; throughputVsFloor: number; throughputVsPeer: number }>;
}

interface BenchClient {
  send(text: string): void;
  onContent(listener: (content: string) => void): void;
  close(): void;
}

const now = () => performance.timeOrigin + performance.now();

function jsonClient(url: string, room: string, timeoutMs: number, user: string, token: string): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/?room=${encodeURIComponent(room)}&token=${token}`, { perMessageDeflate: false });
    const listeners: Array<(content: string) => void> = [];
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no `connected` greeting'));
    }, timeoutMs);
    let ready = false;
    ws.on('message', (raw) => {
      lastFrameAt = now();
      const text = raw.toString();
      if (!ready) {
        if (text.includes('"connected"')) {
          ready = true;
          clearTimeout(timer);
          resolve({
            send: (t) => ws.send(JSON.stringify({ action: 'send_text', data: { text: t, sender: user } })),
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

function socketioClient(url: string, room: string, timeoutMs: number, user: string, token: string): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const socket: Socket = io(url, { transports: ['websocket'], query: { room, token }, forceNew: true, reconnection: false, timeout: timeoutMs });
    const listeners: Array<(content: string) => void> = [];
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no `connected` event'));
    }, timeoutMs);
    socket.onAny(() => {
      lastFrameAt = now();
    });
    socket.on('message', (message: { content: string }) => {
      for (const l of listeners) l(message.content);
    });
    socket.once('connected', () => {
      clearTimeout(timer);
      resolve({
        send: (t) => socket.emit('send_text', { text: t, sender: user }),
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

/** When any client last received a frame (arrival announcements included). */
let lastFrameAt = 0;

/**
 * Waits until no client has received anything for half a second (at most 60 s): a room filling
 * up makes `presence` announcements (one post per member per arrival), and the measurement is of
 * messages in a settled room, not of the arrivals before it.
 */
async function settle(): Promise<void> {
  const end = now() + 60_000;
  while (now() - lastFrameAt < 500 && now() < end) await sleep(100);
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

/** K clients in a fresh room, each a user of its own with its token (the runtime checks them; the others ignore them); a sender names itself. */
async function connectClients(kind: ServerKind, url: string, k: number, secret: string): Promise<BenchClient[]> {
  const room = `live-${k}-${Date.now().toString(36)}`;
  const open = kind === 'socketio' ? socketioClient : jsonClient;
  return mapLimit(Array.from({ length: k }), 50, (_, i) => open(url, room, 60_000, `bench-${i}`, hs256Token(secret, { sub: `bench-${i}`, roles: [], iss: 'chat-local-runtime' })));
}

/** CPU per delivery over a measured stretch: the server process (every thread) and these clients. */
async function cpuMeter(server: LiveServer) {
  const server0 = await server.cpuMs();
  const clients0 = process.cpuUsage();
  return {
    async read(delivered: number): Promise<CpuPerDelivery> {
      const serverMs = (await server.cpuMs()) - server0;
      const clients = process.cpuUsage(clients0);
      const per = (ms: number) => round(ms / Math.max(1, delivered), 3);
      const serverMsPerDelivery = per(serverMs);
      const clientsMsPerDelivery = per((clients.user + clients.system) / 1000);
      return { serverMsPerDelivery, clientsMsPerDelivery, ceilingPerSecond: round((availableParallelism() * 1000) / (serverMsPerDelivery + clientsMsPerDelivery), 0) };
    },
  };
}

/**
 * Receipts of bench messages (`<tag>|<id>|<sent at>`) on every client: latencies, count, last
 * arrival, and per message the latency of its first and of its last copy.
 */
function recordReceipts(clients: BenchClient[], tag: string) {
  const log = { latencies: [] as number[], received: 0, lastReceive: 0, perMessage: new Map<string, { first: number; last: number }>() };
  for (const c of clients) {
    c.onContent((content) => {
      const parts = content.split('|');
      if (parts[0] !== tag) return;
      const t = now();
      const latency = t - Number(parts[2]);
      log.latencies.push(latency);
      log.received++;
      log.lastReceive = t;
      const seen = log.perMessage.get(parts[1]!);
      if (seen) seen.last = latency;
      else log.perMessage.set(parts[1]!, { first: latency, last: latency });
    });
  }
  return log;
}

/** Per message: how long its first copy took (the message path) and its last (plus the fan-out). */
function perMessage(log: ReturnType<typeof recordReceipts>): MessageSpread {
  const spreads = [...log.perMessage.values()];
  return { firstCopyMs: distribution(spreads.map((m) => m.first)), lastCopyMs: distribution(spreads.map((m) => m.last)) };
}

async function runOne(kind: ServerKind, server: LiveServer, k: number, senders: number, rounds: number, roundTimeoutMs: number, secret: string): Promise<LiveRun> {
  const connectStart = now();
  const clients = await connectClients(kind, server.url, k, secret);
  const connectMs = now() - connectStart;
  await settle();
  await warmUp(clients, senders);

  const log = recordReceipts(clients, 'b');
  const cpu = await cpuMeter(server);
  const perRound = senders * (k - 1);
  let busyMs = 0;
  for (let r = 0; r < rounds; r++) {
    const target = log.received + perRound;
    const start = now();
    for (let s = 0; s < senders; s++) clients[s]!.send(`b|${r}-${s}|${now()}`);
    const end = Date.now() + roundTimeoutMs;
    while (log.received < target && Date.now() < end) await sleep(5);
    busyMs += Math.max(0, (log.received >= target ? log.lastReceive : now()) - start);
    await sleep(100);
  }
  const cpuUsed = await cpu.read(log.received);
  for (const c of clients) c.close();
  await sleep(300);
  const expected = perRound * rounds;
  return {
    server: kind,
    clients: k,
    senders,
    rounds,
    expected,
    delivered: log.received,
    lost: expected - log.received,
    deliveredPerSecond: round((log.received / busyMs) * 1000, 0),
    latencyMs: distribution(log.latencies),
    connectMs: round(connectMs, 0),
    cpu: cpuUsed,
  };
}

/**
 * Before rounds or a workload are measured, each sender sends one message and waits for it to reach every
 * client: every server starts the measurement warm (the runtime's sandboxes have made their cold
 * start and first invocation, which the cold-start section measures; the measurement is of steady
 * delivery). Then the room settles again.
 */
async function warmUp(clients: BenchClient[], senders: number): Promise<void> {
  const log = recordReceipts(clients, 'w');
  for (let s = 0; s < senders; s++) clients[s]!.send(`w|${s}|${now()}`);
  const expected = senders * (clients.length - 1);
  const end = Date.now() + 30_000;
  while (log.received < expected && Date.now() < end) await sleep(10);
  await settle();
}

/** One open-loop workload: every sender on its own fixed schedule, staggered across the period. */
async function runRate(kind: ServerKind, server: LiveServer, w: RateWorkload, secret: string): Promise<RateRun> {
  const clients = await connectClients(kind, server.url, w.clients, secret);
  await settle();
  await warmUp(clients, w.senders);
  const log = recordReceipts(clients, 'r');
  const cpu = await cpuMeter(server);
  const periodMs = 1000 / w.perSecond;
  const perSender = Math.max(1, Math.round((w.durationMs / 1000) * w.perSecond));
  const start = now();
  let sent = 0;
  await Promise.all(
    Array.from({ length: w.senders }, async (_, s) => {
      for (let i = 0; i < perSender; i++) {
        // Absolute schedule: a late timer does not push the following sends back.
        const due = start + (s * periodMs) / w.senders + i * periodMs;
        const wait = due - now();
        if (wait > 0) await sleep(wait);
        clients[s]!.send(`r|${s}-${i}|${now()}`);
        sent++;
      }
    }),
  );
  const expected = sent * (w.clients - 1);
  const end = Date.now() + (w.drainMs ?? 10_000);
  while (log.received < expected && Date.now() < end) await sleep(10);
  const busyMs = Math.max(1, (log.received > 0 ? log.lastReceive : now()) - start);
  const cpuUsed = await cpu.read(log.received);
  for (const c of clients) c.close();
  await sleep(300);
  return {
    server: kind,
    judge: w.judge ?? 'latency',
    cpu: cpuUsed,
    clients: w.clients,
    senders: w.senders,
    perSecond: w.perSecond,
    durationMs: w.durationMs,
    offeredPerSecond: w.senders * w.perSecond * (w.clients - 1),
    deliveredPerSecond: round((log.received / busyMs) * 1000, 0),
    expected,
    delivered: log.received,
    lost: expected - log.received,
    latencyMs: distribution(log.latencies),
    perMessage: perMessage(log),
  };
}

export async function measureLive(options: LiveOptions = {}): Promise<LiveResult> {
  const ks = options.clients ?? [100, 1000];
  const senders = options.senders ?? 4;
  const rounds = options.rounds ?? ((k: number) => (k <= 100 ? 10 : 3));
  const servers = options.servers ?? ['runtime', 'ws', 'socketio'];
  const workloads = options.workloads ?? [];
  const secret = randomBytes(24).toString('base64url');
  const runs: LiveRun[] = [];
  const rateRuns: RateRun[] = [];
  const needs = [...ks.map((k) => ({ k, w: undefined })), ...workloads.map((w) => ({ k: w.clients, w }))];
  for (const { k, w } of needs) {
    for (const kind of servers) {
      // A fresh server per workload: what one left behind (a backlog, closing connections) must
      // not count against the next.
      const server = await startLiveServer(kind, { pollers: options.pollers ?? 5, authSecret: secret, ...(options.maxSandboxes ? { maxSandboxes: options.maxSandboxes } : {}) });
      try {
        if (w) rateRuns.push(await runRate(kind, server, w, secret));
        else runs.push(await runOne(kind, server, k, senders, rounds(k), options.roundTimeoutMs ?? 30_000, secret));
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
  const rateRatios = workloads.map((w) => {
    const of = (kind: ServerKind) => rateRuns.find((r) => r.clients === w.clients && r.senders === w.senders && r.perSecond === w.perSecond && r.server === kind);
    const svc = of('runtime');
    const ratio = (a?: number, b?: number) => (a !== undefined && b ? round(a / b, 2) : Number.NaN);
    return {
      clients: w.clients,
      senders: w.senders,
      perSecond: w.perSecond,
      p95VsFloor: ratio(svc?.latencyMs.p95, of('ws')?.latencyMs.p95),
      p95VsPeer: ratio(svc?.latencyMs.p95, of('socketio')?.latencyMs.p95),
      deliveredVsOffered: ratio(svc?.deliveredPerSecond, svc?.offeredPerSecond),
    };
  });
  return { runs, ratios, rateRuns, rateRatios };
}
