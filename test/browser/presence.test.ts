/**
 * Presence and typing on the chat page in headless Chromium (auth on, a 1 s presence grace): the
 * members of the room with an online dot, "alice is typing…" on the other page only, cleared by
 * her message, and a member who leaves drops off the list.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useChatPages } from './chat-pages.js';

const WAIT = { timeout: 15_000 };

const { pageErrors, openAndJoin } = useChatPages({ wait: WAIT, context: { presenceGraceSeconds: 1 } });

const online = (page: Page) => page.$$eval('#member-list li[data-state="online"]', (items) => items.map((li) => (li as HTMLElement).dataset.user));

describe('presence and typing on the chat page', () => {
  it('lists members with an online dot, shows who is typing to the others, and drops a member who left', async () => {
    const room = `presence-${Date.now().toString(36)}`;
    const alice = await openAndJoin('alice', room);
    const bob = await openAndJoin('bob', room);

    await bob.locator('#member-list li[data-user="alice"] .dot').waitFor(WAIT);
    await alice.locator('#member-list li[data-user="bob"]').waitFor(WAIT);
    expect(await online(bob)).toEqual(['alice', 'bob']);
    await expect(bob.locator('#members').isVisible()).resolves.toBe(true);
    const dot = await bob.locator('#member-list li[data-user="alice"] .dot').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(dot).toBe('rgb(46, 157, 87)');

    await alice.locator('#text').pressSequentially('hel');
    await bob.locator('#typing', { hasText: 'alice is typing…' }).waitFor(WAIT);
    await expect(alice.locator('#typing').textContent()).resolves.toBe('');

    await alice.locator('#text').pressSequentially('lo');
    await alice.press('#text', 'Enter');
    await bob.locator('#messages li.msg').filter({ hasText: 'hello' }).waitFor(WAIT);
    // Her message ends her typing on the other page.
    await expect(bob.locator('#typing').textContent()).resolves.toBe('');

    await alice.click('#leave-btn');
    await bob.locator('#member-list li[data-user="alice"]').waitFor({ ...WAIT, state: 'detached' });
    expect(await online(bob)).toEqual(['bob']);
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
