/**
 * Image previews end to end on the local runtime: real uploads, a message over REST, the `preview`
 * task run by the tasks function's deployed bundle (S3 GetObject and DynamoDB UpdateItem through
 * its role), and the thumbnail read back from history and decoded here.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordOutcome } from '../../local/event-source.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { getJson, openWs, postJson, uniqueRoom, type WsClient } from '../local/helpers.js';
import { waitFor } from '../support/wait.js';
import { jpegOfSize, pngOfSize, upload } from './helpers.js';

let rt: Runtime;
let alice: string;
const records: RecordOutcome[] = [];
const onRecord = (record: RecordOutcome) => records.push(record);

beforeAll(async () => {
  rt = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, s3Port: 0, quiet: true, auth: true });
  rt.tasks.on('record', onRecord);
  alice = (await postJson(`${rt.httpUrl}/api/dev/token`, { sub: 'alice' })).body.token as string;
}, 120_000);

const clients: WsClient[] = [];

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  rt?.tasks.off('record', onRecord);
  await rt?.stop();
});

/** RGBA with a gradient, so a wrong scale or channel order shows in the thumbnail's colours. */
function gradient(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i += 4) {
      data[i] = Math.round((x * 255) / (width - 1));
      data[i + 1] = Math.round((y * 255) / (height - 1));
      data[i + 2] = 200;
      data[i + 3] = 255;
    }
  }
  return data;
}

function pngFile(width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  png.data = gradient(width, height);
  return PNG.sync.write(png);
}

const jpegFile = (width: number, height: number) => jpeg.encode({ width, height, data: gradient(width, height) }, 90).data;

interface Sent {
  id: string;
  room: string;
}

async function sendImage(file: Buffer, format: 'png' | 'jpg', contentType: string): Promise<Sent> {
  const room = uniqueRoom('pre');
  const attachmentId = await upload(rt.httpUrl, alice, file, 'image', format, contentType);
  const sent = await postJson(`${rt.httpUrl}/api/message`, { type: 'image', attachment_id: attachmentId, room }, { authorization: `Bearer ${alice}` });
  expect(sent.status).toBe(201);
  return { id: sent.body.message.id as string, room };
}

/** The preview task of a message, once the event source has settled it (deleted or failed). */
async function previewTaskOf(messageId: string): Promise<RecordOutcome[]> {
  const mine = () => records.filter((r) => r.body.includes('"kind":"preview"') && r.body.includes(messageId));
  await waitFor(mine, (found) => found.length > 0, { timeoutMs: 30_000, what: `the preview task of ${messageId}` });
  return mine();
}

async function historyAttachment(sent: Sent): Promise<{ preview?: string; url: string }> {
  const history = await getJson(`${rt.httpUrl}/api/messages?room=${sent.room}`, { authorization: `Bearer ${alice}` });
  expect(history.status).toBe(200);
  const message = (history.body.messages as Array<{ id: string; attachment: { preview?: string; url: string } }>).find((m) => m.id === sent.id);
  expect(message).toBeDefined();
  return message!.attachment;
}

function decodePreview(preview: string | undefined): { width: number; height: number; data: Uint8Array } {
  expect(preview).toMatch(/^data:image\/jpeg;base64,[A-Za-z0-9+/]+=*$/);
  expect(preview!.length).toBeLessThanOrEqual(LIMITS.previewMaxChars);
  return jpeg.decode(Buffer.from(preview!.slice(preview!.indexOf(',') + 1), 'base64'), { useTArray: true });
}

describe('image previews', () => {
  it('a PNG gets a JPEG thumbnail, longest side 64 px, in history', async () => {
    const sent = await sendImage(pngFile(300, 200), 'png', 'image/png');
    const [task] = await previewTaskOf(sent.id);
    expect(task).toMatchObject({ outcome: 'deleted', receiveCount: 1 });
    const thumb = decodePreview((await historyAttachment(sent)).preview);
    expect([thumb.width, thumb.height]).toEqual([64, 43]);
    // Left edge dark red channel, right edge bright: the gradient survived the box filter.
    const red = (x: number, y: number) => thumb.data[(y * thumb.width + x) * 4]!;
    expect(red(0, 20)).toBeLessThan(40);
    expect(red(63, 20)).toBeGreaterThan(215);
  }, 60_000);

  it('a tall JPEG gets a thumbnail 32 x 64; a small one keeps its size', async () => {
    const tall = await sendImage(jpegFile(200, 400), 'jpg', 'image/jpeg');
    const small = await sendImage(jpegFile(40, 30), 'jpg', 'image/jpeg');
    for (const sent of [tall, small]) expect((await previewTaskOf(sent.id))[0]).toMatchObject({ outcome: 'deleted', receiveCount: 1 });
    const thumb = decodePreview((await historyAttachment(tall)).preview);
    expect([thumb.width, thumb.height]).toEqual([32, 64]);
    const kept = decodePreview((await historyAttachment(small)).preview);
    expect([kept.width, kept.height]).toEqual([40, 30]);
  }, 60_000);

  it('live delivery has no preview (the task runs after it); `resume` replays the message with it', async () => {
    const room = uniqueRoom('pre');
    const reader = await openWs(`${rt.wsUrl}/?room=${encodeURIComponent(room)}&token=${alice}`);
    clients.push(reader);
    await reader.nextEvent('connected');
    const anchor = await reader.request('send_text', { text: 'before the photo' }, 'message_received');
    const attachmentId = await upload(rt.httpUrl, alice, pngFile(120, 120), 'image', 'png', 'image/png');
    const live = reader.nextEvent('message', (f) => (f.data.attachment as { id?: string } | undefined)?.id === attachmentId, 20_000);
    const sent = await postJson(`${rt.httpUrl}/api/message`, { type: 'image', attachment_id: attachmentId, room }, { authorization: `Bearer ${alice}` });
    expect(sent.status).toBe(201);
    expect((await live).data).not.toHaveProperty('attachment.preview');
    expect((await previewTaskOf(sent.body.message.id as string))[0]).toMatchObject({ outcome: 'deleted' });
    const replayed = reader.nextEvent('message', (f) => f.data.id === sent.body.message.id);
    await reader.request('resume', { after: anchor.data.id }, 'resumed');
    const thumb = decodePreview(((await replayed).data.attachment as { preview?: string }).preview);
    expect([thumb.width, thumb.height]).toEqual([64, 64]);
  }, 60_000);

  it('a PNG and a JPEG whose magic bytes pass but whose data is garbage get no preview; their tasks complete once', async () => {
    const png = await sendImage(pngOfSize(20_000), 'png', 'image/png');
    const jpg = await sendImage(jpegOfSize(20_000), 'jpg', 'image/jpeg');
    for (const sent of [png, jpg]) {
      const tasks = await previewTaskOf(sent.id);
      expect(tasks).toEqual([expect.objectContaining({ outcome: 'deleted', receiveCount: 1 })]);
      const attachment = await historyAttachment(sent);
      expect(attachment.url).toMatch(/X-Amz-Signature=/);
      expect(attachment).not.toHaveProperty('preview');
    }
  }, 60_000);
});
