/**
 * The runtime with auth on, as deployed: Lambda authorizers in front of `$connect` and the REST
 * routes with `auth: 'user'`, the SSE handler verifying the token itself, dev tokens from
 * `POST /api/dev/token`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { type WsClient, getJson, openWs, postJson, uniqueRoom } from './helpers.js';

let rt: Runtime;
const clients: WsClient[] = [];

async function token(sub: string, roles: string[] = []): Promise<string> {
  const res = await postJson(`${rt.httpUrl}/api/dev/token`, { sub, roles });
  expect(res.status).toBe(201);
  return res.body.token as string;
}

beforeAll(async () => {
  rt = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth: true });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await rt?.stop();
});

describe('auth on', () => {
  it('issues dev tokens and announces auth in /config.json', async () => {
    const config = await getJson(`${rt.httpUrl}/config.json`);
    expect(config.body).toMatchObject({ auth: 'jwt', tokenUrl: `${rt.httpUrl}/api/dev/token` });
    const bad = await postJson(`${rt.httpUrl}/api/dev/token`, { sub: '' });
    expect(bad.status).toBe(400);
    expect(typeof (await token('alice'))).toBe('string');
  });

  it('runs the HTTP authorizer: 401 without a token, 403 with a bad one, the identity with a good one', async () => {
    const body = { type: 'text', content: 'hi', room: uniqueRoom('auth') };
    const none = await postJson(`${rt.httpUrl}/api/message`, body);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ message: 'Unauthorized' });
    const forged = await postJson(`${rt.httpUrl}/api/message`, body, { authorization: 'Bearer not.a.token' });
    expect(forged.status).toBe(403);
    expect(forged.body).toEqual({ message: 'Forbidden' });
    const ok = await postJson(`${rt.httpUrl}/api/message`, body, { authorization: `Bearer ${await token('alice')}` });
    expect(ok.status).toBe(201);
    expect(ok.body.message.sender).toBe('alice');
    // Public routes need no token; admin routes need the role (checked by the handler).
    expect((await getJson(`${rt.httpUrl}/api/health`)).status).toBe(200);
    const notAdmin = await postJson(`${rt.httpUrl}/api/messages/broadcast`, { type: 'text', content: 'x' }, { authorization: `Bearer ${await token('bob')}` });
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body.error.code).toBe('forbidden');
  });

  it('runs the $connect authorizer on the token query parameter', async () => {
    await expect(openWs(rt.wsUrl)).rejects.toMatchObject({ status: 401 });
    await expect(openWs(`${rt.wsUrl}?token=garbage`)).rejects.toMatchObject({ status: 403 });
    const client = await openWs(`${rt.wsUrl}?token=${await token('carol')}&room=${uniqueRoom('ws-auth')}`);
    clients.push(client);
    const connected = await client.nextEvent('connected');
    expect(connected.data.user).toBe('carol');
    const receipt = await client.request('send_text', { text: 'signed' }, 'message_received');
    expect((receipt.data.message as { sender: string }).sender).toBe('carol');
  });

  it('lets the SSE handler verify the token itself (the Function URL has no authorizer)', async () => {
    const denied = await fetch(`${rt.sseStreamUrl}?room=x`);
    expect(denied.status).toBe(401);
    await denied.arrayBuffer();
    const controller = new AbortController();
    const allowed = await fetch(`${rt.sseStreamUrl}?room=x&token=${await token('dave')}`, { signal: controller.signal });
    expect(allowed.status).toBe(200);
    controller.abort();
  });
});
