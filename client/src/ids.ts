/**
 * Message ids are ULIDs: a 48-bit millisecond time in the first 10 Crockford base32 characters, so
 * ids sort by time as strings. The client reads that time to resume a little before the last id it
 * saw (see ChatClient's `resumeOverlapMs`).
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function ulidTime(id: string): number {
  let time = 0;
  for (const char of id.slice(0, 10)) {
    const digit = ALPHABET.indexOf(char.toUpperCase());
    if (digit < 0) return Number.NaN;
    time = time * 32 + digit;
  }
  return time;
}

/** The smallest id of a millisecond: "everything from time t on". */
export function ulidFloor(time: number): string {
  let out = '';
  let t = Math.max(0, Math.floor(time));
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out + '0'.repeat(16);
}

/** A fresh `client_id`: the service stores a message once per client id and sender. */
export function newClientId(): string {
  const crypto = globalThis.crypto;
  // randomUUID exists only in secure contexts (https, localhost) in browsers.
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Ids already handed to the app, bounded (oldest forgotten first). */
export class SeenIds {
  private readonly ids = new Set<string>();
  constructor(private readonly max = 10_000) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string);
  }
}
