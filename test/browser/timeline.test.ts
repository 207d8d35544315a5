/**
 * The chat page's layout rules apart from the DOM (local/public/timeline.ts): day separators on day
 * changes in the reader's time zone, sender groups, and notification data as labelled fields.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GROUP_GAP_MS, dayKey, dayLabel, decorate, fieldsOf } from '../../local/public/timeline.js';

const at = (local: string) => new Date(local).toISOString();
const NOW = new Date('2026-12-01T15:00:00').getTime();

describe('decorate', () => {
  it('puts a separator above the first item of each local day, labelled Today, Yesterday or the date', () => {
    const items = [
      { kind: 'message', sender: 'a', timestamp: at('2026-11-20T23:59:00') },
      { kind: 'message', sender: 'a', timestamp: at('2026-11-30T00:00:01') },
      { kind: 'message', sender: 'a', timestamp: at('2026-11-30T23:59:59') },
      { kind: 'message', sender: 'b', timestamp: at('2026-12-01T00:00:00') },
      { kind: 'note' },
      { kind: 'message', sender: 'b', timestamp: at('2026-12-01T09:00:00') },
    ];
    const days = decorate(items, NOW, 'en-GB').map((d) => d.day);
    expect(days).toEqual([dayLabel(Date.parse(items[0]!.timestamp!), NOW, 'en-GB'), 'Yesterday', undefined, 'Today', undefined, undefined]);
    // Another day of this year: weekday and date; of another year: with the year.
    expect(days[0]).toMatch(/^Friday,? 20 November$/);
    expect(dayLabel(new Date('2025-06-03T10:00:00').getTime(), NOW, 'en-GB')).toMatch(/^Tuesday,? 3 June 2025$/);
  });

  it('groups consecutive messages of one sender within the gap, on the same day', () => {
    const t = (minutes: number) => new Date(NOW - 60 * 60_000 + minutes * 60_000).toISOString();
    const items = [
      { kind: 'message', sender: 'a', timestamp: t(0) },
      { kind: 'message', sender: 'a', timestamp: t(1) },
      { kind: 'message', sender: 'a', timestamp: t(1 + GROUP_GAP_MS / 60_000) },
      { kind: 'message', sender: 'a', timestamp: t(2 + (2 * GROUP_GAP_MS) / 60_000) },
      { kind: 'message', sender: 'b', timestamp: t(30) },
      { kind: 'broadcast', sender: 'b', timestamp: t(31) },
      { kind: 'message', sender: 'b', timestamp: t(32) },
      { kind: 'notification', timestamp: t(33) },
      { kind: 'message', sender: 'b', timestamp: t(34) },
    ];
    expect(decorate(items, NOW).map((d) => d.grouped)).toEqual([false, true, true, false, false, false, false, false, false]);
  });

  it('never groups across a day separator and never gives two separators for one day (any times, any order)', () => {
    const item = fc.record({
      kind: fc.constantFrom('message', 'broadcast', 'note'),
      sender: fc.constantFrom('a', 'b'),
      time: fc.integer({ min: NOW - 5 * 86_400_000, max: NOW }),
    });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 30 }), (raw) => {
        const items = raw.sort((x, y) => x.time - y.time).map(({ time, ...rest }) => ({ ...rest, timestamp: new Date(time).toISOString() }));
        const decorations = decorate(items, NOW);
        const labels = decorations.flatMap((d) => (d.day ? [d.day] : []));
        expect(new Set(labels).size).toBe(labels.length);
        expect(labels.length).toBe(new Set(items.map((i) => dayKey(Date.parse(i.timestamp)))).size);
        decorations.forEach((d, i) => {
          if (d.grouped) {
            expect(d.day).toBeUndefined();
            expect(items[i - 1]!.sender).toBe(items[i]!.sender);
          }
        });
      }),
    );
  });
});

describe('fieldsOf', () => {
  it('turns event data into labelled values, nested objects into nested fields', () => {
    expect(fieldsOf({ version: 42, ok: true, note: null, tags: ['a', 'b'], build: { branch: 'main', empty: {} } })).toEqual([
      { label: 'version', value: '42' },
      { label: 'ok', value: 'yes' },
      { label: 'note', value: 'none' },
      { label: 'tags', children: [{ label: '1', value: 'a' }, { label: '2', value: 'b' }] },
      { label: 'build', children: [{ label: 'branch', value: 'main' }, { label: 'empty', value: 'empty' }] },
    ]);
  });

  it('stops nesting at a depth, summarising what is below', () => {
    const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
    const flat = JSON.stringify(fieldsOf(deep));
    expect(flat).toContain('"value":"1 fields"');
    expect(flat).not.toContain('{"f"');
  });
});
