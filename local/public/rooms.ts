/**
 * The page's rooms panel: the rooms the signed-in person may use (public ones and their private
 * and direct rooms, paged), a form to create a room (private by default, with members), one to
 * open a direct chat, and, in a room they own, one to add or remove members. It talks to the
 * service through the current session's ChatClient; app.ts tells it which session is current.
 */
import type { ChatClient, RoomInfo } from '../../client/src/index.js';
import { byId, h } from './dom.js';

export interface RoomsHost {
  /** Switches the conversation to `room` (as the join form does). */
  open(room: string): void;
  showError(text: string): void;
  showInfo(text: string): void;
}

interface Current {
  client: ChatClient;
  user: string;
  room: string;
}

const PAGE = 20;

const ui = {
  panel: byId<HTMLDetailsElement>('rooms-panel'),
  list: byId<HTMLUListElement>('rooms-list'),
  more: byId<HTMLButtonElement>('rooms-more'),
  createForm: byId<HTMLFormElement>('room-form'),
  createName: byId<HTMLInputElement>('new-room'),
  createPrivate: byId<HTMLInputElement>('new-room-private'),
  createMembers: byId<HTMLInputElement>('new-room-members'),
  directForm: byId<HTMLFormElement>('direct-form'),
  directUser: byId<HTMLInputElement>('direct-user'),
  memberForm: byId<HTMLFormElement>('member-form'),
  memberUser: byId<HTMLInputElement>('member-user'),
  memberRemove: byId<HTMLButtonElement>('member-remove'),
};

const userList = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((u) => u.trim())
    .filter(Boolean);

/** How a room reads in the list: `# name`, `name (private)`, or `@ the other person` for a direct room. */
export function roomTitle(room: RoomInfo, me: string): string {
  if (room.direct) return `@ ${room.members?.find((m) => m !== me) ?? me}`;
  return room.visibility === 'private' ? `${room.name} (private)` : `# ${room.name}`;
}

export class RoomsPanel {
  private current: Current | undefined;
  private readonly known = new Map<string, RoomInfo>();
  private cursor: string | null = null;
  /** Bumped on every new listing, so a late page of an older one is dropped. */
  private generation = 0;
  /** Called after each page of the list arrived (titles may have become known). */
  onListed: (() => void) | undefined;

  constructor(private readonly host: RoomsHost) {
    ui.more.addEventListener('click', () => void this.loadPage(this.generation));
    ui.createForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.create();
    });
    ui.directForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.direct();
    });
    ui.memberForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.member('add');
    });
    ui.memberRemove.addEventListener('click', () => void this.member('remove'));
  }

  /** A room was joined (or the panel is told there is none: `undefined`). */
  show(current: Current | undefined): void {
    this.current = current;
    ui.panel.hidden = current === undefined;
    this.refresh();
  }

  /** A display title for the room label, when the room is one the list knows. */
  titleOf(room: string): string | undefined {
    const info = this.known.get(room);
    return info && this.current ? roomTitle(info, this.current.user) : undefined;
  }

  refresh(): void {
    this.generation++;
    this.known.clear();
    this.cursor = null;
    ui.list.replaceChildren();
    ui.list.dataset.state = 'loading';
    ui.more.hidden = true;
    this.updateMemberForm();
    if (this.current) void this.loadPage(this.generation);
  }

  private async loadPage(generation: number): Promise<void> {
    const current = this.current;
    if (!current) return;
    try {
      const page = await current.client.listRooms({ limit: PAGE, ...(this.cursor ? { cursor: this.cursor } : {}) });
      if (generation !== this.generation) return;
      for (const room of page.rooms) this.add(room, current);
      this.cursor = page.next_cursor;
      ui.more.hidden = page.next_cursor === null;
      ui.list.dataset.state = 'loaded';
      this.updateMemberForm();
      this.onListed?.();
    } catch (error) {
      if (generation === this.generation) this.host.showError(`Rooms: ${(error as Error).message}`);
    }
  }

  private add(room: RoomInfo, current: Current): void {
    if (this.known.has(room.name)) return;
    this.known.set(room.name, room);
    const button = h('button', {
      className: 'room-link',
      text: roomTitle(room, current.user),
      attrs: { type: 'button', 'data-room': room.name, 'data-visibility': room.visibility, title: room.name },
    });
    if (room.name === current.room) button.setAttribute('aria-current', 'true');
    button.addEventListener('click', () => this.host.open(room.name));
    ui.list.append(h('li', {}, button));
  }

  private updateMemberForm(): void {
    const current = this.current;
    const room = current ? this.known.get(current.room) : undefined;
    ui.memberForm.hidden = !room || room.direct || room.owner !== current?.user;
  }

  private async create(): Promise<void> {
    const current = this.current;
    const name = ui.createName.value.trim();
    if (!current || !name) return;
    try {
      const room = await current.client.createRoom({
        name,
        visibility: ui.createPrivate.checked ? 'private' : 'public',
        members: userList(ui.createMembers.value),
      });
      ui.createName.value = '';
      ui.createMembers.value = '';
      this.host.open(room.name);
    } catch (error) {
      this.host.showError(`Create room: ${(error as Error).message}`);
    }
  }

  private async direct(): Promise<void> {
    const current = this.current;
    const user = ui.directUser.value.trim();
    if (!current || !user) return;
    try {
      const room = await current.client.openDirect(user);
      ui.directUser.value = '';
      this.host.open(room.name);
    } catch (error) {
      this.host.showError(`Direct chat: ${(error as Error).message}`);
    }
  }

  private async member(action: 'add' | 'remove'): Promise<void> {
    const current = this.current;
    const user = ui.memberUser.value.trim();
    if (!current || !user) return;
    try {
      if (action === 'add') await current.client.addMember(current.room, user);
      else await current.client.removeMember(current.room, user);
      ui.memberUser.value = '';
      this.host.showInfo(action === 'add' ? `${user} is now a member of ${current.room}` : `${user} was removed from ${current.room}`);
    } catch (error) {
      this.host.showError(`Members: ${(error as Error).message}`);
    }
  }
}
