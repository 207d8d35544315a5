/**
 * At most `cap` open SSE streams per user. The lease is written first and counted after, so two
 * streams opened at once can both be refused but never both admitted past the cap (no
 * transactions needed). A stream that dies without releasing its lease frees it when it expires.
 */
import { randomUUID } from 'node:crypto';
import { ChatError } from './errors.js';
import { ulidFloor } from './ids.js';
import type { StreamLeases } from './ports.js';

export interface StreamSlot {
  release(): Promise<void>;
}

export async function acquireStreamSlot(leases: StreamLeases, userId: string, cap: number, expiresAtMs: number, now = Date.now()): Promise<StreamSlot> {
  // The lease id starts with its expiry time (a ULID time prefix), so "live" is a key condition:
  // id > the ULID floor of now. Not a message ULID: the id generator must never see future times.
  const leaseId = `${ulidFloor(expiresAtMs).slice(0, 10)}#${randomUUID()}`;
  await leases.put(userId, leaseId, Math.ceil(expiresAtMs / 1000));
  const live = await leases.countLive(userId, Math.floor(now / 1000), cap + 1);
  const release = () => leases.remove(userId, leaseId);
  if (live > cap) {
    await release();
    throw new ChatError('rate_limited', `At most ${cap} open event streams per user; close one and retry`, { retry_after_seconds: 1 });
  }
  return { release };
}
