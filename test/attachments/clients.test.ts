/**
 * The other clients of attachments: the client package's `uploadAttachment` (fetch + FormData) for a
 * voice note, sent by a real `socket.io-client` with the same `attachment_id` field, received by a
 * JSON WebSocket client and by SSE (which signs its own URL on replay).
 */
import { EventSource } from 'eventsource';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadAttachment } from '../../client/src/index.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { openWs, postJson, uniqueRoom, type WsClient } from '../local/helpers.js';
import { wav } from '../support/media.js';

let rt: Runtime;
let token: string;
const closers: Array<() => unknown> = [];

beforeAll(async () => {
  rt = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth: true });
  token = (await postJson(`${rt.httpUrl}/api/dev/token`, { sub: 'carol' })).body.token as string;
}, 120_000);

afterAll(async () => {
  for (const close of closers) await close();
  await rt?.stop();
});

describe('attachments from the client package and Socket.IO', () => {
  it('uploads a voice note with uploadAttachment, sends it over Socket.IO as attachment_id; WebSocket and SSE readers get the file', async () => {
    const room = uniqueRoom('att-sio');
    const reader: WsClient = await openWs(`${rt.wsUrl}/?room=${room}&token=${token}`);
    closers.push(() => reader.close());
    await reader.nextEvent('connected');
    const voice = Buffer.concat([wav(4000), Buffer.alloc(200_000, 0x80)]);
    const id = await uploadAttachment({ httpUrl: rt.httpUrl, getToken: () => token }, new Blob([new Uint8Array(voice)], { type: 'audio/wav' }));

    const socket: Socket = io(rt.wsUrl, { path: '/local', addTrailingSlash: false, transports: ['websocket'], query: { room, token }, reconnection: false });
    closers.push(() => socket.close());
    await new Promise<void>((resolve) => socket.once('connected', () => resolve()));
    const received = new Promise<Record<string, unknown>>((resolve) => socket.once('message_received', resolve));
    socket.emit('send_audio', { attachment_id: id });
    const ack = await received;
    expect(ack).toMatchObject({ status: 'received', message: { type: 'audio', attachment: { id, format: 'wav', size: voice.length } } });

    const frame = await reader.nextEvent('message', (f) => (f.data.attachment as { id?: string } | undefined)?.id === id);
    const live = frame.data.attachment as { url: string };
    expect(Buffer.from(await (await fetch(live.url)).arrayBuffer()).equals(voice)).toBe(true);

    // SSE replays it from history with a URL of its own.
    const es = new EventSource(`${rt.sseStreamUrl}?room=${room}&token=${token}&lastEventId=${'0'.repeat(26)}`);
    closers.push(() => es.close());
    const replayed = await new Promise<{ attachment: { url: string; id: string } }>((resolve, reject) => {
      es.addEventListener('message', (e) => resolve(JSON.parse(e.data)));
      es.onerror = () => undefined;
      setTimeout(() => reject(new Error('no SSE message')), 15_000).unref();
    });
    expect(replayed.attachment.id).toBe(id);
    expect(Buffer.from(await (await fetch(replayed.attachment.url)).arrayBuffer()).equals(voice)).toBe(true);
  }, 60_000);
});
