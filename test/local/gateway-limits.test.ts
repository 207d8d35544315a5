/**
 * What API Gateway enforces in front of the functions, as the template configures it: the stages'
 * throttling (a token bucket per stage: 429 on the HTTP API and on a WebSocket handshake, an error
 * frame for a WebSocket message) and the HTTP authorizer's result cache (one invocation per
 * Authorization header per TTL; failures not cached).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizerResultCache, type AuthDecision } from '../../local/authorizers.js';
import { HTTP_API_CORS } from '../../local/cors.js';
import { type HttpApi, startHttpApi } from '../../local/http-api.js';
import type { AnyHandler } from '../../local/lambda.js';
import { silentLogger } from '../../local/log.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { loadFunctionTemplate } from '../../local/template.js';
import { TokenBucket } from '../../local/throttle.js';
import { type WsClient, getJson, openWs, postJson, uniqueRoom } from './helpers.js';

describe('TokenBucket', () => {
  it('lets a burst through, then one request per 1/rate seconds', () => {
    let now = 0;
    const bucket = new TokenBucket({ rateLimit: 2, burstLimit: 3 }, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now += 499;
    expect(bucket.take()).toBe(false);
    now += 1;
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    // Idle for long: it holds at most the burst.
    now += 60_000;
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });
});

describe('AuthorizerResultCache', () => {
  const allowed: AuthDecision = { allowed: true, context: { userId: 'alice' } };
  const denied: AuthDecision = { allowed: false, status: 403, message: 'Forbidden' };
  const failed: AuthDecision = { allowed: false, status: 500, message: 'Internal Server Error' };

  function counting(decision: AuthDecision) {
    const calls = { n: 0 };
    const authorize = async () => {
      calls.n++;
      return decision;
    };
    return { calls, authorize };
  }

  it('reuses a decision per identity until its TTL ends', async () => {
    let now = 1_000_000;
    const cache = new AuthorizerResultCache(300, () => now);
    const a = counting(allowed);
    expect(await cache.decide('Bearer a', a.authorize)).toEqual(allowed);
    expect(await cache.decide('Bearer a', a.authorize)).toEqual(allowed);
    expect(a.calls.n).toBe(1);
    const b = counting(denied);
    expect(await cache.decide('Bearer b', b.authorize)).toEqual(denied);
    expect(await cache.decide('Bearer b', b.authorize)).toEqual(denied);
    expect(b.calls.n).toBe(1);
    now += 299_999;
    await cache.decide('Bearer a', a.authorize);
    expect(a.calls.n).toBe(1);
    now += 1;
    await cache.decide('Bearer a', a.authorize);
    expect(a.calls.n).toBe(2);
  });

  it('caches no failure, no missing identity, and nothing with a TTL of 0', async () => {
    const cache = new AuthorizerResultCache(300);
    const f = counting(failed);
    await cache.decide('Bearer f', f.authorize);
    await cache.decide('Bearer f', f.authorize);
    expect(f.calls.n).toBe(2);
    const none = counting({ allowed: false, status: 401, message: 'Unauthorized' });
    await cache.decide(undefined, none.authorize);
    await cache.decide(undefined, none.authorize);
    expect(none.calls.n).toBe(2);
    const off = new AuthorizerResultCache(0);
    const a = counting(allowed);
    await off.decide('Bearer a', a.authorize);
    await off.decide('Bearer a', a.authorize);
    expect(a.calls.n).toBe(2);
  });
});

describe('HTTP API with a caching authorizer (stub functions, real HTTP)', () => {
  let api: HttpApi | undefined;
  afterEach(async () => {
    await api?.stop();
    api = undefined;
  });

  it('invokes the authorizer once per Authorization header and reuses 200 and 403 answers, not 500', async () => {
    const seen: string[] = [];
    const authorizer: AnyHandler = async (event) => {
      const header = (event as { headers: Record<string, string> }).headers.authorization!;
      seen.push(header);
      if (header === 'Bearer broken') throw new Error('authorizer bug');
      return { isAuthorized: header === 'Bearer good', context: { userId: 'alice' } };
    };
    const handler: AnyHandler = async (event) => ({
      statusCode: 201,
      body: JSON.stringify({ authorizer: (event as { requestContext: { authorizer?: unknown } }).requestContext.authorizer }),
    });
    api = await startHttpApi({
      host: '127.0.0.1',
      port: 0,
      handler,
      authorizer,
      authorizerCacheTtlSeconds: 300,
      cors: { allowOrigins: [], ...HTTP_API_CORS },
      runtimeConfig: () => ({}),
      logger: silentLogger,
    });
    const send = (authorization?: string) => postJson(`${api!.url}/api/message`, { type: 'text', content: 'x' }, authorization ? { authorization } : {});
    for (let i = 0; i < 2; i++) {
      const ok = await send('Bearer good');
      expect(ok.status).toBe(201);
      expect(ok.body).toEqual({ authorizer: { lambda: { userId: 'alice' } } });
      expect((await send('Bearer bad')).status).toBe(403);
      expect((await send('Bearer broken')).status).toBe(500);
      expect((await send()).status).toBe(401);
    }
    expect(seen).toEqual(['Bearer good', 'Bearer bad', 'Bearer broken', 'Bearer broken']);
  });
});

describe('stage throttling from the template', () => {
  // A burst of 2 that refills one token per 1,000 s: however slow the machine, a test's requests
  // (a cold start or two included) all fall in that one burst.
  const THROTTLE = { throttleRateLimit: 0.001, throttleBurstLimit: 2 };
  let rt: Runtime;
  const clients: WsClient[] = [];

  beforeAll(async () => {
    rt = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, context: THROTTLE });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await rt?.stop();
  });

  it('is what the deployed stages set: 1,000 requests a second, bursts of 2,000, on both APIs', async () => {
    const { gateways } = await loadFunctionTemplate();
    expect(gateways.http.throttle).toEqual({ rateLimit: 1000, burstLimit: 2000 });
    expect(gateways.webSocket.throttle).toEqual({ rateLimit: 1000, burstLimit: 2000 });
    expect(gateways.http.authorizerCacheTtlSeconds).toBe(300);
  });

  it('answers HTTP requests over the burst with 429 and API Gateway’s body; the page is not counted', async () => {
    const answers = await Promise.all(Array.from({ length: 4 }, () => getJson(`${rt.httpUrl}/api/health`)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 429, 429]);
    expect(answers.find((a) => a.status === 429)!.body).toEqual({ message: 'Too Many Requests' });
    expect((await getJson(`${rt.httpUrl}/config.json`)).status).toBe(200);
  });

  it('counts WebSocket handshakes and messages in a bucket of the WebSocket stage', async () => {
    const room = uniqueRoom('throttle');
    const client = await openWs(`${rt.wsUrl}?room=${room}`);
    clients.push(client);
    await client.nextEvent('connected');
    // The handshake took the first token; this message the second.
    await client.request('send_text', { text: 'within the burst', sender: 'tester' }, 'message_received');
    client.send('send_text', { text: 'over it', sender: 'tester' });
    const refused = await client.next((f) => f.data.message === 'Too Many Requests');
    expect(refused.data).toEqual({ message: 'Too Many Requests', connectionId: expect.any(String), requestId: expect.any(String) });
    await expect(openWs(`${rt.wsUrl}?room=${room}`)).rejects.toMatchObject({ status: 429 });
  });
});
