/**
 * The attachment objects the message path reads and moves: HeadObject and a ranged GetObject of an
 * upload (both `s3:GetObject`), a server-side copy to `media/` (`s3:GetObject` on the source,
 * `s3:PutObject` on the target) and the upload's deletion. Reads and the copy are conditional on
 * the ETag that was checked, so a file replaced in between is never the one delivered.
 */
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AttachmentObjects, ObjectInfo } from '../domain/attachments.js';
import { ChatError } from '../domain/errors.js';
import type { MethodPermissions } from '../shared/permissions.js';
import { bodyBytes, unlessMissing } from './s3-client.js';

export const ATTACHMENT_OBJECT_PERMISSIONS: MethodPermissions<AttachmentObjects> = {
  head: [{ resource: 'bucket/Media/uploads/*', actions: ['s3:GetObject'] }],
  readStart: [{ resource: 'bucket/Media/uploads/*', actions: ['s3:GetObject'] }],
  copy: [
    { resource: 'bucket/Media/uploads/*', actions: ['s3:GetObject'] },
    { resource: 'bucket/Media/media/*', actions: ['s3:PutObject'] },
  ],
  remove: [{ resource: 'bucket/Media/uploads/*', actions: ['s3:DeleteObject'] }],
};

const status = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/** The object changed between the check and the read or copy (412): its new content was never checked. */
const changed = () => new ChatError('conflict', 'The attachment changed while it was being checked; send again');

export class S3AttachmentObjects implements AttachmentObjects {
  constructor(
    /** The client, built on first use (most invocations of a function never reach S3). */
    private readonly client: () => S3Client,
    private readonly bucket: string,
  ) {}

  head(key: string): Promise<ObjectInfo | undefined> {
    return unlessMissing(async () => {
      const out = await this.client().send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: out.ContentLength ?? 0, etag: out.ETag ?? '' };
    });
  }

  async readStart(key: string, bytes: number, etag: string): Promise<Buffer> {
    try {
      const out = await this.client().send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${bytes - 1}`, IfMatch: etag }));
      return await bodyBytes(out);
    } catch (error) {
      if (status(error) === 412) throw changed();
      throw error;
    }
  }

  async copy(from: string, to: string, etag: string, contentType: string): Promise<void> {
    try {
      await this.client().send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: to,
          CopySource: `${this.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`,
          CopySourceIfMatch: etag,
          ContentType: contentType,
          MetadataDirective: 'REPLACE',
        }),
      );
    } catch (error) {
      if (status(error) === 412) throw changed();
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    await this.client().send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
