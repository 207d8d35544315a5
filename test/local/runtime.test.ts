/**
 * The local runtime end to end: started on free ports, driven only through its public endpoints
 * with real clients (fetch, ws, the AWS SDK's management client), with the real handlers behind.
 */
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { HTTP_ROUTES, WS_ACTIONS } from '../../lambdas/shared/routes.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { b64, png, wav } from '../support/media.js';
import { type WsClient, getJson, joinRoom, openWs, postJson, textMessage, uniqueRoom } from './helpers.js';

let rt: Runtime;
const clients: WsClient[] = [];

async function join(room: string) {
  const joined = await joinRoom(rt, room);
  clients.push(joined.client);
  return joined;
}

beforeAll(async () => {
  rt = await startRuntime({
    httpPort: 0,
    wsPort: 0,
    ssePort: 0,
    quiet: true,
    // Every local caller is `anonymous` with auth off: lift the per-user limit for the test's burst.
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await rt?.stop();
});

describe('HTTP API', () => {
  it('serves the health route with API Gateway response headers', async () => {
    const res = await getJson(`${rt.httpUrl}/api/health`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'healthy', service: 'chat-service' });
    expect(res.headers.get('apigw-requestid')).toMatch(/=$/);
  });

  it('serves every route of HTTP_ROUTES (no route falls through to 404)', async () => {
    for (const route of HTTP_ROUTES) {
      const res = await fetch(`${rt.httpUrl}${route.path}`, {
        method: route.method,
        redirect: 'manual',
        ...(route.method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
      });
      await res.arrayBuffer();
      expect(res.status, `${route.method} ${route.path}`).not.toBe(404);
    }
  });

  it('answers unknown routes and wrong methods with the service error format', async () => {
    const missing = await getJson(`${rt.httpUrl}/api/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    const wrongMethod = await getJson(`${rt.httpUrl}/api/message`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error.code).toBe('method_not_allowed');
  });

  it('POST /api/message stores the message and fans it out to the room only', async () => {
    const room = uniqueRoom('rest');
    const { client: member } = await join(room);
    const { client: outsider } = await join(uniqueRoom('elsewhere'));
    const marker = `rest-${Date.now()}`;
    const res = await postJson(`${rt.httpUrl}/api/message`, textMessage(marker, 'alice', room));
    expect(res.status).toBe(201);
    expect(res.body.message).toMatchObject({ type: 'text', content: marker, sender: 'alice', room });
    expect(res.body.message.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const frame = await member.nextEvent('message', (f) => f.data.content === marker);
    expect(frame.data.id).toBe(res.body.message.id);
    // A small room is fanned out inline: delivery is over when the request has been answered.
    await outsider.roundTrip();
    expect(outsider.received((f) => f.raw.includes(marker))).toHaveLength(0);
  });

  it('POST /api/messages/broadcast reaches every connection', async () => {
    const { client: a } = await join(uniqueRoom('b1'));
    const { client: b } = await join(uniqueRoom('b2'));
    const marker = `broadcast-${Date.now()}`;
    const res = await postJson(`${rt.httpUrl}/api/messages/broadcast`, textMessage(marker, 'ops'));
    expect(res.status).toBe(201);
    for (const client of [a, b]) {
      const frame = await client.nextEvent('broadcast', (f) => f.data.content === marker);
      expect(frame.data.id).toBe(res.body.message.id);
    }
  });

  it('POST /api/events/publish reaches WebSocket clients as a notification', async () => {
    const { client } = await join(uniqueRoom('pub'));
    const res = await postJson(`${rt.httpUrl}/api/events/publish`, { event_type: 'deploy', data: { version: 42 } });
    expect(res.status).toBe(201);
    const frame = await client.nextEvent('notification', (f) => f.data.id === res.body.event.id);
    expect(frame.data).toMatchObject({ event_type: 'deploy', data: { version: 42 } });
  });

  it('GET /api/messages pages back through a room history with no gap and no duplicate', async () => {
    const room = uniqueRoom('hist');
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await postJson(`${rt.httpUrl}/api/message`, textMessage(`m${i}`, 'alice', room));
      sent.push(res.body.message.id);
    }
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const query = new URLSearchParams({ room, limit: '2', ...(before ? { before } : {}) });
      const page = await getJson(`${rt.httpUrl}/api/messages?${query}`);
      expect(page.status).toBe(200);
      expect(page.body.room).toBe(room);
      seen.unshift(...page.body.messages.map((m: { id: string }) => m.id));
      before = page.body.next_before;
      pages++;
    } while (before && pages < 10);
    expect(seen).toEqual(sent);
    expect(pages).toBe(3);
  });

  it('GET /api/events redirects (307) to the SSE Function URL, query string kept', async () => {
    const res = await getJson(`${rt.httpUrl}/api/events?room=lobby`);
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe(`${rt.sseStreamUrl}?room=lobby`);
  });

  it('rejects bodies over the HTTP API payload limit (10 MB) with 413, before the handler', async () => {
    const res = await fetch(`${rt.httpUrl}/api/message`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ message: 'Request Entity Too Large' });
    // Under the gateway limit, the handler's own limit applies, in the service's error format.
    const handlerLimit = await postJson(`${rt.httpUrl}/api/message`, textMessage('x'.repeat(LIMITS.httpBodyMaxBytes + 10)));
    expect(handlerLimit.status).toBe(413);
    expect(handlerLimit.body.error.code).toBe('payload_too_large');
  });

  it('answers CORS preflights and adds allow-origin for allowed origins only', async () => {
    const origin = new URL(rt.httpUrl).origin;
    const preflight = await fetch(`${rt.httpUrl}/api/message`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = await getJson(`${rt.httpUrl}/api/health`, { origin });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(origin);
    const other = await getJson(`${rt.httpUrl}/api/health`, { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves the chat page at / and the runtime URLs at /config.json', async () => {
    const page = await fetch(`${rt.httpUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/(html|plain)/);
    await page.arrayBuffer();
    const config = await getJson(`${rt.httpUrl}/config.json`);
    expect(config.body).toMatchObject({ httpUrl: rt.httpUrl, wsUrl: rt.wsUrl, sseStreamUrl: rt.sseStreamUrl });
  });
});

describe('WebSocket API', () => {
  it('greets a new connection with `connected` without being asked', async () => {
    const room = uniqueRoom('greet');
    const client = await openWs(`${rt.wsUrl}?room=${room}`);
    clients.push(client);
    const frame = await client.nextEvent('connected');
    expect(frame.data).toMatchObject({ room, connection_id: expect.stringMatching(/=$/) });
  });

  it('rejects the handshake with the status $connect returns', async () => {
    await expect(openWs(`${rt.wsUrl}?room=${encodeURIComponent('not a room!')}`)).rejects.toMatchObject({ status: 400 });
  });

  it('routes every action of WS_ACTIONS (none reaches $default as unknown)', async () => {
    const { client } = await join(uniqueRoom('routes'));
    const replyEvents = new Set(['pong', 'message_received', 'joined', 'left', 'resumed', 'error']);
    for (const action of WS_ACTIONS) {
      const reply = client.next((f) => replyEvents.has(f.event), 10_000, `the reply to ${action}`);
      client.send(action, {});
      const frame = await reply;
      if (frame.event === 'error') expect(frame.data.code, action).not.toBe('unknown_action');
    }
  });

  it('delivers text, image and audio: message_received to the sender, message to the room, nothing to other rooms', async () => {
    const room = uniqueRoom('chat');
    const { client: alice } = await join(room);
    const { client: bob } = await join(room);
    const { client: carol } = await join(uniqueRoom('other'));
    const image = b64(png());
    const audio = b64(wav());
    const sends: Array<[string, Record<string, unknown>, (f: { data: Record<string, unknown> }) => boolean]> = [
      ['message', { type: 'text', content: 'via message', sender: 'alice' }, (f) => f.data.content === 'via message'],
      ['send_text', { text: 'via send_text', sender: 'alice' }, (f) => f.data.content === 'via send_text'],
      ['send_image', { image, format: 'png', sender: 'alice' }, (f) => f.data.type === 'image' && f.data.content === image],
      ['send_audio', { audio, format: 'wav', sender: 'alice' }, (f) => f.data.type === 'audio' && f.data.content === audio],
    ];
    const ids: string[] = [];
    for (const [action, data, matches] of sends) {
      const receipt = await alice.request(action, data, 'message_received');
      expect(receipt.data).toMatchObject({ status: 'received', room });
      const id = String(receipt.data.id);
      ids.push(id);
      const got = await bob.nextEvent('message', (f) => f.data.id === id);
      expect(matches(got)).toBe(true);
    }
    await Promise.all([alice.roundTrip(), carol.roundTrip()]);
    // The sender gets no `message` copy of its own messages; another room gets nothing.
    expect(alice.received((f) => f.event === 'message' && ids.includes(String(f.data.id)))).toHaveLength(0);
    expect(carol.received((f) => ids.some((id) => f.raw.includes(id)))).toHaveLength(0);
  });

  it('answers ping with pong', async () => {
    const { client } = await join(uniqueRoom('ping'));
    const pong = await client.request('ping', {}, 'pong');
    expect(Date.parse(String(pong.data.timestamp))).not.toBeNaN();
  });

  it('answers bad frames with `error` and keeps the connection', async () => {
    const { client } = await join(uniqueRoom('errors'));
    const expectError = async (send: () => void, code: string) => {
      const frame = client.nextEvent('error', (f) => f.data.code === code);
      send();
      await frame;
    };
    await expectError(() => client.ws.send('this is not json'), 'invalid_json');
    await expectError(() => client.send('dance', {}), 'unknown_action');
    await expectError(() => client.send('send_image', { image: 'not*base64!', format: 'png', sender: 'a' }), 'invalid_base64');
    await expectError(() => client.send('send_image', { image: b64(wav()), format: 'png', sender: 'a' }), 'format_mismatch');
    await expectError(() => client.send('send_text', { text: 'x'.repeat(LIMITS.textMaxChars + 1), sender: 'a' }), 'payload_too_large');
    await client.roundTrip();
  });

  it('join moves a connection to another room, leave takes it out of every room', async () => {
    const roomA = uniqueRoom('ja');
    const roomB = uniqueRoom('jb');
    const { client: mover } = await join(roomA);
    const { client: speaker } = await join(roomB);
    const joined = await mover.request('join', { room: roomB }, 'joined');
    expect(joined.data).toEqual({ room: roomB });
    const first = await speaker.request('send_text', { text: 'after join', sender: 's' }, 'message_received');
    await mover.nextEvent('message', (f) => f.data.id === first.data.id);

    const left = await mover.request('leave', {}, 'left');
    expect(left.data).toEqual({ room: roomB });
    // Fanned out inline (small room): done once `message_received` is back.
    const second = await speaker.request('send_text', { text: 'after leave', sender: 's' }, 'message_received');
    await mover.roundTrip();
    expect(mover.received((f) => f.data.id === second.data.id)).toHaveLength(0);
  });

  it('resume replays what was missed after an id, then `resumed`', async () => {
    const room = uniqueRoom('resume');
    const { client } = await join(room);
    const first = await client.request('send_text', { text: 'r1', sender: 'a' }, 'message_received');
    const second = await client.request('send_text', { text: 'r2', sender: 'a' }, 'message_received');
    const third = await client.request('send_text', { text: 'r3', sender: 'a' }, 'message_received');
    const replayed = [client.nextEvent('message', (f) => f.data.id === second.data.id), client.nextEvent('message', (f) => f.data.id === third.data.id)];
    const resumed = await client.request('resume', { after: first.data.id }, 'resumed');
    expect(resumed.data).toMatchObject({ room, count: 2, last_id: third.data.id, complete: true });
    await Promise.all(replayed);
  });

  it('closes the connection with 1009 on a message over 128 KB, and on a frame over 32 KB', async () => {
    const { client: big } = await join(uniqueRoom('big'));
    // 130 KB in 16 KB fragments: every frame is within 32 KB, the message is not.
    const payload = Buffer.alloc(130 * 1024, 'a');
    for (let offset = 0; offset < payload.length; offset += 16 * 1024) {
      big.ws.send(payload.subarray(offset, offset + 16 * 1024), { binary: false, fin: offset + 16 * 1024 >= payload.length });
    }
    expect(await big.closed).toEqual({ code: 1009, reason: 'Message too big' });

    const { client: wide } = await join(uniqueRoom('frame'));
    wide.ws.send('b'.repeat(40 * 1024));
    expect(await wide.closed).toEqual({ code: 1009, reason: 'Message too big' });
  });

  it('accepts a 100 KB message sent in 32 KB frames', async () => {
    const { client } = await join(uniqueRoom('frames'));
    const body = JSON.stringify({ action: 'send_text', data: { text: 'y'.repeat(100 * 1024), sender: 'a' } });
    const buf = Buffer.from(body);
    const reply = client.nextEvent('error', (f) => f.data.code === 'payload_too_large');
    for (let offset = 0; offset < buf.length; offset += 32 * 1024) {
      client.ws.send(buf.subarray(offset, offset + 32 * 1024), { binary: false, fin: offset + 32 * 1024 >= buf.length });
    }
    await reply;
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });
});

describe('@connections management API (through the AWS SDK)', () => {
  const management = () =>
    new ApiGatewayManagementApiClient({
      endpoint: rt.managementUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });

  it('GET returns the connection, POST sends it a frame, DELETE closes it, then 410', async () => {
    const client = management();
    const { client: ws, connectionId } = await join(uniqueRoom('mgmt'));
    const before = Date.now();
    const info = await client.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(info.ConnectedAt!.getTime()).toBeLessThanOrEqual(before);
    expect(info.LastActiveAt).toBeInstanceOf(Date);
    expect(info.Identity?.SourceIp).toBe('127.0.0.1');

    const pushed = ws.next((f) => f.raw === 'hello from the SDK');
    await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: new TextEncoder().encode('hello from the SDK') }));
    await pushed;

    await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect((await ws.closed).code).toBe(1000);
    await expect(client.send(new GetConnectionCommand({ ConnectionId: connectionId }))).rejects.toMatchObject({
      name: 'GoneException',
      $metadata: { httpStatusCode: 410 },
    });
    client.destroy();
  });

  it('answers 410 GoneException for an unknown connection, and 413 above 128 KB', async () => {
    const client = management();
    await expect(
      client.send(new PostToConnectionCommand({ ConnectionId: 'Nope0000000000=', Data: new TextEncoder().encode('x') })),
    ).rejects.toMatchObject({ name: 'GoneException', $metadata: { httpStatusCode: 410 } });
    const raw = await fetch(`${rt.managementUrl}/@connections/Nope0000000000%3D`, { method: 'POST', body: 'x' });
    expect(raw.status).toBe(410);
    expect(raw.headers.get('x-amzn-errortype')).toBe('GoneException');
    expect(await raw.json()).toEqual({ message: expect.any(String) });

    const { connectionId } = await join(uniqueRoom('mgmt-big'));
    await expect(
      client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: new Uint8Array(LIMITS.wsMessageBytes + 1) })),
    ).rejects.toMatchObject({ name: 'PayloadTooLargeException', $metadata: { httpStatusCode: 413 } });
    client.destroy();
  });

  it('accepts the stage prefix in the path, as the stage callback URL has it', async () => {
    const { client: ws, connectionId } = await join(uniqueRoom('stage'));
    const pushed = ws.next((f) => f.raw === 'via stage path');
    const res = await fetch(`${rt.managementUrl}/local/@connections/${encodeURIComponent(connectionId)}`, { method: 'POST', body: 'via stage path' });
    expect(res.status).toBe(200);
    await pushed;
  });
});
