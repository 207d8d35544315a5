/**
 * Socket.IO parity of presence and typing: the real `socket.io-client` v4 (configured as the
 * README's migration section says) and a plain JSON client in one room see each other come online,
 * type and go offline, under the same event names; `presence` answers an acknowledgement.
 */
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { type Frame, openWs, Recorded, uniqueRoom, type WsClient } from '../local/helpers.js';

const STAGE = 'local';

let rt: Runtime;
const sockets: Socket[] = [];
const jsons: WsClient[] = [];

beforeAll(async () => {
  rt = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth: true, context: { presenceGraceSeconds: 1 } });
}, 120_000);

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  await Promise.all(jsons.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await rt?.stop();
});

function sio(room: string, user: string) {
  const socket = io(rt.wsUrl, { path: `/${STAGE}`, addTrailingSlash: false, transports: ['websocket'], reconnection: false, query: { room, token: rt.issueToken!(user) } });
  sockets.push(socket);
  const events = new Recorded<{ event: string; data: Record<string, unknown> }>();
  socket.onAny((event: string, data: Record<string, unknown>) => events.push({ event, data }));
  return { socket, events };
}

async function json(room: string, user: string): Promise<WsClient> {
  const client = await openWs(`${rt.wsUrl}/?room=${encodeURIComponent(room)}&token=${rt.issueToken!(user)}`);
  jsons.push(client);
  await client.nextEvent('connected');
  return client;
}

describe('presence and typing across Socket.IO and JSON clients', () => {
  it('same event names both ways; presence answers an ACK; typing skips the sender', async () => {
    const room = uniqueRoom('sio-presence');
    const bob = await json(room, 'bob');
    const alice = sio(room, 'alice');
    await alice.events.waitFor((e) => e.event === 'connected', 10_000, 'connected');
    await bob.next((f: Frame) => f.event === 'presence' && f.data.user === 'alice' && f.data.state === 'online', 10_000, 'alice online (JSON)');

    const list = (await alice.socket.timeout(10_000).emitWithAck('presence', {})) as { room: string; members: Array<{ user: string }> };
    expect(list.room).toBe(room);
    expect(list.members.map((m) => m.user)).toEqual(['alice', 'bob']);

    alice.socket.emit('typing', { state: 'start' });
    const typed = await bob.nextEvent('typing');
    expect(typed.data).toEqual({ room, user: 'alice', state: 'start', expires_in_ms: LIMITS.typingLapseMs });

    bob.send('typing', { state: 'start' });
    const seen = await alice.events.waitFor((e) => e.event === 'typing', 10_000, 'typing (Socket.IO)');
    expect(seen.data).toEqual({ room, user: 'bob', state: 'start', expires_in_ms: LIMITS.typingLapseMs });

    // A refused typing is an error event with the service's code, as for JSON clients.
    alice.socket.emit('typing', { state: 'stop' });
    const refused = await alice.events.waitFor((e) => e.event === 'error', 10_000, 'rate_limited (Socket.IO)');
    expect(refused.data.code).toBe('rate_limited');
    const pong = await alice.socket.timeout(10_000).emitWithAck('ping');
    expect(pong).toHaveProperty('timestamp');
    expect(alice.events.items.filter((e) => e.event === 'typing').map((e) => e.data.user)).toEqual(['bob']);

    const carol = await json(room, 'carol');
    await alice.events.waitFor((e) => e.event === 'presence' && e.data.user === 'carol' && e.data.state === 'online', 10_000, 'carol online (Socket.IO)');
    await carol.close();
    await alice.events.waitFor((e) => e.event === 'presence' && e.data.user === 'carol' && e.data.state === 'offline', 20_000, 'carol offline (Socket.IO)');
  }, 60_000);
});
