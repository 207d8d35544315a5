/**
 * Example values shared by both documents: fixed (no clock, no randomness) so the generated files
 * are byte-for-byte reproducible. Ids are real ULIDs of the example timestamps.
 */
import { ulidFloor } from '../../lambdas/domain/ids.js';
import type { ChatMessage, PublishedEvent } from '../../lambdas/domain/model.js';

const at = (iso: string, suffix: string) => ulidFloor(Date.parse(iso)).slice(0, 10) + suffix;

export const T1 = '2026-11-27T10:15:30.000Z';
export const T2 = '2026-11-27T10:15:42.250Z';
export const T3 = '2026-11-27T10:16:05.500Z';

/** A 1x1 PNG, small enough to read, real enough to pass the magic-number check. */
export const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

export const TEXT_MESSAGE: Omit<ChatMessage, 'attachment'> = {
  id: at(T1, '8Q3V6K2M4N7P1R5S'),
  type: 'text',
  content: 'hello',
  sender: 'alice',
  room: 'general',
  timestamp: T1,
};

export const IMAGE_MESSAGE: Omit<ChatMessage, 'attachment'> = {
  id: at(T2, '2B9C4D6E8F0G1H3J'),
  type: 'image',
  content: PNG_BASE64,
  sender: 'alice',
  format: 'png',
  room: 'general',
  timestamp: T2,
};

export const BROADCAST_MESSAGE: Omit<ChatMessage, 'attachment'> = {
  id: at(T2, '5T7V9W1X3Y5Z7A9B'),
  type: 'text',
  content: 'Maintenance at 22:00 UTC',
  sender: 'ops',
  room: 'global',
  timestamp: T2,
};

export const PUBLISHED_EVENT: PublishedEvent = {
  id: at(T3, '0K2M4N6P8Q0R2S4T'),
  event_type: 'deploy.finished',
  data: { version: 42 },
  timestamp: T3,
};

export const CONNECTION_ID = 'L0SM9cOFvHcCIhw=';
