/**
 * Attachments end to end on the local runtime, auth on: real HTTP uploads to the local S3 endpoint
 * (presigned POST policy enforced), messages over real WebSockets and REST, downloads from the
 * presigned GET in the delivered message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { startAuthRuntime } from '../client/helpers.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { getJson, openWs, postJson, uniqueRoom, type WsClient } from '../local/helpers.js';
import { jpegOfSize, pngOfSize, postForm, requestUpload, upload } from './helpers.js';

let rt: Runtime;
const clients: WsClient[] = [];
let alice: string;
let bob: string;

async function token(sub: string): Promise<string> {
  const res = await postJson(`${rt.httpUrl}/api/dev/token`, { sub });
  return res.body.token as string;
}

async function connect(tokenValue: string, room: string): Promise<WsClient> {
  const client = await openWs(`${rt.wsUrl}/?room=${encodeURIComponent(room)}&token=${tokenValue}`);
  clients.push(client);
  await client.nextEvent('connected');
  return client;
}

const sendRest = (tokenValue: string, body: unknown) => postJson(`${rt.httpUrl}/api/message`, body, { authorization: `Bearer ${tokenValue}` });

beforeAll(async () => {
  // 100 uploads and messages from one user in a few seconds: the rate limits are raised.
  rt = await startAuthRuntime({ s3Port: 0 });
  [alice, bob] = await Promise.all([token('alice'), token('bob')]);
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await rt?.stop();
});

describe('attachments', () => {
  it('a 5 MB PNG goes from one client to another: upload, WebSocket message, download of the same bytes', async () => {
    const room = uniqueRoom('att');
    const [sender, reader] = await Promise.all([connect(alice, room), connect(bob, room)]);
    const file = pngOfSize(5 * 1024 * 1024);
    const started = performance.now();
    const id = await upload(rt.httpUrl, alice, file, 'image', 'png', 'image/png');
    const uploaded = performance.now();
    const delivered = reader.nextEvent('message', (f) => (f.data.attachment as { id?: string } | undefined)?.id === id, 20_000);
    const ack = await sender.request('message', { type: 'image', attachment_id: id }, 'message_received');
    const frame = await delivered;
    const at = performance.now();
    const attachment = frame.data.attachment as { url: string; size: number; format: string; expires_at: string };
    expect(attachment).toMatchObject({ id, size: file.length, format: 'png' });
    expect(frame.data).toMatchObject({ type: 'image', content: '', sender: 'alice', room });
    expect(frame.data).not.toHaveProperty('attachment.key');
    expect((ack.data.message as { attachment: { url: string } }).attachment.url).toMatch(/X-Amz-Signature=/);
    expect(Date.parse(attachment.expires_at) - Date.now()).toBeGreaterThan((LIMITS.downloadUrlExpirySeconds - 60) * 1000);
    const download = await fetch(attachment.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await download.arrayBuffer()).equals(file)).toBe(true);
    console.log(
      `5 MB PNG: upload ${Math.round(uploaded - started)} ms, upload to delivered ${Math.round(at - started)} ms (message ${Math.round(at - uploaded)} ms)`,
    );
  }, 60_000);

  it('refuses an upload over its declared size at the S3 endpoint (POST policy), and stores nothing', async () => {
    const grant = await requestUpload(rt.httpUrl, alice, { type: 'image', format: 'png', size: 1000 });
    expect(grant.status).toBe(201);
    const posted = await postForm(grant.body.upload, pngOfSize(2000), 'image/png');
    expect(posted.status).toBe(400);
    expect(posted.text).toContain('<Code>EntityTooLarge</Code>');
    const sent = await sendRest(alice, { type: 'image', attachment_id: grant.body.attachment_id, room: uniqueRoom('att') });
    expect(sent.status).toBe(404);
    expect(sent.body.error.code).toBe('not_found');
  });

  it('refuses a form whose Content-Type or key differs from the policy (403 AccessDenied)', async () => {
    const grant = await requestUpload(rt.httpUrl, alice, { type: 'image', format: 'png', size: 1000 });
    const wrongType = await postForm({ ...grant.body.upload, fields: { ...grant.body.upload.fields, 'Content-Type': 'text/html' } }, pngOfSize(500), 'text/html');
    expect(wrongType.status).toBe(403);
    expect(wrongType.text).toContain('<Code>AccessDenied</Code>');
    const otherKey = await postForm({ ...grant.body.upload, fields: { ...grant.body.upload.fields, key: 'uploads/someone-else/x' } }, pngOfSize(500), 'image/png');
    expect(otherKey.status).toBe(403);
  });

  it('answers 413 for a declared size over the limit and 400 unsupported_type for an unknown format', async () => {
    const big = await requestUpload(rt.httpUrl, alice, { type: 'image', format: 'png', size: LIMITS.attachmentImageMaxBytes + 1 });
    expect(big.status).toBe(413);
    expect(big.body.error?.code).toBe('payload_too_large');
    const audio = await requestUpload(rt.httpUrl, alice, { type: 'audio', format: 'mp3', size: LIMITS.attachmentAudioMaxBytes });
    expect(audio.status).toBe(201);
    const unknown = await requestUpload(rt.httpUrl, alice, { type: 'image', format: 'bmp', size: 10 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.code).toBe('unsupported_type');
  });

  it('refuses a JPEG uploaded as PNG with format_mismatch (REST and WebSocket), and delivers nothing', async () => {
    const room = uniqueRoom('att');
    const reader = await connect(bob, room);
    const id = await upload(rt.httpUrl, alice, jpegOfSize(4000), 'image', 'png', 'image/png');
    const rest = await sendRest(alice, { type: 'image', attachment_id: id, room });
    expect(rest.status).toBe(400);
    expect(rest.body.error.code).toBe('format_mismatch');
    const sender = await connect(alice, room);
    const ws = await sender.request('send_image', { attachment_id: id }, 'error');
    expect(ws.data.code).toBe('format_mismatch');
    await reader.roundTrip();
    expect(reader.received((f) => f.event === 'message')).toHaveLength(0);
    const history = await getJson(`${rt.httpUrl}/api/messages?room=${room}`, { authorization: `Bearer ${alice}` });
    expect(history.body.messages).toHaveLength(0);
  });

  it("refuses another user's attachment_id with 403 and an id used twice with 409", async () => {
    const room = uniqueRoom('att');
    const id = await upload(rt.httpUrl, alice, pngOfSize(3000), 'image', 'png', 'image/png');
    const stolen = await sendRest(bob, { type: 'image', attachment_id: id, room });
    expect(stolen.status).toBe(403);
    expect(stolen.body.error.code).toBe('forbidden');
    const first = await sendRest(alice, { type: 'image', attachment_id: id, room });
    expect(first.status).toBe(201);
    const again = await sendRest(alice, { type: 'image', attachment_id: id, room });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
    const history = await getJson(`${rt.httpUrl}/api/messages?room=${room}`, { authorization: `Bearer ${alice}` });
    expect(history.body.messages).toHaveLength(1);
  });

  it('answers a retried send with the same client_id with the first message, not a conflict', async () => {
    const room = uniqueRoom('att');
    const id = await upload(rt.httpUrl, alice, pngOfSize(3000), 'image', 'png', 'image/png');
    const body = { type: 'image', attachment_id: id, room, client_id: 'retry-1' };
    const first = await sendRest(alice, body);
    const retry = await sendRest(alice, body);
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body.message.id).toBe(first.body.message.id);
  });

  it('refuses a download URL whose key was changed (SignatureDoesNotMatch)', async () => {
    const room = uniqueRoom('att');
    const [a, b] = [pngOfSize(3000), pngOfSize(3001)];
    const first = await sendRest(alice, { type: 'image', attachment_id: await upload(rt.httpUrl, alice, a, 'image', 'png', 'image/png'), room });
    const second = await sendRest(alice, { type: 'image', attachment_id: await upload(rt.httpUrl, alice, b, 'image', 'png', 'image/png'), room });
    const url = new URL(first.body.message.attachment.url as string);
    expect((await fetch(url)).status).toBe(200);
    url.pathname = url.pathname.replace(first.body.message.attachment.id, second.body.message.attachment.id);
    const tampered = await fetch(url);
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('serves a history page of 100 attachment messages, each with a freshly signed URL', async () => {
    const room = uniqueRoom('att');
    const files = Array.from({ length: 100 }, (_, i) => pngOfSize(200 + i));
    for (const file of files) {
      const id = await upload(rt.httpUrl, alice, file, 'image', 'png', 'image/png');
      const sent = await sendRest(alice, { type: 'image', attachment_id: id, room });
      expect(sent.status).toBe(201);
    }
    const before = Date.now();
    const page = await getJson(`${rt.httpUrl}/api/messages?room=${room}&limit=100`, { authorization: `Bearer ${bob}` });
    console.log(`history page of 100 attachment messages: ${Date.now() - before} ms`);
    expect(page.status).toBe(200);
    expect(page.body.messages).toHaveLength(100);
    for (const [i, message] of (page.body.messages as Array<{ attachment: { url: string; size: number; expires_at: string } }>).entries()) {
      expect(message.attachment.size).toBe(files[i]!.length);
      expect(message.attachment.url).toMatch(/X-Amz-Signature=/);
      expect(Date.parse(message.attachment.expires_at)).toBeGreaterThan(before);
    }
    const last = await fetch(page.body.messages[99].attachment.url);
    expect(Buffer.from(await last.arrayBuffer()).equals(files[99]!)).toBe(true);
  }, 120_000);
});
