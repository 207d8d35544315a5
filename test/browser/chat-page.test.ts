/**
 * The chat page in a real browser: headless Chromium driven by playwright-core, against the local
 * runtime on free ports. Three pages: A (alice) and B (bob) in room "alpha", C (carol) in "beta".
 *
 * Checks text between rooms, an image over the WebSocket and one too big for a frame (sent over
 * REST by the page) that both render, audio from a file and from the microphone (Chromium's fake
 * device) that both load, an `error` event shown, a broadcast and a published event reaching every
 * page (the event in each SSE panel too), joining another room with its history, and no uncaught
 * errors in any page. Runs twice: with auth off, and with auth on (the page fetches a dev token for
 * its user and uses it on all three endpoints). Leaves screenshots in test-artifacts/
 * (chat-page.png, chat-page-auth.png, and B's view *-bob.png) for a person to look at.
 *
 * The browser is the one the `@sparticuz/chromium` package ships (nothing to install), or
 * CHROMIUM_PATH's (see ./chromium.ts).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { FAKE_MEDIA_ARGS, type LaunchedContext, launchContext } from './chromium.js';
import { noisePng, smallPng, toneWav } from './media-files.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
/** Upper bound of every DOM wait; the waits end as soon as their condition holds. */
const WAIT = { timeout: 15_000 };

let browser: LaunchedContext | undefined;
let context: BrowserContext | undefined;

