/**
 * How the conversation is laid out, apart from the DOM: where a day separator goes, which messages
 * join the group of the one before (same sender, same day, a few minutes apart), and how a
 * notification's data reads as labelled values instead of JSON.
 */

/** Messages of one sender further apart than this start a new group. */
export const GROUP_GAP_MS = 5 * 60 * 1000;

export interface TimelineItem {
  /** `message` entries can be grouped; anything else (broadcast, notification, note) breaks a group. */
  kind: string;
  sender?: string;
  timestamp?: string;
}

export interface Decoration {
  /** Day label to show above this item, when it is the first of its day. */
  day?: string;
  /** Continues the group of the item before it: no sender line of its own. */
  grouped: boolean;
}

const timeOf = (iso: string | undefined): number => (iso ? Date.parse(iso) : Number.NaN);

/** The local calendar day of a time, as `YYYY-MM-DD`. */
export function dayKey(time: number): string {
  const d = new Date(time);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** "Today", "Yesterday", or the date in the reader's locale. */
export function dayLabel(time: number, now: number, locale?: string): string {
  const key = dayKey(time);
  if (key === dayKey(now)) return 'Today';
  const yesterday = new Date(now);
  yesterday.setDate(yesterday.getDate() - 1);
  if (key === dayKey(yesterday.getTime())) return 'Yesterday';
  const sameYear = new Date(time).getFullYear() === new Date(now).getFullYear();
  return new Date(time).toLocaleDateString(locale, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
}

/** Decorations of a run of items in display order. Items without a valid time never start a day. */
export function decorate(items: readonly TimelineItem[], now: number = Date.now(), locale?: string): Decoration[] {
  let lastDay: string | undefined;
  let previous: TimelineItem | undefined;
  return items.map((item) => {
    const time = timeOf(item.timestamp);
    let day: string | undefined;
    if (!Number.isNaN(time)) {
      const key = dayKey(time);
      if (key !== lastDay) day = dayLabel(time, now, locale);
      lastDay = key;
    }
    const previousTime = timeOf(previous?.timestamp);
    const grouped =
      day === undefined &&
      item.kind === 'message' &&
      previous?.kind === 'message' &&
      previous.sender !== undefined &&
      previous.sender === item.sender &&
      !Number.isNaN(previousTime) &&
      time - previousTime >= 0 &&
      time - previousTime <= GROUP_GAP_MS;
    previous = item;
    return { ...(day === undefined ? {} : { day }), grouped };
  });
}

/** A value of a notification's data as a tree of labelled fields (rendered as nested lists). */
export type Field = { label: string; value: string } | { label: string; children: Field[] };

/** `{"build": {"id": 7}, "ok": true}` → build › id: 7, ok: yes. Arrays are listed by position. */
export function fieldsOf(data: unknown, depth = 0): Field[] {
  if (data === null || typeof data !== 'object') return [{ label: 'value', value: scalar(data) }];
  const entries = Array.isArray(data) ? data.map((value, i) => [String(i + 1), value] as const) : Object.entries(data);
  return entries.map(([label, value]) => {
    if (value !== null && typeof value === 'object' && depth < 4) {
      const children = fieldsOf(value, depth + 1);
      return children.length > 0 ? { label, children } : { label, value: Array.isArray(value) ? 'none' : 'empty' };
    }
    return { label, value: scalar(value) };
  });
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object') return Array.isArray(value) ? value.map(scalar).join(', ') : `${Object.keys(value).length} fields`;
  return String(value);
}
