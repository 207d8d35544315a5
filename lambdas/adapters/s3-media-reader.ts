/** Whole-object reads of checked attachments (`media/`), for the preview task: one GetObject each. */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { MediaReader } from '../domain/previews.js';
import type { MethodPermissions } from '../shared/permissions.js';
import { bodyBytes, unlessMissing } from './s3-client.js';

export const MEDIA_READER_PERMISSIONS: MethodPermissions<MediaReader> = {
  read: [{ resource: 'bucket/Media/media/*', actions: ['s3:GetObject'] }],
};

export class S3MediaReader implements MediaReader {
  constructor(
    /** The client, built on first use (most invocations of a function never reach S3). */
    private readonly client: () => S3Client,
    private readonly bucket: string,
  ) {}

  read(key: string): Promise<Buffer | undefined> {
    return unlessMissing(async () => bodyBytes(await this.client().send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))));
  }
}
