/**
 * The LocalStack path without LocalStack: the runtime pointed at one AWS endpoint URL (as
 * AWS_ENDPOINT_URL=http://localhost:4566 would be), here a small edge router in front of the
 * embedded emulators that dispatches on `x-amz-target` as LocalStack's edge port does (S3, the
 * media bucket, is what has none). Provisioning
 * and every handler call must go through that one URL.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulators, startEmulators } from '../../local/emulators.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { getJson, joinRoom, postJson, textMessage, uniqueRoom } from './helpers.js';

let emulators: Emulators;
let edge: Server;
let edgeUrl: string;
let rt: Runtime;
const hits = { dynamodb: 0, sqs: 0, s3: 0 };

function forward(target: string, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', target);
  const upstream = request(url, { method: req.method, headers: req.headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  upstream.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
}

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  emulators = await startEmulators();
  edge = createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target.startsWith('DynamoDB_')) {
      hits.dynamodb++;
      forward(emulators.dynamoEndpoint, req, res);
    } else if (target.startsWith('AmazonSQS.')) {
      hits.sqs++;
      forward(emulators.sqsEndpoint, req, res);
    } else {
      // The rest is S3 (REST paths, no target header), which fauxqs serves on its SQS port.
      hits.s3++;
      forward(emulators.sqsEndpoint, req, res);
    }
  });
  await new Promise<void>((resolve) => edge.listen(0, '127.0.0.1', () => resolve()));
  edgeUrl = `http://127.0.0.1:${(edge.address() as AddressInfo).port}`;
  rt = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, awsEndpoint: edgeUrl, resourcePrefix: 'edge-' });
});

afterAll(async () => {
  await rt?.stop();
  await new Promise<void>((resolve) => {
    edge?.close(() => resolve());
    edge?.closeAllConnections();
  });
  await emulators?.stop();
});

describe('DynamoDB and SQS behind one endpoint URL (LocalStack style)', () => {
  it('provisions through the endpoint and serves the whole flow through it', async () => {
    expect(rt.dynamoEndpoint).toBe(edgeUrl);
    expect(rt.sqsEndpoint).toBe(edgeUrl);
    expect(rt.taskQueueUrl).toBe(`${edgeUrl}/000000000000/edge-Tasks`);
    // dynalite has no UpdateTimeToLive: reported, not fatal (LocalStack and AWS have it).
    expect(rt.resources.warnings.join('\n')).toMatch(/TTL not enabled on edge-Connections/);

    const room = uniqueRoom('edge');
    const { client } = await joinRoom(rt, room);
    const res = await postJson(`${rt.httpUrl}/api/message`, textMessage('through the edge', 'e', room));
    expect(res.status).toBe(201);
    await client.nextEvent('message', (f) => f.data.id === res.body.message.id);
    const history = await getJson(`${rt.httpUrl}/api/messages?room=${room}`);
    expect(history.body.messages.map((m: { id: string }) => m.id)).toEqual([res.body.message.id]);
    await client.close();
    expect(hits.dynamodb).toBeGreaterThan(0);
    expect(hits.sqs).toBeGreaterThan(0);
    expect(hits.s3).toBeGreaterThan(0);
  });
});
