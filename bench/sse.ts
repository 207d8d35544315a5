/**
 * 5. SSE. Against the local runtime (in a process of its own, its handlers' AWS requests counted
 * with SDK middleware): publish-to-receive latency of an `eventsource` client (POST /api/message →
 * the `message` event on the stream), and DynamoDB reads (Query, GetItem, BatchGetItem, Scan) per
 * idle SSE client per minute over an idle window with only SSE clients connected, so every read in
 * it is the SSE function's. Measures whatever lambdas/handlers/sse.ts does.
 */
import { EventSource } from 'eventsource';
import { startLiveServer } from './lib/live-server.js';
import { type Distribution, distribution, round, sleep } from './lib/stats.js';

export interface SseOptions {
  publishes?: number;
  idleClients?: number;
  idleWindowMs?: number;
}

export interface SseResult {
  latencyMs: Distribution;
  received: number;
  published: number;
  idleClients: number;
  idleWindowMs: number;
  readsInWindow: Record<string, number>;
  readsPerIdleClientMinute: number;
  otherRequestsInWindow: Record<string, number>;
}

const now = () => performance.timeOrigin + performance.now();
const READS = new Set(['Query', 'GetItem', 'BatchGetItem', 'Scan']);

function open(url: string, onMessage?: (data: { content: string }) => void): Promise<EventSource> {
  return new Promise((resolve, reject) => {
    const source = new EventSource(url);
    const timer = setTimeout(() => {
      source.close();
      reject(new Error('SSE stream did not open'));
    }, 15_000);
    source.addEventListener('open', () => {
      clearTimeout(timer);
      resolve(source);
    });
    if (onMessage) source.addEventListener('message', (ev) => onMessage(JSON.parse(ev.data)));
  });
}

export async function measureSse(options: SseOptions = {}): Promise<SseResult> {
  const publishes = options.publishes ?? 20;
  const idleClients = options.idleClients ?? 5;
  const idleWindowMs = options.idleWindowMs ?? 20_000;
  const server = await startLiveServer('runtime');
  const sources: EventSource[] = [];
  try {
    const room = `sse-${Date.now().toString(36)}`;
    const latencies: number[] = [];
    const sentAt = new Map<string, number>();
    const stream = await open(`${server.sseStreamUrl}?room=${room}`, (data) => {
      const at = sentAt.get(data.content);
      if (at !== undefined) latencies.push(now() - at);
    });
    sources.push(stream);
    await sleep(500);
    for (let i = 0; i < publishes; i++) {
      const content = `sse|${i}`;
      sentAt.set(content, now());
      const res = await fetch(`${server.httpUrl}/api/message`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'text', content, sender: 'bench', room }),
      });
      if (res.status !== 201) throw new Error(`publish answered ${res.status}`);
      await res.arrayBuffer();
      // Spread over the stream's own cycle (a poller would be caught at every phase).
      await sleep(150 + ((i * 97) % 200));
    }
    await sleep(1500);
    stream.close();
    sources.length = 0;

    // Idle window: only idle SSE clients are connected.
    for (let i = 0; i < idleClients; i++) sources.push(await open(`${server.sseStreamUrl}?room=${room}-idle-${i}`));
    await sleep(2000);
    await server.resetCounts();
    await sleep(idleWindowMs);
    const counts = await server.counts();
    const reads: Record<string, number> = {};
    const other: Record<string, number> = {};
    let totalReads = 0;
    for (const [op, n] of Object.entries(counts.dynamo)) {
      if (READS.has(op)) {
        reads[op] = n;
        totalReads += n;
      } else other[`DynamoDB.${op}`] = n;
    }
    for (const [op, n] of Object.entries(counts.sqs)) other[`SQS.${op}`] = n;
    return {
      latencyMs: distribution(latencies),
      received: latencies.length,
      published: publishes,
      idleClients,
      idleWindowMs: counts.sinceMs,
      readsInWindow: reads,
      readsPerIdleClientMinute: round(totalReads / idleClients / (counts.sinceMs / 60_000), 2),
      otherRequestsInWindow: other,
    };
  } finally {
    for (const s of sources) s.close();
    await server.stop();
  }
}
