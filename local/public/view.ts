/**
 * The conversation on screen: messages, broadcasts, notifications and notes in id order (ids sort
 * by time), each once; day separators and sender groups recomputed after every change
 * (./timeline.ts); the view stays at the newest message unless the reader scrolled up, and keeps
 * its place when older pages are added above.
 */
import type { ChatMessage, PublishedEvent } from '../../client/src/index.js';
import { h } from './dom.js';
import { attachmentBody } from './attachments.js';
import { AUDIO_MIME, IMAGE_MIME } from './media.js';
import { decorate, type Field, fieldsOf } from './timeline.js';

/** Within this many pixels of the bottom counts as reading the newest messages. */
const STICK_PX = 48;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

function timeLabel(iso: string): { short: string; full: string } {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return { short: '', full: '' };
  return { short: timeFormat.format(date), full: fullFormat.format(date) };
}

function timeNode(iso: string): HTMLTimeElement {
  const { short, full } = timeLabel(iso);
  return h('time', { text: short, attrs: { datetime: iso, title: full } });
}

/** A stable colour per name, for the avatar. */
function hueOf(name: string): number {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % 360;
}

function avatar(name: string): HTMLElement {
  const initial = name.trim().charAt(0).toUpperCase() || '?';
  return h('span', { className: 'avatar', text: initial, attrs: { 'aria-hidden': 'true', style: `--hue: ${hueOf(name)}` } });
}

function mediaBody(message: ChatMessage): Node {
  const attached = attachmentBody(message);
  if (attached) return attached;
  const format = (message.format ?? '').toLowerCase();
  const content = message.content ?? '';
  if (!BASE64_RE.test(content)) return h('em', { text: `[${message.type} that cannot be shown]` });
  const mime = (message.type === 'image' ? IMAGE_MIME : AUDIO_MIME)[format];
  if (!mime) return h('em', { text: `[${message.type} in unsupported format ${format || 'unknown'}]` });
  if (message.type === 'image') {
    return h('img', { attrs: { src: `data:${mime};base64,${content}`, alt: `Image from ${message.sender}`, loading: 'lazy' } });
  }
  return h('audio', { attrs: { controls: '', preload: 'metadata', src: `data:${mime};base64,${content}`, 'aria-label': `Audio from ${message.sender}` } });
}

function fieldList(fields: Field[]): HTMLDListElement {
  const list = h('dl', { className: 'fields' });
  for (const field of fields) {
    list.append(h('dt', { text: field.label }));
    list.append('children' in field ? h('dd', {}, fieldList(field.children)) : h('dd', { text: field.value }));
  }
  return list;
}

export class ConversationView {
  private readonly ids = new Set<string>();
  private stick = true;

  constructor(
    private readonly list: HTMLOListElement,
    private readonly scroller: HTMLElement,
    private readonly empty: HTMLElement,
    /** The reader's own user id: their messages are drawn as their own. */
    private readonly me: () => string | undefined,
  ) {
    scroller.addEventListener('scroll', () => {
      this.stick = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < STICK_PX;
    });
  }

