/**
 * Presigned GETs of attachments (computed locally, no call to S3). A presigned request carries the
 * signer's permissions, so the signing role needs `s3:GetObject` on `media/*`.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AttachmentLinks } from '../domain/attachments.js';
import type { MethodPermissions } from '../shared/permissions.js';

export const ATTACHMENT_LINK_PERMISSIONS: MethodPermissions<AttachmentLinks> = {
  sign: [{ resource: 'bucket/Media/media/*', actions: ['s3:GetObject'] }],
};

export class S3AttachmentLinks implements AttachmentLinks {
  constructor(
    /** The client, built on first use (most invocations of a function never reach S3). */
    private readonly client: () => S3Client,
    private readonly bucket: string,
  ) {}

  sign(key: string, expiresSeconds: number): Promise<string> {
    return getSignedUrl(this.client(), new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresSeconds });
  }
}
