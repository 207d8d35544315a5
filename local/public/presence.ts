/**
 * Who is here and who is typing, for the chat page: the room's members with an online dot (from
 * `presence()` on every (re)connection, then the `presence` events), and a "alice is typing…" line
 * fed by the client's `typing` events (which lapse on their own). The composer reports typing
 * through `client.typing()`, which keeps it within the service's limit.
 */
import type { ChatClient, PresenceMember } from '../../client/src/index.js';
import { h } from './dom.js';

export class PresencePanel {
  private client: ChatClient | undefined;
  private self: string | undefined;
  private readonly members = new Map<string, PresenceMember | undefined>();
  private generation = 0;

  constructor(
    private readonly section: HTMLElement,
    private readonly list: HTMLUListElement,
    private readonly typingLine: HTMLElement,
  ) {}

  /** Shows the room of `client`; `self` is the user id of this page's token. */
  attach(client: ChatClient, self: string): void {
    this.detach();
    const generation = ++this.generation;
    this.client = client;
    this.self = self;
    this.section.hidden = false;
    const current = () => generation === this.generation;
    client.on('connected', () => current() && void this.refresh(generation));
    client.on('presence', (change) => {
      if (!current() || change.room !== client.room) return;
      if (change.state === 'online') this.members.set(change.user, this.members.get(change.user));
      else this.members.delete(change.user);
      this.render();
    });
    client.on('typing', (event) => current() && event.room === client.room && this.renderTyping());
  }

  detach(): void {
    this.generation++;
    this.client = undefined;
    this.members.clear();
    this.section.hidden = true;
    this.list.replaceChildren();
    this.typingLine.textContent = '';
  }

  /** The composer's text changed: typing while it has text, stopped when it is empty or sent. */
  composing(text: string): void {
    this.client?.typing(text.trim() === '' ? 'stop' : 'start');
  }

  private async refresh(generation: number): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      const members = await client.presence();
      if (generation !== this.generation) return;
      this.members.clear();
      for (const member of members) this.members.set(member.user, member);
      this.render();
    } catch {
      // The list stays as the events left it; the next connection reads it again.
    }
  }

  private render(): void {
    const users = [...this.members.keys()].sort((a, b) => a.localeCompare(b));
    this.list.replaceChildren(
      ...users.map((user) => {
        const member = this.members.get(user);
        const tabs = member && member.connections > 1 ? ` (${member.connections} tabs)` : '';
        const label = user === this.self ? `${user} (you)` : user;
        return h(
          'li',
          { className: 'member', attrs: { 'data-user': user, 'data-state': 'online' } },
          h('span', { className: 'dot', attrs: { 'aria-hidden': 'true' } }),
          h('span', { text: label + tabs }),
        );
      }),
    );
    this.list.setAttribute('aria-label', `${users.length} online`);
  }

  private renderTyping(): void {
    const typing = (this.client?.typingUsers() ?? []).filter((user) => user !== this.self).sort();
    this.typingLine.textContent =
      typing.length === 0 ? '' : typing.length === 1 ? `${typing[0]} is typing…` : typing.length === 2 ? `${typing[0]} and ${typing[1]} are typing…` : 'Several people are typing…';
  }
}
