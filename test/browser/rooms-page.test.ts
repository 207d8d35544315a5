/**
 * The chat page's rooms panel in a real browser (headless Chromium, playwright-core) against the
 * local runtime with auth on: alice creates a private room with bob from the panel, bob finds it in
 * his list and chats there, carol (a third page) neither sees it nor can join it; a direct chat
 * opened by alice is the room bob's page opens too. No uncaught error in any page.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useChatPages } from './chat-pages.js';

const WAIT = { timeout: 15_000 };

const pages = useChatPages({ wait: WAIT });
const { pageErrors } = pages;
const openPage = pages.open;

async function join(page: Page, name: string, room: string): Promise<void> {
  await pages.join(page, name, room);
  await page.locator('#rooms-panel:not([hidden])').waitFor(WAIT);
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
  await page.locator('#messages li.msg.own[data-id]').filter({ hasText: text }).waitFor(WAIT);
}

const roomButton = (page: Page, room: string) => page.locator(`#rooms-list button[data-room="${room}"]`);

describe('rooms panel', () => {
  it('creates a private room that its member finds and a third page cannot join; opens direct chats', async () => {
    const suffix = Math.random().toString(36).slice(2, 7);
    const [alice, bob, carol] = [`alice${suffix}`, `bob${suffix}`, `carol${suffix}`];
    const room = `secret-${suffix}`;
    const [a, b, c] = await Promise.all([openPage(), openPage(), openPage()]);
    await join(a, alice, 'general');
    await join(b, bob, 'general');
    await join(c, carol, 'general');

    // alice creates the room from the panel (private is the default) and lands in it.
    await a.fill('#new-room', room);
    await a.fill('#new-room-members', bob);
    await a.click('#room-create');
    await a.locator('#room-label').filter({ hasText: room }).waitFor(WAIT);
    await a.locator('#status[data-state="open"]').waitFor(WAIT);
    await roomButton(a, room).waitFor(WAIT);
    expect(await roomButton(a, room).getAttribute('data-visibility')).toBe('private');
    // The owner gets the member form.
    await a.locator('#member-form:not([hidden])').waitFor(WAIT);

    // bob's list shows it (after a refresh: a new join lists again); he opens it and they chat.
    await join(b, bob, 'general');
    await roomButton(b, room).click();
    await b.locator('#room-label').filter({ hasText: room }).waitFor(WAIT);
    await b.locator('#status[data-state="open"]').waitFor(WAIT);
    await say(a, 'for bob only');
    await b.locator('#messages li.msg[data-id]').filter({ hasText: 'for bob only' }).waitFor(WAIT);

    // carol: not in her list, and joining it by name is refused (the client stops, no retry loop).
    await join(c, carol, 'general');
    await c.locator('#rooms-list[data-state="loaded"]').waitFor({ ...WAIT, state: 'attached' });
    expect(await roomButton(c, room).count()).toBe(0);
    await c.fill('#room', room);
    await c.click('#join-btn');
    await c.locator('.toast.error').filter({ hasText: 'not allowed in this room' }).waitFor(WAIT);
    await c.locator('#status[data-state="closed"]').waitFor(WAIT);
    expect(await c.locator('#messages li.msg').filter({ hasText: 'for bob only' }).count()).toBe(0);

    // A direct chat: alice opens it with bob; bob's page opening it with alice is the same room.
    await a.fill('#direct-user', bob);
    await a.click('#direct-open');
    await a.locator('#room-label').filter({ hasText: `@ ${bob}` }).waitFor(WAIT);
    await a.locator('#status[data-state="open"]').waitFor(WAIT);
    await b.fill('#direct-user', alice);
    await b.click('#direct-open');
    await b.locator('#room-label').filter({ hasText: `@ ${alice}` }).waitFor(WAIT);
    await b.locator('#status[data-state="open"]').waitFor(WAIT);
    await say(b, 'just us');
    await a.locator('#messages li.msg[data-id]').filter({ hasText: 'just us' }).waitFor(WAIT);

    // Removed by the owner: bob's page leaves the room at once.
    await roomButton(a, room).click();
    await a.locator('#status[data-state="open"]').waitFor(WAIT);
    await roomButton(b, room).click();
    await b.locator('#status[data-state="open"]').waitFor(WAIT);
    await a.locator('#member-form:not([hidden])').waitFor(WAIT);
    await a.fill('#member-user', bob);
    await a.click('#member-remove');
    await b.locator('#empty').filter({ hasText: `You were removed from ${room}` }).waitFor(WAIT);

    expect(pageErrors).toEqual([]);
  });
});
