/**
 * The WebSocket API emulator on its own, with stub handlers in place of the Lambda functions: the
 * API Gateway behaviours that the real handlers never trigger (a throwing integration, $connect
 * refusing or taking long, timeouts, binary frames, subprotocols) and the exact event shapes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AnyHandler } from '../../local/lambda.js';
import { silentLogger } from '../../local/log.js';
import { type WebSocketApiOptions, type WebSocketApi, selectRoute, startWebSocketApi } from '../../local/websocket-api.js';
import { WS_ROUTES } from '../../lambdas/shared/routes.js';
import { waitForEvent, openWs } from './helpers.js';

interface Recorded {
  routeKey: string;
  // biome-ignore lint/suspicious/noExplicitAny: API Gateway events of three shapes, read field by field in assertions
  event: any;
}

let api: WebSocketApi | undefined;
const sockets: WebSocket[] = [];

async function start(
  handlers: { connect?: AnyHandler; message?: AnyHandler } = {},
  options: Partial<WebSocketApiOptions> = {},
): Promise<{ api: WebSocketApi; events: Recorded[]; next: (routeKey: string) => Promise<Recorded> }> {
  const events: Recorded[] = [];
  const listeners = new Set<(r: Recorded) => void>();
  const record = (event: Recorded['event']) => {
    const entry = { routeKey: event.requestContext.routeKey as string, event };
    events.push(entry);
    for (const l of [...listeners]) l(entry);
  };
  api = await startWebSocketApi({
    host: '127.0.0.1',
    port: 0,
    stage: 'test',
    logger: silentLogger,
    functions: {
      wsConnect: async (event, context) => {
        record(event);
        return handlers.connect ? handlers.connect(event, context) : { statusCode: 200 };
      },
      wsDisconnect: async (event) => {
        record(event);
        return { statusCode: 200 };
      },
      wsMessage: async (event, context) => {
        record(event);
        return handlers.message ? handlers.message(event, context) : { statusCode: 200, body: `echo:${event.body}` };
      },
    },
    ...options,
  });
  const next = (routeKey: string) => {
    const seen = events.find((e) => e.routeKey === routeKey);
    if (seen) return Promise.resolve(seen);
    return waitForEvent<Recorded>(
      (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      (e) => e.routeKey === routeKey,
      10_000,
      routeKey,
    );
  };
  return { api, events, next };
}

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await api?.stop();
  api = undefined;
});

function rawSocket(url: string, protocols?: string[]): WebSocket {
  const ws = new WebSocket(url, protocols);
  sockets.push(ws);
  return ws;
}

const closeOf = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));

describe('route selection ($request.body.action)', () => {
  const keys = new Set(WS_ROUTES.map((r) => r.routeKey));
  it('picks the action route for a JSON object with a known string action, $default otherwise', () => {
    expect(selectRoute('{"action":"ping"}', keys)).toBe('ping');
    expect(selectRoute('{"action":"send_text","data":{}}', keys)).toBe('send_text');
    expect(selectRoute('{"action":"dance"}', keys)).toBe('$default');
    expect(selectRoute('{"action":42}', keys)).toBe('$default');
    expect(selectRoute('{"action":"$connect"}', keys)).toBe('$default');
    expect(selectRoute('["ping"]', keys)).toBe('$default');
    expect(selectRoute('not json', keys)).toBe('$default');
  });
});

describe('WebSocket API emulator', () => {
  it('gives $connect, MESSAGE and $disconnect events in API Gateway shapes', async () => {
    const { api, next } = await start();
    const client = await openWs(`${api.url}/?room=lobby&tag=a&tag=b`, { headers: { 'X-Custom': 'yes' } });
    const connect = (await next('$connect')).event;
    expect(connect).toMatchObject({
      headers: expect.objectContaining({ 'X-Custom': 'yes', Host: expect.any(String) }),
      multiValueHeaders: expect.objectContaining({ 'X-Custom': ['yes'] }),
      queryStringParameters: { room: 'lobby', tag: 'b' },
      multiValueQueryStringParameters: { room: ['lobby'], tag: ['a', 'b'] },
      isBase64Encoded: false,
      requestContext: {
        routeKey: '$connect',
        eventType: 'CONNECT',
        stage: 'test',
        messageDirection: 'IN',
        connectionId: expect.stringMatching(/^[A-Za-z0-9]+=$/),
        requestId: expect.any(String),
        connectedAt: expect.any(Number),
        identity: { sourceIp: '127.0.0.1', userAgent: expect.any(String) },
      },
    });
    const connectionId = connect.requestContext.connectionId;

    const echo = client.next((f) => f.raw === 'echo:{"action":"ping"}');
    client.ws.send('{"action":"ping"}');
    await echo;
    const message = (await next('ping')).event;
    expect(message).toMatchObject({
      body: '{"action":"ping"}',
      isBase64Encoded: false,
      requestContext: { routeKey: 'ping', eventType: 'MESSAGE', connectionId, messageId: expect.any(String), stage: 'test' },
    });

    await client.close();
    const disconnect = (await next('$disconnect')).event;
    expect(disconnect.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      connectionId,
      disconnectStatusCode: 1000,
    });
  });

  it("gives every later event of the connection the $connect authorizer's context, as API Gateway does", async () => {
    const authorizer: AnyHandler = async (event) => {
      const token = (event as { queryStringParameters?: Record<string, string> }).queryStringParameters?.token;
      const effect = token === 'good' ? 'Allow' : 'Deny';
      return {
        principalId: 'alice',
        policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: '*' }] },
        context: { userId: 'alice', roles: 'admin' },
      };
    };
    const { api, next } = await start({}, { authorizer });
    const client = await openWs(`${api.url}/?token=good`);
    const expected = { userId: 'alice', roles: 'admin', principalId: 'alice' };
    expect((await next('$connect')).event.requestContext.authorizer).toEqual(expected);
    const echo = client.next((f) => f.raw === 'echo:{"action":"ping"}');
    client.ws.send('{"action":"ping"}');
    await echo;
    expect((await next('ping')).event.requestContext.authorizer).toEqual(expected);
    await client.close();
    expect((await next('$disconnect')).event.requestContext.authorizer).toEqual(expected);
  });

  it('gives no authorizer context without an authorizer', async () => {
    const { api, next } = await start();
    const client = await openWs(api.url);
    const echo = client.next((f) => f.raw === 'echo:{"action":"ping"}');
    client.ws.send('{"action":"ping"}');
    await echo;
    expect((await next('ping')).event.requestContext.authorizer).toBeUndefined();
    await client.close();
  });

  it('rejects the handshake with the status $connect returns, or 500 when it throws', async () => {
    const { api, events } = await start({
      connect: async (event) => {
        if (event.queryStringParameters?.mode === 'throw') throw new Error('boom');
        return { statusCode: 401, body: '{"error":"no"}' };
      },
    });
    await expect(openWs(`${api.url}/?mode=deny`)).rejects.toMatchObject({ status: 401, body: '{"error":"no"}' });
    await expect(openWs(`${api.url}/?mode=throw`)).rejects.toMatchObject({ status: 500 });
    // No connection was made, so no $disconnect.
    expect(events.filter((e) => e.routeKey === '$disconnect')).toHaveLength(0);
    expect(api.connections()).toHaveLength(0);
  });

  it('makes a connection postable only after $connect returned (410 before)', async () => {
    let duringConnect: number | undefined;
    const { api } = await start({
      connect: async (event) => {
        const res = await fetch(`${api.managementUrl}/@connections/${encodeURIComponent(event.requestContext.connectionId)}`, {
          method: 'POST',
          body: 'too early',
        });
        duringConnect = res.status;
        return { statusCode: 200 };
      },
    });
    const client = await openWs(api.url);
    expect(duringConnect).toBe(410);
    const [conn] = api.connections();
    const pushed = client.next((f) => f.raw === 'now');
    const res = await fetch(`${api.managementUrl}/@connections/${encodeURIComponent(conn!.connectionId)}`, { method: 'POST', body: 'now' });
    expect(res.status).toBe(200);
    await pushed;
    expect(client.received((f) => f.raw === 'too early')).toHaveLength(0);
  });

  it("answers a failing integration with API Gateway's Internal server error frame, connection kept", async () => {
    const { api } = await start({
      message: async (event) => {
        if (event.body === 'fail') throw new Error('integration failure');
        return { statusCode: 200, body: 'fine' };
      },
    });
    const client = await openWs(api.url);
    const error = client.next((f) => f.raw.includes('Internal server error'));
    client.ws.send('fail');
    const frame = JSON.parse((await error).raw);
    expect(frame).toEqual({ message: 'Internal server error', connectionId: api.connections()[0]!.connectionId, requestId: expect.any(String) });
    const ok = client.next((f) => f.raw === 'fine');
    client.ws.send('again');
    await ok;
  });

  it('sends nothing back when the handler returns no body', async () => {
    const { api, next } = await start({ message: async () => ({ statusCode: 200 }) });
    const client = await openWs(api.url);
    client.ws.send('quiet');
    await next('$default');
    const marker = client.next((f) => f.raw === 'marker');
    await fetch(`${api.managementUrl}/@connections/${encodeURIComponent(api.connections()[0]!.connectionId)}`, { method: 'POST', body: 'marker' });
    await marker;
    expect(client.frames.map((f) => f.raw)).toEqual(['marker']);
  });

  it('closes idle connections with 1001 Going away, activity keeps them open', async () => {
    const { api, next } = await start({}, { idleTimeoutMs: 800 });
    const ws = rawSocket(api.url);
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = closeOf(ws);
    let open = true;
    void closed.then(() => {
      open = false;
    });
    // Messages every 100 ms for 1.6 s (two idle periods): still open.
    for (let i = 0; i < 16; i++) {
      ws.send('{"action":"ping"}');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(open).toBe(true);
    expect(await closed).toEqual({ code: 1001, reason: 'Going away' });
    expect((await next('$disconnect')).event.requestContext).toMatchObject({ disconnectStatusCode: 1001, disconnectReason: 'Going away' });
  });

  it('closes a connection at its maximum duration with 1001 Going away, however active', async () => {
    const { api, next } = await start({}, { maxConnectionMs: 500 });
    const ws = rawSocket(api.url);
    await new Promise((resolve) => ws.once('open', resolve));
    const timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"action":"ping"}'), 50);
    try {
      expect(await closeOf(ws)).toEqual({ code: 1001, reason: 'Going away' });
    } finally {
      clearInterval(timer);
    }
    await next('$disconnect');
  });

  it('closes with 1003 on a binary message (API Gateway accepts text frames only)', async () => {
    const { api } = await start();
    const ws = rawSocket(api.url);
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = closeOf(ws);
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await closed).code).toBe(1003);
  });

  it('enforces 32 KB per frame and 128 KB per message with 1009; a fragmented 128 KB message is fine', async () => {
    const { api, next } = await start({ message: async () => ({ statusCode: 200, body: 'got it' }) });
    const ok = await openWs(api.url);
    const reply = ok.next((f) => f.raw === 'got it');
    const full = Buffer.alloc(128 * 1024, 'z');
    for (let offset = 0; offset < full.length; offset += 32 * 1024) {
      ok.ws.send(full.subarray(offset, offset + 32 * 1024), { binary: false, fin: offset + 32 * 1024 >= full.length });
    }
    await reply;
    expect((await next('$default')).event.body).toHaveLength(128 * 1024);

    const frame = rawSocket(api.url);
    await new Promise((resolve) => frame.once('open', resolve));
    const frameClosed = closeOf(frame);
    frame.send(Buffer.alloc(32 * 1024 + 1, 'a'), { binary: false });
    expect(await frameClosed).toEqual({ code: 1009, reason: 'Message too big' });
  });

  it('splits messages it sends into frames of at most 32 KB', async () => {
    const { api } = await start();
    const ws = rawSocket(api.url);
    await new Promise((resolve) => ws.once('open', resolve));
    // Observe the frame lengths the client parses.
    const frames: number[] = [];
    const receiver = (ws as unknown as { _receiver: { haveLength: (cb: unknown) => void; _payloadLength: number; _opcode: number } })._receiver;
    const haveLength = receiver.haveLength;
    receiver.haveLength = function (this: typeof receiver, cb: unknown) {
      if (this._opcode < 8) frames.push(this._payloadLength);
      return haveLength.call(this, cb);
    };
    const message = new Promise<string>((resolve) => ws.once('message', (data) => resolve(data.toString())));
    const payload = 'p'.repeat(100 * 1024);
    const res = await fetch(`${api.managementUrl}/@connections/${encodeURIComponent(api.connections()[0]!.connectionId)}`, { method: 'POST', body: payload });
    expect(res.status).toBe(200);
    expect(await message).toBe(payload);
    expect(frames).toEqual([32 * 1024, 32 * 1024, 32 * 1024, 4 * 1024]);
  });

  it('selects the subprotocol $connect returns, and refuses one it does not', async () => {
    const { api } = await start({
      connect: async (event) =>
        event.queryStringParameters?.accept === 'yes' ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'chat.v1' } } : { statusCode: 200 },
    });
    const ws = rawSocket(`${api.url}/?accept=yes`, ['chat.v1']);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    expect(ws.protocol).toBe('chat.v1');
    const refused = rawSocket(`${api.url}/?accept=no`, ['chat.v1']);
    await expect(
      new Promise((resolve, reject) => {
        refused.once('open', resolve);
        refused.once('error', reject);
      }),
    ).rejects.toThrow(/subprotocol/);
  });
});
