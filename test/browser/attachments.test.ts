/**
 * Attachments on the chat page in a real browser (headless Chromium): alice picks a 5 MB photo,
 * which the page uploads to the local S3 endpoint with a progress bar and sends as an attachment;
 * bob's page shows the image from its signed URL. Bob drops a voice note on the conversation; alice
 * gets an audio player that loads it.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { type LaunchedContext, launchContext } from './chromium.js';
import { noisePng, toneWav } from './media-files.js';

const WAIT = { timeout: 30_000 };

let browser: LaunchedContext | undefined;
let runtime: Runtime | undefined;
const pageErrors: string[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  [browser, runtime] = await Promise.all([
    launchContext({ viewport: { width: 1280, height: 800 } }),
    startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth: true }),
  ]);
}, 120_000);

afterAll(async () => {
  for (const page of pages) await page.close().catch(() => undefined);
  await browser?.close();
  await runtime?.stop();
});

async function openAndJoin(name: string, room: string): Promise<Page> {
  const page = await browser!.context.newPage();
  pages.push(page);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(new URL('/', runtime!.httpUrl).toString());
  await page.locator('body[data-ready="true"]').waitFor(WAIT);
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join-btn');
  await page.locator('#status[data-state="open"]').waitFor(WAIT);
  return page;
}

describe('attachments on the chat page', () => {
  it('sends a 5 MB photo between two pages (picker, progress bar, image shown) and a dropped voice note (audio player)', async () => {
    const room = `photos-${Date.now().toString(36)}`;
    const [alice, bob] = [await openAndJoin('alice', room), await openAndJoin('bob', room)];

    const photo = noisePng(1400, 1100);
    expect(photo.length).toBeGreaterThan(5 * 1024 * 1024);
    await alice.setInputFiles('#image-input', { name: 'photo.png', mimeType: 'image/png', buffer: photo });
    const size = await bob.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#messages li.msg[data-type="image"][data-sender="alice"] img[data-attachment]');
      return img?.complete && img.naturalWidth > 0 ? [img.naturalWidth, img.naturalHeight] : false;
    }, WAIT);
    expect(await size.jsonValue()).toEqual([1400, 1100]);
    // The progress bar went to 100 % and was put away.
    await alice.locator('#upload-progress[data-state="done"]').waitFor({ ...WAIT, state: 'attached' });
    expect(await alice.locator('#upload-progress').evaluate((bar: HTMLProgressElement) => [bar.value, bar.hidden])).toEqual([100, true]);
    // The sender sees its own photo too.
    await alice.locator('#messages li.msg.own[data-type="image"] img[data-attachment]').waitFor(WAIT);

    const voice = toneWav(15_000);
    expect(voice.length).toBeGreaterThan(LIMITS.mediaMaxBytes);
    await bob.evaluate((bytes) => {
      const file = new File([new Uint8Array(bytes)], 'voice.wav', { type: 'audio/wav' });
      const data = new DataTransfer();
      data.items.add(file);
      const target = document.getElementById('scroller')!;
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, Array.from(voice));
    await alice.waitForFunction(() => {
      const audio = document.querySelector<HTMLAudioElement>('#messages li.msg[data-type="audio"][data-sender="bob"] audio[data-attachment]');
      return audio !== null && audio.readyState >= HTMLMediaElement.HAVE_METADATA && audio.error === null;
    }, WAIT);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
