/**
 * The chat page suites' shared harness: one headless Chromium and one local runtime (auth on) per
 * file, pages that record their script errors, and opening a page and joining a room as the page's
 * own form does. Registers its beforeAll/afterAll in the calling file.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { type Runtime, type RuntimeOptions, startRuntime } from '../../local/runtime.js';
import { type LaunchedContext, launchContext } from './chromium.js';

export interface ChatPages {
  /** Script errors of every page opened (a test ends expecting none). */
  pageErrors: string[];
  runtime(): Runtime;
  /** A fresh page on the chat page, once it says it is ready. */
  open(): Promise<Page>;
  /** Fills the name and room and joins; resolves when the connection is open. */
  join(page: Page, name: string, room: string): Promise<void>;
  openAndJoin(name: string, room: string): Promise<Page>;
}

export function useChatPages(options: { wait: { timeout: number }; context?: RuntimeOptions['context'] }): ChatPages {
  let browser: LaunchedContext | undefined;
  let runtime: Runtime | undefined;
  const pages: Page[] = [];
  const pageErrors: string[] = [];
  const { wait } = options;

  beforeAll(async () => {
    [browser, runtime] = await Promise.all([
      launchContext({ viewport: { width: 1280, height: 800 } }),
      startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth: true, ...(options.context ? { context: options.context } : {}) }),
    ]);
  }, 120_000);

  afterAll(async () => {
    for (const page of pages) await page.close().catch(() => undefined);
    await browser?.close();
    await runtime?.stop();
  });

  const open = async () => {
    const page = await browser!.context.newPage();
    pages.push(page);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(new URL('/', runtime!.httpUrl).toString());
    await page.locator('body[data-ready="true"]').waitFor(wait);
    return page;
  };
  const join = async (page: Page, name: string, room: string) => {
    await page.fill('#name', name);
    await page.fill('#room', room);
    await page.click('#join-btn');
    await page.locator('#status[data-state="open"]').waitFor(wait);
  };
  return {
    pageErrors,
    runtime: () => runtime!,
    open,
    join,
    async openAndJoin(name, room) {
      const page = await open();
      await join(page, name, room);
      return page;
    },
  };
}
