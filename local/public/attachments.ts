/**
 * Attachments on the chat page: photos and voice notes larger than a WebSocket frame are uploaded to
 * the service's S3 endpoint (POST /api/uploads, then the form with XMLHttpRequest, whose upload
 * progress fetch does not report) and sent as `attachment_id`; delivered messages show the file
 * from its signed URL. Files can be picked or dropped on the conversation.
 */
import {
  type AttachmentType,
  attachmentMaxBytes,
  ChatClientError,
  type ChatMessage,
  requestUpload,
  type TokenSource,
  uploadForm,
} from '../../client/src/index.js';
import { h } from './dom.js';

/** Posts the upload form, reporting progress (0..1); resolves when S3 has the file. */
function postWithProgress(url: string, form: FormData, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
        return;
      }
      const code = /<Code>([^<]+)<\/Code>/.exec(xhr.responseText)?.[1] ?? `HTTP ${xhr.status}`;
      reject(new ChatClientError(code === 'EntityTooLarge' ? 'payload_too_large' : 'forbidden', `The upload was refused (${code})`, { status: xhr.status }));
    });
    xhr.addEventListener('error', () => reject(new ChatClientError('network', 'The upload could not reach the storage endpoint')));
    xhr.send(form);
  });
}

/** Uploads a file and resolves with its attachment id. */
export async function uploadWithProgress(
  httpUrl: string,
  getToken: TokenSource,
  file: Blob,
  spec: { type: AttachmentType; format: string },
  onProgress: (fraction: number) => void,
): Promise<string> {
  const max = attachmentMaxBytes(spec.type);
  if (file.size > max) throw new ChatClientError('payload_too_large', `${spec.type === 'image' ? 'Photos' : 'Audio files'} can be up to ${Math.round(max / 1024 / 1024)} MB`);
  const grant = await requestUpload({ httpUrl, getToken }, spec, file.size);
  await postWithProgress(grant.upload.url, uploadForm(grant, file), onProgress);
  return grant.attachment_id;
}

/** The element showing a delivered attachment (an image, or an audio player), from its signed URL. */
export function attachmentBody(message: ChatMessage): Node | undefined {
  const url = message.attachment?.url;
  if (!url) return undefined;
  if (message.type === 'image') {
    return h('img', { attrs: { src: url, alt: `Image from ${message.sender}`, loading: 'lazy', 'data-attachment': message.attachment!.id } });
  }
  return h('audio', { attrs: { controls: '', preload: 'metadata', src: url, 'aria-label': `Audio from ${message.sender}`, 'data-attachment': message.attachment!.id } });
}

/** Drops of files on `target` call `onFile` with the first file; the zone is marked while dragging over. */
export function installDropZone(target: HTMLElement, enabled: () => boolean, onFile: (file: File) => void): void {
  const hasFiles = (event: DragEvent) => Array.from(event.dataTransfer?.types ?? []).includes('Files');
  target.addEventListener('dragover', (event) => {
    if (!hasFiles(event) || !enabled()) return;
    event.preventDefault();
    target.dataset.drop = 'over';
  });
  target.addEventListener('dragleave', () => delete target.dataset.drop);
  target.addEventListener('drop', (event) => {
    delete target.dataset.drop;
    const file = event.dataTransfer?.files?.[0];
    if (!file || !enabled()) return;
    event.preventDefault();
    onFile(file);
  });
}

/** The composer's upload progress bar: shown while a file goes up, left at its last value. */
export class UploadProgress {
  constructor(private readonly bar: HTMLProgressElement) {}

  start(label: string): void {
    this.bar.hidden = false;
    this.bar.value = 0;
    this.bar.title = label;
    this.bar.dataset.state = 'uploading';
  }

  set(fraction: number): void {
    this.bar.value = Math.round(fraction * 100);
  }

  end(ok: boolean): void {
    this.bar.dataset.state = ok ? 'done' : 'failed';
    this.bar.hidden = true;
  }
}
