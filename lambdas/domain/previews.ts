/**
 * Image previews: after a png/jpg attachment message is stored, the message path enqueues a
 * `preview` task; the task reads the checked copy (`media/<id>`), makes a small JPEG thumbnail and
 * sets it on the stored message, where history, `resume` and SSE replay carry it. Live clients are
 * not sent an update: they already hold the full image's URL when the thumbnail would arrive.
 * A file that does not decode gets no preview and its task completes (a retry would not help).
 */
import { LIMITS } from '../shared/limits.js';
import { mediaKey } from './attachments.js';
import type { ChatMessage } from './model.js';
import type { PreviewFormat, PreviewResult } from './preview-image.js';
import type { PreviewTask } from './tasks.js';

/** Reads a whole object of the attachments bucket (undefined if it is gone). */
export interface MediaReader {
  read(key: string): Promise<Buffer | undefined>;
}

/** Sets the preview on a stored message; false if the message (with that attachment) is not there. */
export interface PreviewStore {
  setPreview(room: string, messageId: string, attachmentId: string, preview: string): Promise<boolean>;
}

export interface PreviewDeps {
  media: MediaReader;
  store: PreviewStore;
}

export type PreviewOutcome = 'stored' | 'no_message' | 'no_object' | Exclude<PreviewResult['status'], 'made'>;

const FORMATS: Record<string, PreviewFormat> = { png: 'png', jpg: 'jpg', jpeg: 'jpg' };

/** The preview task of a newly stored message, if its attachment is an image that gets one (png, jpg). */
export function previewTaskFor(message: ChatMessage): PreviewTask | undefined {
  const attachment = message.attachment;
  if (message.type !== 'image' || !attachment) return undefined;
  const format = FORMATS[attachment.format.toLowerCase()];
  if (!format) return undefined;
  return { kind: 'preview', room: message.room, messageId: message.id, attachmentId: attachment.id, format };
}

export class PreviewService {
  constructor(private readonly deps: PreviewDeps) {}

  /** Idempotent: a redelivered task makes the same thumbnail and sets it again. Throws only on transient failures. */
  async run(task: PreviewTask): Promise<PreviewOutcome> {
    const bytes = await this.deps.media.read(mediaKey(task.attachmentId));
    if (!bytes) return 'no_object';
    if (bytes.length > LIMITS.attachmentImageMaxBytes) return 'too_large';
    // The codecs load with the first preview: the other tasks (and the bundles that only enqueue
    // previews) do not evaluate them.
    const { makePreview } = await import('./preview-image.js');
    const result = makePreview(bytes, task.format);
    if (result.status !== 'made') return result.status;
    return (await this.deps.store.setPreview(task.room, task.messageId, task.attachmentId, result.dataUrl)) ? 'stored' : 'no_message';
  }
}