beforeAll(async () => {
  browser = await launchContext({ extraArgs: FAKE_MEDIA_ARGS, permissions: ['microphone'] });
  context = browser.context;
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

interface OpenOptions {
  runtime: Runtime;
  /** Uncaught errors of the page are collected here. */
  pageErrors: string[];
  /** Pass the WebSocket and SSE endpoints as query parameters instead of letting the page find them. */
  explicitEndpoints?: boolean;
}

async function openChat(name: string, room: string, options: OpenOptions): Promise<Page> {
  const rt = options.runtime;
  const page = await context!.newPage();
  page.on('pageerror', (error) => options.pageErrors.push(`${name}: ${error.message}`));
  const url = new URL('/', rt.httpUrl);
  if (options.explicitEndpoints) {
    url.searchParams.set('ws', rt.wsUrl);
    url.searchParams.set('sse', rt.sseUrl);
  }
  await page.goto(url.toString());
  await page.locator('body[data-ready="true"]').waitFor(WAIT);
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#connect-btn');
  await page.locator('#status[data-state="connected"]').waitFor(WAIT);
  await page.locator('#sse-status[data-state="open"]').waitFor(WAIT);
  return page;
}

/** A chat entry: `kind` is message, broadcast, notification or error. */
const entry = (page: Page, kind: string, extra = '') => page.locator(`#messages li.msg.${kind}${extra}`);

/** Waits until the image in `selector` has decoded; returns its natural size. */
async function renderedImage(page: Page, selector: string): Promise<{ width: number; height: number }> {
  await page.locator(selector).waitFor(WAIT);
  const handle = await page.waitForFunction(
    (sel) => {
      const img = document.querySelector<HTMLImageElement>(sel);
      return img?.complete && img.naturalWidth > 0 ? { width: img.naturalWidth, height: img.naturalHeight } : false;
    },
    selector,
    WAIT,
  );
  return (await handle.jsonValue()) as { width: number; height: number };
}

/** Waits until the audio element in `selector` has loaded its metadata (the browser decoded the header). */
async function loadedAudio(page: Page, selector: string): Promise<void> {
  await page.locator(selector).waitFor({ ...WAIT, state: 'attached' });
  await page.waitForFunction(
    (sel) => {
      const audio = document.querySelector<HTMLAudioElement>(sel);
      return audio !== null && audio.readyState >= HTMLMediaElement.HAVE_METADATA && audio.error === null;
    },
    selector,
    WAIT,
  );
}

describe.each([
  { auth: false, label: 'auth off' },
  { auth: true, label: 'auth on: dev tokens, authorizers' },
])('chat page in headless Chromium ($label)', ({ auth }) => {
  let runtime: Runtime | undefined;
  const pages: Page[] = [];

  beforeAll(async () => {
    runtime = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth });
  }, 60_000);

  afterAll(async () => {
    for (const page of pages) await page.close().catch(() => undefined);
    await runtime?.stop();
  });

  it('exchanges text, images and audio within a room, shows broadcasts, events, errors and history', { timeout: 180_000 }, async () => {
    const rt = runtime!;
    const pageErrors: string[] = [];
    // A finds the endpoints itself (/config.json); B and C are told them in the query string.
    const a = await openChat('alice', 'alpha', { runtime: rt, pageErrors });
    const b = await openChat('bob', 'alpha', { runtime: rt, pageErrors, explicitEndpoints: true });
    const c = await openChat('carol', 'beta', { runtime: rt, pageErrors, explicitEndpoints: true });
    pages.push(a, b, c);
    for (const [page, name] of [
      [a, 'alice'],
      [b, 'bob'],
      [c, 'carol'],
    ] as const) {
      await expect(page.locator('#endpoints').textContent()).resolves.toContain(rt.wsUrl);
      // The service's idea of the user: the token's subject with auth on, `anonymous` with it off.
      await expect(page.locator('#identity').getAttribute('title')).resolves.toContain(`user ${auth ? name : 'anonymous'}`);
    }

    // Text: A → B (same room); A sees its own message as such; C (other room) gets nothing.
    await a.fill('#text', 'hello from alice');
    await a.click('#send-btn');
    await entry(b, 'message', '[data-sender="alice"][data-type="text"]').filter({ hasText: 'hello from alice' }).waitFor(WAIT);
    await entry(a, 'message.own', '[data-sender="alice"]').filter({ hasText: 'hello from alice' }).waitFor(WAIT);
    // ... and B's SSE panel (room alpha) lists it as a `message` event with an id.
    const sseMessage = b.locator('#sse-log li.sse-entry[data-event="message"]').filter({ hasText: 'hello from alice' });
    await sseMessage.waitFor(WAIT);
    expect(await sseMessage.getAttribute('data-id')).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);

    // Image from the file picker: B → A, rendered.
    const png = smallPng(24);
    await b.setInputFiles('#image-input', { name: 'dot.png', mimeType: 'image/png', buffer: png });
    const small = await renderedImage(a, '#messages li.msg.message[data-type="image"][data-sender="bob"] img');
    expect(small).toEqual({ width: 24, height: 24 });
    await renderedImage(b, '#messages li.msg.message.own[data-type="image"] img');

    // An image too big for one 32 KB WebSocket frame but within the media limit: the page sends it
    // over REST, and it still arrives live and renders.
    const big = noisePng(110, 110);
    expect(Math.ceil(big.length / 3) * 4).toBeGreaterThan(LIMITS.wsFrameBytes);
    expect(big.length).toBeLessThanOrEqual(LIMITS.mediaMaxBytes);
    await a.setInputFiles('#image-input', { name: 'noise.png', mimeType: 'image/png', buffer: big });
    const bigOnB = await renderedImage(b, '#messages li.msg.message[data-type="image"][data-sender="alice"] img');
    expect(bigOnB).toEqual({ width: 110, height: 110 });
    await expect(a.locator('#status').getAttribute('data-state')).resolves.toBe('connected');

    // Audio from a file: A → B, playable (the browser loads its metadata).
    await a.setInputFiles('#audio-input', { name: 'tone.wav', mimeType: 'audio/wav', buffer: toneWav(300) });
    await loadedAudio(b, '#messages li.msg.message[data-type="audio"][data-sender="alice"] audio');

    // Audio recorded with MediaRecorder from Chromium's fake microphone: B → A.
    await b.locator('#record-btn:not([hidden])').waitFor(WAIT);
    await b.click('#record-btn');
    await b.locator('#record-btn[data-state="recording"]').filter({ hasText: 'Stop 0:01' }).waitFor(WAIT);
    await b.click('#record-btn');
    await b.locator('#record-btn[data-state="idle"]').waitFor(WAIT);
    await loadedAudio(a, '#messages li.msg.message[data-type="audio"][data-sender="bob"] audio');

    // A file that claims to be a PNG but is not: the service answers with an `error` event, shown.
    await a.setInputFiles('#image-input', { name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('not really a png') });
    await entry(a, 'error').filter({ hasText: 'format_mismatch' }).waitFor(WAIT);
    await a.locator('#errors p').filter({ hasText: 'format_mismatch' }).waitFor(WAIT);

    // Broadcast from A's admin form: every page shows it, distinct from chat messages.
    await a.fill('#broadcast-text', 'maintenance at noon');
    await a.click('#broadcast-btn');
    for (const page of [a, b, c]) {
      await entry(page, 'broadcast', '[data-sender="alice"]').filter({ hasText: 'maintenance at noon' }).waitFor(WAIT);
    }

    // A published event: a notification on every page, and in every SSE panel under its own name.
    await a.fill('#event-type', 'deploy.finished');
    await a.fill('#event-data', '{"version": 42}');
    await a.click('#publish-btn');
    for (const page of [a, b, c]) {
      await entry(page, 'notification', '[data-event-type="deploy.finished"]').filter({ hasText: '42' }).waitFor(WAIT);
      const sseEvent = page.locator('#sse-log li.sse-entry[data-event="deploy.finished"]');
      await sseEvent.waitFor(WAIT);
      const id = await sseEvent.getAttribute('data-id');
      expect(id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
      const data = JSON.parse((await sseEvent.locator('.sse-data').textContent()) ?? '');
      expect(data).toMatchObject({ id, event_type: 'deploy.finished', data: { version: 42 } });
    }

    // C, in another room, received none of alpha's messages (the broadcast and the event, sent
    // after them, have arrived by now), neither over the WebSocket nor over SSE.
    expect(await entry(c, 'message').count()).toBe(0);
    expect(await c.locator('#sse-log li.sse-entry[data-event="message"]').count()).toBe(0);
    expect(await c.locator('#sse-log li.sse-entry[data-event="broadcast"]').count()).toBe(1);

    // C joins alpha on the same connection: the history loads, with the messages sent so far.
    await c.fill('#room', 'alpha');
    await c.click('#connect-btn');
    await c.locator('#room-label').filter({ hasText: '#alpha' }).waitFor(WAIT);
    await entry(c, 'message', '[data-sender="alice"]').filter({ hasText: 'hello from alice' }).waitFor(WAIT);
    await renderedImage(c, '#messages li.msg.message[data-type="image"][data-sender="bob"] img');
    await c.locator('#sse-status[data-state="open"]').waitFor(WAIT);
    // ... and then gets alpha's live messages.
    await b.fill('#text', 'welcome, carol');
    await b.click('#send-btn');
    await entry(c, 'message', '[data-sender="bob"]').filter({ hasText: 'welcome, carol' }).waitFor(WAIT);
    await entry(a, 'message', '[data-sender="bob"]').filter({ hasText: 'welcome, carol' }).waitFor(WAIT);

    await mkdir(ARTIFACTS, { recursive: true });
    const suffix = auth ? '-auth' : '';
    await a.screenshot({ path: path.join(ARTIFACTS, `chat-page${suffix}.png`), fullPage: true });
    await b.screenshot({ path: path.join(ARTIFACTS, `chat-page${suffix}-bob.png`), fullPage: true });

    expect(pageErrors).toEqual([]);
  });
});
