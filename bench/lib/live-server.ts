/**
 * Servers of the live-delivery and SSE measurements, each in a process of its own (the clients run
 * in the bench process): `runtime` (the local runtime, local/runtime.ts, with the handlers' AWS
 * requests counted through addClientMiddleware), `ws` (a plain `ws` broadcast server: the floor)
 * and `socketio` (a Socket.IO 4 server with rooms: the peer the seed was built on).
 *
 * `startLiveServer(kind)` forks this file; the child answers over IPC.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export type ServerKind = 'runtime' | 'ws' | 'socketio';

export interface LiveServerInfo {
  kind: ServerKind;
  /** WebSocket URL (runtime, ws) or HTTP URL (socketio). */
  url: string;
  httpUrl?: string;
  sseStreamUrl?: string;
  pid: number;
}

export interface ReadCounts {
  /** DynamoDB requests by operation since the last reset. */
  dynamo: Record<string, number>;
  sqs: Record<string, number>;
  /** Wall time since the last reset (ms). */
  sinceMs: number;
}

export interface LiveServer extends LiveServerInfo {
  counts(): Promise<ReadCounts>;
  resetCounts(): Promise<void>;
  /** CPU the server process has used so far, every thread (ms, user + system). */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

export interface LiveServerOptions {
  /** Runtime: concurrent SQS pollers of the task queue. */
  pollers?: number;
  /** Runtime: auth on as deployed, tokens signed with this HS256 secret (the bench signs its clients' tokens). */
  authSecret?: string;
  /** Runtime: sandboxes per function (default: the runtime's). */
  maxSandboxes?: number;
}

export async function startLiveServer(kind: ServerKind, options: LiveServerOptions = {}): Promise<LiveServer> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child', kind], {
    // BENCH_PROFILE_DIR: a V8 CPU profile of the server (every thread: the runtime's main thread and each sandbox).
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}/${kind}`] : [])],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, LIVE_OPTIONS: JSON.stringify(options), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const info = await new Promise<LiveServerInfo>((resolve, reject) => {
    child.once('message', (m: { info?: LiveServerInfo; error?: string }) => (m.info ? resolve(m.info) : reject(new Error(m.error ?? 'server failed'))));
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
  let next = 1;
  const waiting = new Map<number, (v: unknown) => void>();
  child.on('message', (m: { id?: number; value?: unknown }) => {
    if (m.id !== undefined) waiting.get(m.id)?.(m.value);
  });
  const call = <T>(op: string) =>
    new Promise<T>((resolve) => {
      const id = next++;
      waiting.set(id, (v) => {
        waiting.delete(id);
        resolve(v as T);
      });
      child.send({ id, op });
    });
  return {
    ...info,
    pid: child.pid ?? 0,
    counts: () => call<ReadCounts>('counts'),
    resetCounts: () => call<void>('reset'),
    cpuMs: () => call<number>('cpu'),
    async stop() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ id: 0, op: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---- child side ----------------------------------------------------------------------------

interface Counters {
  dynamo: Record<string, number>;
  sqs: Record<string, number>;
  since: number;
}

async function runtimeServer(options: LiveServerOptions, counters: Counters) {
  const { addClientMiddleware } = await import('../../lambdas/adapters/clients.js');
  addClientMiddleware({
    applyToStack(stack: { add: (mw: unknown, options: unknown) => void }) {
      stack.add(
        (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => async (args: unknown) => {
          const op = (context.commandName ?? '').replace(/Command$/, '');
          if (context.clientName === 'DynamoDBClient') counters.dynamo[op] = (counters.dynamo[op] ?? 0) + 1;
          if (context.clientName === 'SQSClient') counters.sqs[op] = (counters.sqs[op] ?? 0) + 1;
          return next(args);
        },
        { step: 'initialize', name: 'benchLiveCounter' },
      );
    },
  } as never);
  const { startRuntime } = await import('../../local/runtime.js');
  const rt = await startRuntime({
    httpPort: 0,
    wsPort: 0,
    ssePort: 0,
    quiet: true,
    pollers: options.pollers,
    ...(options.authSecret ? { auth: { secret: options.authSecret } } : {}),
    ...(options.maxSandboxes ? { maxSandboxes: options.maxSandboxes } : {}),
    // Rate limits raised for the run, as a load-test stage would deploy them (CDK context).
    context: { ratePerConnection: 1_000_000, ratePerUser: 1_000_000 },
  });
  return { info: { url: rt.wsUrl, httpUrl: rt.httpUrl, sseStreamUrl: rt.sseStreamUrl }, stop: () => rt.stop() };
}

/** The floor: a `ws` server that broadcasts each message to the other clients of the room. */
async function wsServer() {
  const { WebSocketServer } = await import('ws');
  const rooms = new Map<string, Set<import('ws').WebSocket>>();
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const room = new URL(req.url ?? '/', 'http://x').searchParams.get('room') ?? 'general';
    let members = rooms.get(room);
    if (!members) {
      members = new Set();
      rooms.set(room, members);
    }
    members.add(ws);
    ws.on('close', () => members!.delete(ws));
    ws.send(JSON.stringify({ event: 'connected', data: { room } }));
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as { action: string; data: { text: string; sender: string } };
      const message = { id: String(Date.now()), type: 'text', content: frame.data.text, sender: frame.data.sender, room, timestamp: new Date().toISOString() };
      const out = JSON.stringify({ event: 'message', data: message });
      for (const peer of members!) if (peer !== ws && peer.readyState === 1) peer.send(out);
      ws.send(JSON.stringify({ event: 'message_received', data: { id: message.id, status: 'received', room } }));
    });
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as AddressInfo;
  return { info: { url: `ws://127.0.0.1:${port}` }, stop: () => new Promise<void>((resolve) => wss.close(() => resolve())) };
}

