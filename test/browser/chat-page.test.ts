/**
 * The chat page in a real browser: headless Chromium driven by playwright-core, against the local
 * runtime on free ports with auth on (the page asks the runtime's dev token endpoint for tokens).
 *
 * Two people chat in room "alpha": alice with "Admin tools (local)" ticked, bob without. Checks:
 * messages arrive once and in order, consecutive ones of a sender grouped, a day separator above
 * the day's first; admin tools hidden for bob and shown for alice; a failed send reported once; a
 * published event rendered as a card of labelled values (no JSON); history paged upward; the name
 * remembered after a reload; no horizontal overflow at 1280x800 and 390x844, with screenshots of
 * both in test-artifacts/ for a person to look at; no uncaught error in any page.
 *
 * The browser is the one the `@sparticuz/chromium` package ships, or CHROMIUM_PATH's (./chromium.ts).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { FAKE_MEDIA_ARGS, type LaunchedContext, launchContext } from './chromium.js';
import { smallPng, toneWav } from './media-files.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
/** Upper bound of every DOM wait; the waits end as soon as their condition holds. */
const WAIT = { timeout: 15_000 };
const SIZES = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
];

let browser: LaunchedContext | undefined;
let context: BrowserContext | undefined;
let runtime: Runtime | undefined;
const pageErrors: string[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  [browser, runtime] = await Promise.all([
    launchContext({ extraArgs: FAKE_MEDIA_ARGS, permissions: ['microphone'], viewport: SIZES[0] }),
    startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth: true }),
  ]);
  context = browser.context;
}, 120_000);

afterAll(async () => {
  for (const page of pages) await page.close().catch(() => undefined);
  await browser?.close();
  await runtime?.stop();
});

async function openPage(query = ''): Promise<Page> {
  const page = await context!.newPage();
  pages.push(page);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(new URL(`/${query}`, runtime!.httpUrl).toString());
  await page.locator('body[data-ready="true"]').waitFor(WAIT);
  return page;
}

async function join(page: Page, name: string, room: string, admin = false): Promise<void> {
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.setChecked('#admin-toggle', admin);
  await page.click('#join-btn');
  await page.locator('#status[data-state="open"]').waitFor(WAIT);
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
  // Acknowledged: the pending bubble gave way to the stored message.
  await page.locator('#messages li.msg.own[data-id]').filter({ hasText: text }).waitFor(WAIT);
  await page.locator('#messages li.pending').waitFor({ ...WAIT, state: 'detached' });
}

interface Row {
  kind: string;
  sender?: string;
  grouped: boolean;
  own: boolean;
  text: string;
  /** The local calendar day of the entry's time. */
  day?: string;
}

/** The conversation as the page shows it, top to bottom (`day` rows are the separators). */
function rows(page: Page): Promise<Row[]> {
  return page.$$eval('#messages > li', (items) =>
    items.map((li) => ({
      kind: li.classList.contains('day') ? 'day' : ((li as HTMLElement).dataset.kind ?? ''),
      sender: (li as HTMLElement).dataset.sender,
      grouped: li.classList.contains('grouped'),
      own: li.classList.contains('own'),
      text: (li.querySelector('.bubble') ?? li).textContent?.trim() ?? '',
      day: (li as HTMLElement).dataset.timestamp ? new Date((li as HTMLElement).dataset.timestamp!).toDateString() : undefined,
    })),
  );
}

