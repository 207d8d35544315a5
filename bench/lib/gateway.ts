/**
 * An `@connections` endpoint for the bench: answers `POST /{stage}/@connections/{id}` after a
 * configurable latency (API Gateway's PostToConnection takes tens of ms) and throttles at a
 * configurable account rate with a token bucket, answering 429 `LimitExceededException` above it,
 * as API Gateway does. It records every delivery per connection, so a run can check that every
 * connection got the message exactly once and that no connection that saw a 429 was left without.
 *
 * It is a minimal HTTP/1.1 server on `node:net` (keep-alive, Content-Length bodies, no pipelining
 * needed: the SDK sends one request per socket at a time), so that the emulator itself costs little
 * CPU next to the code under test on this 2-core machine. No real sockets to clients: a delivery is
 * only counted.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { TokenBucket } from '../../local/throttle.js';

export interface GatewayOptions {
  /** Delay before answering a post (ms). */
  latencyMs?: number;
  /** Account rate (requests/s); Infinity for none. */
  ratePerSecond?: number;
  /** Token bucket size: requests allowed in a burst (default: a tenth of a second at the rate). */
  burst?: number;
  host?: string;
  port?: number;
}

export interface GatewayStats {
  /** Requests answered, by status. */
  statuses: Record<string, number>;
  /** Distinct connections that got at least one 200. */
  delivered: number;
  /** 200s beyond the first per connection (duplicates). */
  duplicates: number;
  /** Connections that were answered 429 at least once and never got a 200. */
  throttledNeverDelivered: number;
  /** Epoch ms (fractional) of the first and last 200. */
  firstDeliveryAt?: number;
  lastDeliveryAt?: number;
  /** Payload bytes of the 200s, and their number in 32 KB units (API Gateway's message metering). */
  deliveredBytes: number;
  deliveredUnits: number;
  /** 200s per 100 ms after the first one (the delivery rate over time). */
  timeline: number[];
}

export interface Gateway {
  /** Base URL with the stage, as API Gateway's callback URL (the SDK's `endpoint`). */
  url: string;
  stats(): GatewayStats;
  /** Delivery count per connection id. */
  deliveries(): Map<string, number>;
  reset(): void;
  configure(options: Pick<GatewayOptions, 'latencyMs' | 'ratePerSecond' | 'burst'>): void;
  stop(): Promise<void>;
}

const now = () => performance.timeOrigin + performance.now();
const CRLF2 = Buffer.from('\r\n\r\n');
const OK = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-amzn-RequestId: bench\r\nContent-Length: 0\r\n\r\n');
const errorResponse = (status: number, reason: string, type: string, message: string) => {
  const body = JSON.stringify({ message });
  return Buffer.from(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nx-amzn-ErrorType: ${type}\r\nx-amzn-RequestId: bench\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
};
const THROTTLED = errorResponse(429, 'Too Many Requests', 'LimitExceededException', 'Rate exceeded');
const NOT_FOUND = errorResponse(404, 'Not Found', 'NotFoundException', 'Not Found');

export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  let latencyMs = options.latencyMs ?? 20;
  let rate = options.ratePerSecond ?? Number.POSITIVE_INFINITY;
  let burst = options.burst ?? (Number.isFinite(rate) ? Math.max(1, rate / 10) : Number.POSITIVE_INFINITY);
  // No bucket at an unlimited rate: every request passes.
  const bucketFor = () => (Number.isFinite(rate) ? new TokenBucket({ rateLimit: rate, burstLimit: burst }, now) : undefined);
  let bucket = bucketFor();

  const counts = new Map<string, number>();
  const throttledIds = new Set<string>();
  let statuses: Record<string, number> = {};
  let firstDeliveryAt: number | undefined;
  let lastDeliveryAt: number | undefined;
  let deliveredBytes = 0;
  let deliveredUnits = 0;
  let timeline: number[] = [];

  const take = (): boolean => bucket?.take() ?? true;

  const handle = (socket: Socket, method: string, path: string, body: Buffer) => {
    const match = /\/@connections\/([^/?]+)/.exec(path) ?? /\/%40connections\/([^/?]+)/.exec(path);
    if (!match || method !== 'POST') {
      statuses['404'] = (statuses['404'] ?? 0) + 1;
      socket.write(NOT_FOUND);
      return;
    }
    const id = decodeURIComponent(match[1]!);
    if (!take()) {
      statuses['429'] = (statuses['429'] ?? 0) + 1;
      throttledIds.add(id);
      socket.write(THROTTLED);
      return;
    }
    const answer = () => {
      if (socket.destroyed) return;
      const t = now();
      firstDeliveryAt ??= t;
      lastDeliveryAt = t;
      const slot = Math.floor((t - firstDeliveryAt) / 100);
      timeline[slot] = (timeline[slot] ?? 0) + 1;
      statuses['200'] = (statuses['200'] ?? 0) + 1;
      counts.set(id, (counts.get(id) ?? 0) + 1);
      deliveredBytes += body.length;
      deliveredUnits += Math.max(1, Math.ceil(body.length / (32 * 1024)));
      socket.write(OK);
    };
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  };

  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    let buffer: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf(CRLF2);
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString('latin1');
        const lines = head.split('\r\n');
        const [method = '', path = ''] = lines[0]!.split(' ');
        let length = 0;
        for (let i = 1; i < lines.length; i++) {
          const line = lines[i]!;
          if (line.length > 15 && line.slice(0, 15).toLowerCase() === 'content-length:') length = Number(line.slice(15).trim());
        }
        const total = end + 4 + length;
        if (buffer.length < total) return;
        const body = buffer.subarray(end + 4, total);
        buffer = buffer.subarray(total);
        handle(socket, method, path, body);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/bench`,
    stats() {
      let duplicates = 0;
      for (const n of counts.values()) duplicates += n - 1;
      let throttledNeverDelivered = 0;
      for (const id of throttledIds) if (!counts.has(id)) throttledNeverDelivered++;
      return {
        statuses: { ...statuses },
        delivered: counts.size,
        duplicates,
        throttledNeverDelivered,
        firstDeliveryAt,
        lastDeliveryAt,
        deliveredBytes,
        deliveredUnits,
        timeline: Array.from(timeline, (v) => v ?? 0),
      };
    },
    deliveries: () => new Map(counts),
    reset() {
      counts.clear();
      throttledIds.clear();
      statuses = {};
      firstDeliveryAt = undefined;
      lastDeliveryAt = undefined;
      deliveredBytes = 0;
      deliveredUnits = 0;
      timeline = [];
      bucket = bucketFor();
    },
    configure(next) {
      if (next.latencyMs !== undefined) latencyMs = next.latencyMs;
      if (next.ratePerSecond !== undefined) rate = next.ratePerSecond;
      if (next.burst !== undefined || next.ratePerSecond !== undefined) {
        burst = next.burst ?? (Number.isFinite(rate) ? Math.max(1, rate / 10) : Number.POSITIVE_INFINITY);
      }
      bucket = bucketFor();
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