/** The peer: Socket.IO with rooms, WebSocket transport only. */
async function socketioServer() {
  const { Server } = await import('socket.io');
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
  io.on('connection', (socket) => {
    const room = String(socket.handshake.query.room ?? 'general');
    socket.join(room);
    socket.emit('connected', { room });
    socket.on('send_text', (data: { text: string; sender: string }, ack?: (reply: unknown) => void) => {
      const message = { id: String(Date.now()), type: 'text', content: data.text, sender: data.sender, room, timestamp: new Date().toISOString() };
      socket.to(room).emit('message', message);
      ack?.({ id: message.id, status: 'received', room });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const { port } = http.address() as AddressInfo;
  return { info: { url: `http://127.0.0.1:${port}` }, stop: () => new Promise<void>((resolve) => io.close(() => resolve())) };
}

if (process.argv.includes('--child')) {
  const kind = process.argv[process.argv.indexOf('--child') + 1] as ServerKind;
  const options = JSON.parse(process.env.LIVE_OPTIONS ?? '{}') as LiveServerOptions;
  const counters: Counters = { dynamo: {}, sqs: {}, since: Date.now() };
  try {
    const server = kind === 'runtime' ? await runtimeServer(options, counters) : kind === 'ws' ? await wsServer() : await socketioServer();
    process.send?.({ info: { kind, pid: process.pid, ...server.info } });
    process.on('message', async (m: { id: number; op: string }) => {
      if (m.op === 'counts') process.send?.({ id: m.id, value: { dynamo: counters.dynamo, sqs: counters.sqs, sinceMs: Date.now() - counters.since } });
      else if (m.op === 'cpu') {
        const { user, system } = process.cpuUsage();
        process.send?.({ id: m.id, value: (user + system) / 1000 });
      }
      else if (m.op === 'reset') {
        counters.dynamo = {};
        counters.sqs = {};
        counters.since = Date.now();
        process.send?.({ id: m.id });
      } else if (m.op === 'stop') {
        await server.stop().catch(() => undefined);
        process.exit(0);
      }
    });
    process.on('disconnect', () => {
      server.stop().finally(() => process.exit(0));
    });
  } catch (error) {
    process.send?.({ error: String((error as Error).stack ?? error) });
    process.exit(1);
  }
}