async function devToken(sub: string): Promise<string> {
  const res = await fetch(`${runtime!.httpUrl}/api/dev/token`, { method: 'POST', body: JSON.stringify({ sub }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

describe('chat page in headless Chromium (auth on)', () => {
  let alice: Page;
  let bob: Page;

  it('opens with admin tools only for the admin token', async () => {
    alice = await openPage();
    bob = await openPage();
    await join(alice, 'alice', 'alpha', true);
    await join(bob, 'bob', 'alpha');

    await expect(bob.locator('#admin').isVisible()).resolves.toBe(false);
    await expect(bob.locator('#broadcast-form').isVisible()).resolves.toBe(false);
    await expect(bob.locator('#identity').textContent()).resolves.toBe('bob');
    await alice.locator('#admin').waitFor({ ...WAIT, state: 'visible' });
    await expect(alice.locator('#identity').textContent()).resolves.toBe('alice (admin)');
    // The SSE pane reads the Function URL directly and is streaming.
    await alice.locator('#sse-status[data-state="open"]').waitFor(WAIT);
    // The service's idea of each user is the token's subject.
    await bob.locator('#identity[title^="user bob,"]').waitFor(WAIT);
  });

  it('shows each message once, in order, grouped by sender, under a day separator', async () => {
    for (const text of ['one', 'two', 'three']) await say(alice, text);
    await say(bob, 'hi alice');
    await say(alice, 'four');
    const expected = [
      { sender: 'alice', text: 'one', grouped: false },
      { sender: 'alice', text: 'two', grouped: true },
      { sender: 'alice', text: 'three', grouped: true },
      { sender: 'bob', text: 'hi alice', grouped: false },
      { sender: 'alice', text: 'four', grouped: false },
    ];
    for (const [page, me] of [
      [alice, 'alice'],
      [bob, 'bob'],
    ] as const) {
      await page.locator('#messages li.msg').filter({ hasText: 'four' }).waitFor(WAIT);
      const shown = await rows(page);
      const messages = shown.filter((row) => row.kind === 'message');
      // One separator per local day (one, unless the test ran across midnight), the first on top.
      const separators = shown.filter((row) => row.kind === 'day');
      expect(shown[0]!.kind).toBe('day');
      expect(separators).toHaveLength(new Set(messages.map((row) => row.day)).size);
      expect(separators.at(-1)!.text).toBe('Today');
      expect(messages.map(({ sender, text, grouped }) => ({ sender, text, grouped }))).toEqual(expected);
      expect(messages.map((row) => row.own)).toEqual(expected.map((row) => row.sender === me));
    }
    // The sender line shows once per group.
    await expect(bob.locator('#messages li.msg .meta:visible').count()).resolves.toBe(3);
  });

  it('shows images and audio inline', async () => {
    await bob.setInputFiles('#image-input', { name: 'dot.png', mimeType: 'image/png', buffer: smallPng(24) });
    await alice.locator('#messages li.msg[data-type="image"][data-sender="bob"] img').waitFor(WAIT);
    const size = await alice.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#messages li.msg[data-type="image"] img');
      return img?.complete && img.naturalWidth > 0 ? [img.naturalWidth, img.naturalHeight] : false;
    }, WAIT);
    expect(await size.jsonValue()).toEqual([24, 24]);
    await alice.setInputFiles('#audio-input', { name: 'tone.wav', mimeType: 'audio/wav', buffer: toneWav(300) });
    await bob.waitForFunction(() => {
      const audio = document.querySelector<HTMLAudioElement>('#messages li.msg[data-type="audio"][data-sender="alice"] audio');
      return audio !== null && audio.readyState >= HTMLMediaElement.HAVE_METADATA && audio.error === null;
    }, WAIT);
    // A voice message recorded from Chromium's fake microphone.
    await bob.locator('#record-btn:not([hidden])').click();
    await bob.locator('#record-btn[data-state="recording"]').filter({ hasText: 'Stop 0:01' }).waitFor(WAIT);
    await bob.click('#record-btn');
    await alice.waitForFunction(() => {
      const audio = document.querySelector<HTMLAudioElement>('#messages li.msg[data-type="audio"][data-sender="bob"] audio');
      return audio !== null && audio.readyState >= HTMLMediaElement.HAVE_METADATA && audio.error === null;
    }, WAIT);
  });

  it('reports a refused send once, as a notice', async () => {
    // Not a PNG: the service refuses it with format_mismatch.
    await bob.setInputFiles('#image-input', { name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('not really a png') });
    const notice = bob.locator('#toasts .toast').filter({ hasText: 'format_mismatch' });
    await notice.waitFor(WAIT);
    await bob.locator('#messages li.pending').waitFor({ ...WAIT, state: 'detached' });
    const text = await bob.evaluate(() => document.body.textContent ?? "");
    expect(text.split('format_mismatch')).toHaveLength(2);
    await expect(bob.locator('#toasts .toast').count()).resolves.toBe(1);
    // Dismissed by the person.
    await notice.locator('button.dismiss').click();
    await notice.waitFor({ ...WAIT, state: 'detached' });
  });

  it('renders a published event as a card of labelled values, and a broadcast', async () => {
    await alice.click('#admin summary:has-text("Publish an event")');
    await alice.fill('#event-type', 'deploy.finished');
    await alice.fill('#event-data', '{"version": 42, "build": {"branch": "main", "green": true}}');
    await alice.click('#publish-btn');
    const card = bob.locator('#messages li.notification[data-event-type="deploy.finished"]');
    await card.waitFor(WAIT);
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('deploy.finished');
    expect(text).not.toMatch(/[{}"]/);
    const fields = await card.locator(':scope > dl.fields > dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]));
    expect(fields).toEqual([
      ['version', '42'],
      ['build', 'branchmaingreenyes'],
    ]);
    await expect(card.locator('dl.fields dl.fields dd').allTextContents()).resolves.toEqual(['main', 'yes']);
    // The admin's SSE pane lists it under its own name.
    await alice.locator('#sse-log li.sse-entry[data-event="deploy.finished"]').waitFor({ ...WAIT, state: 'attached' });

    await alice.fill('#broadcast-text', 'maintenance at noon');
    await alice.click('#broadcast-btn');
    for (const page of [alice, bob]) {
      await page.locator('#messages li.broadcast[data-sender="alice"]').filter({ hasText: 'maintenance at noon' }).waitFor(WAIT);
    }
  });

  it('has no horizontal overflow at 1280 and 390 pixels wide (screenshots in test-artifacts/)', async () => {
    await say(bob, `a long word: ${'x'.repeat(160)}`);
    await mkdir(ARTIFACTS, { recursive: true });
    for (const size of SIZES) {
      for (const [page, name] of [
        [alice, 'alice-admin'],
        [bob, 'bob'],
      ] as const) {
        await page.setViewportSize(size);
        const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
        expect(widths.scroll, `${name} at ${size.width}px`).toBeLessThanOrEqual(widths.inner);
        // ... and the conversation gets the room: nearly the whole width of a phone, most of a desktop.
        const chat = (await page.locator('section.chat').boundingBox())!;
        expect(chat.width, `${name}: conversation width at ${size.width}px`).toBeGreaterThanOrEqual(size.width < 600 ? size.width - 32 : 600);
        const composer = (await page.locator('#text').boundingBox())!;
        expect(composer.width, `${name}: message box width at ${size.width}px`).toBeGreaterThanOrEqual(size.width < 600 ? size.width - 64 : 400);
        await page.screenshot({ path: path.join(ARTIFACTS, `chat-page-${name}-${size.width}.png`), fullPage: true });
      }
    }
    for (const page of [alice, bob]) await page.setViewportSize(SIZES[0]!);
  });

  it('queues a message written while offline and delivers it once when back', async () => {
    // The browser goes offline (new connections fail; open sockets stay), then the service drops
    // bob's connection, as API Gateway does at its limits.
    const connection = /connection (\S+)/.exec((await bob.locator('#identity').getAttribute('title')) ?? '')?.[1];
    expect(connection).toBeTruthy();
    await context!.setOffline(true);
    try {
      const dropped = await fetch(`${runtime!.managementUrl}/@connections/${encodeURIComponent(connection!)}`, { method: 'DELETE' });
      expect(dropped.status).toBe(204);
      await bob.locator('#status[data-state="reconnecting"]').waitFor(WAIT);
      await bob.fill('#text', 'written offline');
      await bob.press('#text', 'Enter');
      await bob.locator('#messages li.pending').filter({ hasText: 'queued' }).waitFor(WAIT);
      await bob.locator('#status').filter({ hasText: '1 queued' }).waitFor(WAIT);
    } finally {
      await context!.setOffline(false);
    }
    for (const page of [alice, bob]) {
      await page.locator('#status[data-state="open"]').waitFor(WAIT);
      await page.locator('#messages li.msg[data-id]').filter({ hasText: 'written offline' }).waitFor(WAIT);
    }
    await bob.locator('#messages li.pending').waitFor({ ...WAIT, state: 'detached' });
    for (const page of [alice, bob]) {
      const texts = (await rows(page)).filter((row) => row.kind === 'message').map((row) => row.text);
      expect(texts.filter((text) => text === 'written offline')).toHaveLength(1);
      // Nothing else arrived twice across the reconnect either.
      const ids = await page.locator('#messages li[data-id]').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.id));
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('pages history upward: load older, then scrolling to the top', async () => {
    const token = await devToken('carol');
    for (let i = 1; i <= 25; i++) {
      const res = await fetch(`${runtime!.httpUrl}/api/message`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'text', content: `m${String(i).padStart(2, '0')}`, room: 'beta' }),
      });
      expect(res.status).toBe(201);
    }
    const reader = await openPage('?page=10');
    await join(reader, 'dave', 'beta');
    const texts = async () => (await rows(reader)).filter((row) => row.kind === 'message').map((row) => row.text);
    const expected = Array.from({ length: 25 }, (_, i) => `m${String(i + 1).padStart(2, '0')}`);
    await reader.locator('#messages li.msg').first().waitFor(WAIT);
    await expect(texts()).resolves.toEqual(expected.slice(15));
    // From here the history requests (the prefetch of the oldest page) wait until released, so the
    // reader scrolls to the top while that load is still in flight: the scroll must not be lost.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = 0;
    await reader.route(/\/api\/messages\?/, async (route) => {
      held++;
      await released;
      await route.continue();
    });
    await reader.locator('#load-older:not([hidden])').click();
    await reader.locator('#messages li.msg').filter({ hasText: 'm06' }).waitFor(WAIT);
    await expect(texts()).resolves.toEqual(expected.slice(5));
    await expect.poll(() => held, WAIT).toBe(1);
    await reader.evaluate(() => {
      document.getElementById('scroller')!.scrollTop = 0;
    });
    release();
    await reader.locator('#messages li.msg').filter({ hasText: 'm01' }).waitFor(WAIT);
    await expect(texts()).resolves.toEqual(expected);
    await reader.locator('#load-older').waitFor({ ...WAIT, state: 'hidden' });

    // Leaving closes the connection and the composer.
    await reader.click('#leave-btn');
    await reader.locator('#status[data-state="offline"]').waitFor(WAIT);
    await expect(reader.isDisabled('#text')).resolves.toBe(true);
    await expect(reader.locator('#empty').textContent()).resolves.toBe('You left #beta.');
  });

  it('remembers the name after a reload, and never the admin choice', async () => {
    // Pages of one browser share localStorage: the last one to join was dave's.
    const page = pages.at(-1)!;
    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor(WAIT);
    await expect(page.inputValue('#name')).resolves.toBe('dave');
    await expect(page.inputValue('#room')).resolves.toBe('beta');
    await expect(page.isChecked('#admin-toggle')).resolves.toBe(false);
    await expect(page.locator('#status').getAttribute('data-state')).resolves.toBe('offline');
    await expect(page.locator('#admin').isVisible()).resolves.toBe(false);
    // The page before joining, on a phone.
    await page.setViewportSize(SIZES[1]!);
    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.inner);
    await page.screenshot({ path: path.join(ARTIFACTS, 'chat-page-join-390.png'), fullPage: true });
    await page.setViewportSize(SIZES[0]!);
  });

  it('raised no uncaught error in any page', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('chat page in headless Chromium (auth off)', () => {
  let plain: Runtime | undefined;
  afterAll(async () => {
    await plain?.stop();
  });

  it('chats without tokens: the page names the sender', async () => {
    plain = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth: false });
    const page = await context!.newPage();
    pages.push(page);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(plain.httpUrl);
    await page.locator('body[data-ready="true"]').waitFor(WAIT);
    await join(page, 'erin', 'gamma');
    // The title comes with the `connected` greeting, which may land just after the state turns open.
    await page.locator('#identity[title^="user anonymous,"]').waitFor(WAIT);
    await expect(page.locator('#admin').isVisible()).resolves.toBe(false);
    await say(page, 'no tokens here');
    await expect(page.locator('#messages li.msg.own[data-sender="erin"]').count()).resolves.toBe(1);
    expect(pageErrors).toEqual([]);
  });
});
