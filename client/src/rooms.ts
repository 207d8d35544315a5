/** The room routes: create, direct rooms, the paged list, members. */
import { HTTP_PATHS, type RoomInfo } from './generated.js';

export type Requester = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => Promise<unknown>;

export interface CreateRoomInput {
  name: string;
  visibility: 'public' | 'private';
  /** Users to add besides the caller (the owner). */
  members?: string[];
}

export interface ListRoomsOptions {
  limit?: number;
  cursor?: string;
}

export interface RoomPage {
  rooms: RoomInfo[];
  next_cursor: string | null;
}

const fill = (template: string, params: Record<string, string>) =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));

export class RoomsApi {
  constructor(private readonly request: Requester) {}

  async create(input: CreateRoomInput): Promise<RoomInfo> {
    return ((await this.request('POST', HTTP_PATHS.createRoom, input)) as { room: RoomInfo }).room;
  }

  /** The one direct room of the caller and `user`, the same whoever asks first. */
  async openDirect(user: string): Promise<RoomInfo> {
    return ((await this.request('POST', HTTP_PATHS.openDirect, { user })) as { room: RoomInfo }).room;
  }

  /** One page: the private rooms the caller belongs to, then public rooms. */
  async list(options: ListRoomsOptions = {}): Promise<RoomPage> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.cursor) query.set('cursor', options.cursor);
    const suffix = query.size > 0 ? `?${query}` : '';
    return (await this.request('GET', `${HTTP_PATHS.listRooms}${suffix}`)) as RoomPage;
  }

  /** Every room the caller may see, page by page. */
  async *all(limit?: number): AsyncGenerator<RoomInfo[], void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...(limit !== undefined ? { limit } : {}), ...(cursor ? { cursor } : {}) });
      if (page.rooms.length > 0) yield page.rooms;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  async addMember(room: string, user: string): Promise<void> {
    await this.request('POST', fill(HTTP_PATHS.addMember, { room }), { user });
  }

  /** Resolves with how many of the user's connections were cut off. */
  async removeMember(room: string, user: string): Promise<number> {
    const body = (await this.request('DELETE', fill(HTTP_PATHS.removeMember, { room, user }))) as { connections: number };
    return body.connections;
  }
}
