/** A RoomStore in memory that counts its reads (the room suites' domain tests). */
import type { RoomRecord, RoomStore } from '../../lambdas/domain/rooms.js';

export class MemoryRooms implements RoomStore {
  readonly rooms = new Map<string, RoomRecord>();
  readonly members = new Map<string, Set<string>>();
  reads = 0;

  async lookup(room: string, userId: string) {
    this.reads++;
    const record = this.rooms.get(room);
    const member = this.members.get(room)?.has(userId) ?? false;
    return record ? { record, member } : { member };
  }
  async get(room: string) {
    this.reads++;
    return this.rooms.get(room);
  }
  async create(record: RoomRecord) {
    if (this.rooms.has(record.name)) return false;
    this.rooms.set(record.name, record);
    return true;
  }
  async addMembers(record: RoomRecord, users: string[]) {
    const set = this.members.get(record.name) ?? new Set<string>();
    for (const user of users) set.add(user);
    this.members.set(record.name, set);
  }
  async removeMember(room: string, userId: string) {
    this.members.get(room)?.delete(userId);
  }
  private page(names: string[], after: string | undefined, limit: number) {
    const rest = names.sort().filter((n) => after === undefined || n > after);
    return { rooms: rest.slice(0, limit).map((n) => this.rooms.get(n)!), more: rest.length > limit };
  }
  async listMemberRooms(userId: string, after: string | undefined, limit: number) {
    const names = [...this.rooms.values()].filter((r) => r.visibility === 'private' && this.members.get(r.name)?.has(userId)).map((r) => r.name);
    return this.page(names, after, limit);
  }
  async listPublicRooms(after: string | undefined, limit: number) {
    return this.page(
      [...this.rooms.values()].filter((r) => r.visibility === 'public').map((r) => r.name),
      after,
      limit,
    );
  }
}
