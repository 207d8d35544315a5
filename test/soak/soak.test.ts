/**
 * Short soak inside `npm test` (the long one is `npm run soak`): 100 WebSocket connections in rooms
 * of 10 sending for about 8 s through the local runtime. Every delivery arrives, no connection
 * record is left once the clients have gone (every `$disconnect` ran), and memory stays flat: the
 * heap after traffic, after a forced GC, is close to the heap after the warm-up.
 */
import '../support/quiet.js';
import { describe, expect, it } from 'vitest';
import { formatSoak, mb, runSoak } from './soak.js';

const MB = 1024 * 1024;

describe('soak (short form)', () => {
  it('100 connections sending for 8 s: nothing lost, no record leaked, heap and RSS flat', async () => {
    const result = await runSoak({ clients: 100, durationMs: 8_000, roomSize: 10, sendIntervalMs: 2_000, warmupMs: 2_000 });
    console.log(`[soak] ${result.clients} clients, ${(result.durationMs / 1000).toFixed(0)} s: sent=${result.sent} delivered=${result.delivered}/${result.expected} lost=${result.lost} duplicated=${result.duplicated}` +
      ` heap ${mb(result.heapStart)}→${mb(result.heapEnd)} MB rss ${mb(result.rssStart)}→${mb(result.rssEnd)} MB leakedConnectionRecords=${result.leakedConnectionRecords}\n${formatSoak(result)}`);

    expect(result.clients).toBe(100);
    // Throughput depends on the machine's load (the figures above); every client sends at least once.
    expect(result.sent).toBeGreaterThanOrEqual(result.clients);
    expect(result.rejected).toBe(0);
    expect(result.lost).toBe(0);
    expect(result.leakedConnectionRecords).toBe(0);
    // Flat memory: what the run keeps (stored messages, task ledger entries in the in-memory
    // emulators) is a few MB at most; a leak per message or per connection would be far more.
    // Tolerant bounds, as GC timing varies on a busy machine (figures are printed above).
    expect(result.heapEnd).toBeLessThan(result.heapStart * 1.25 + 24 * MB);
    expect(result.rssEnd).toBeLessThan(result.rssStart * 1.5 + 64 * MB);
  });
});