  clear(emptyText: string): void {
    this.list.replaceChildren();
    this.ids.clear();
    this.stick = true;
    this.empty.textContent = emptyText;
    this.empty.hidden = false;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Chat messages and broadcasts; `older` keeps the reader's place (a history page above). */
  addMessages(messages: ChatMessage[], kind: 'message' | 'broadcast', options: { older?: boolean } = {}): void {
    const entries = messages.filter((m) => typeof m?.id === 'string' && !this.ids.has(m.id)).map((m) => this.messageEntry(m, kind));
    this.insert(entries, options.older ?? false);
  }

  addNotification(event: PublishedEvent): void {
    if (typeof event?.id !== 'string' || this.ids.has(event.id)) return;
    const entry = h(
      'li',
      {
        className: 'entry card notification',
        attrs: { 'data-kind': 'notification', 'data-id': event.id, 'data-event-type': event.event_type, 'data-timestamp': event.timestamp },
      },
      h('div', { className: 'card-head' }, h('span', { className: 'tag' }, 'Event'), h('strong', { className: 'event-type', text: event.event_type }), timeNode(event.timestamp)),
      fieldList(fieldsOf(event.data ?? {})),
    );
    this.insert([entry], false);
  }

  /** A line about the room itself (joined, caught up). */
  addNote(text: string): void {
    this.insert([h('li', { className: 'entry note', text, attrs: { 'data-kind': 'note', 'data-timestamp': new Date().toISOString() } })], false);
  }

  /** A message of the reader's that is not acknowledged yet; removed by the caller when it is. */
  addPending(label: string, queued: boolean): HTMLLIElement {
    const me = this.me() ?? '';
    const entry = h(
      'li',
      {
        className: 'entry msg own pending',
        attrs: { 'data-kind': 'message', 'data-sender': me, 'data-timestamp': new Date().toISOString() },
      },
      avatar(me),
      h('div', { className: 'meta' }, h('span', { className: 'sender', text: me })),
      h('div', { className: 'bubble' }, h('span', { text: label }), h('span', { className: 'pending-state', text: queued ? ' queued' : ' sending' })),
    );
    this.insert([entry], false, true);
    return entry;
  }

  scrollToEnd(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.stick = true;
  }

  private messageEntry(message: ChatMessage, kind: 'message' | 'broadcast'): HTMLLIElement {
    const own = kind === 'message' && message.sender === this.me();
    const body = h('div', { className: 'bubble' });
    if (message.type === 'text') body.textContent = message.content;
    else body.append(mediaBody(message));
    const attrs = { 'data-kind': kind, 'data-id': message.id, 'data-type': message.type, 'data-sender': message.sender, 'data-timestamp': message.timestamp };
    if (kind === 'broadcast') {
      return h(
        'li',
        { className: 'entry card broadcast', attrs },
        h('div', { className: 'card-head' }, h('span', { className: 'tag' }, 'Broadcast'), h('span', { className: 'sender', text: `from ${message.sender}` }), timeNode(message.timestamp)),
        body,
      );
    }
    body.title = timeLabel(message.timestamp).full;
    body.querySelector('img')?.addEventListener('load', () => {
      if (this.stick) this.scrollToEnd();
    });
    return h(
      'li',
      { className: `entry msg message${own ? ' own' : ''}`, attrs },
      avatar(message.sender),
      h('div', { className: 'meta' }, h('span', { className: 'sender', text: message.sender }), timeNode(message.timestamp)),
      body,
    );
  }

  /**
   * Places entries with an id before the first entry with a larger id (or before the pending ones),
   * entries without one at the end.
   */
  private insert(entries: HTMLLIElement[], older: boolean, own = false): void {
    if (entries.length === 0) return;
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    const stick = this.stick;
    const children = () => Array.from(this.list.children) as HTMLElement[];
    for (const entry of entries) {
      const id = entry.dataset.id;
      if (id) this.ids.add(id);
      const before = id ? children().find((node) => (node.dataset.id !== undefined && node.dataset.id > id) || node.classList.contains('pending')) : undefined;
      this.list.insertBefore(entry, before ?? null);
    }
    this.redecorate();
    this.empty.hidden = this.list.childElementCount > 0;
    if (older) this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
    else if (stick || own) this.scrollToEnd();
  }

  /**
   * Day separators and sender groups, from the entries' kinds, senders and times. Separators that
   * are already right stay, so the live region does not announce them again.
   */
  private redecorate(): void {
    const entries = (Array.from(this.list.children) as HTMLElement[]).filter((node) => !node.classList.contains('day'));
    const decorations = decorate(entries.map((node) => ({ kind: node.dataset.kind ?? 'note', sender: node.dataset.sender, timestamp: node.dataset.timestamp })));
    entries.forEach((node, i) => {
      const { day, grouped } = decorations[i]!;
      node.classList.toggle('grouped', grouped);
      // Separators left over from before this entry moved belong to no one now.
      let previous = node.previousElementSibling as HTMLElement | null;
      while (previous?.classList.contains('day') && previous.previousElementSibling?.classList.contains('day')) {
        previous.previousElementSibling.remove();
      }
      previous = node.previousElementSibling as HTMLElement | null;
      const existing = previous?.classList.contains('day') ? previous : undefined;
      if (!day) existing?.remove();
      else if (existing?.dataset.day !== day) {
        existing?.remove();
        this.list.insertBefore(h('li', { className: 'day', attrs: { role: 'separator', 'aria-label': day, 'data-day': day } }, h('span', { text: day })), node);
      }
    });
    // A separator after the last entry separates nothing.
    const last = this.list.lastElementChild;
    if (last?.classList.contains('day')) last.remove();
  }
}
