/**
 * Presigned POST uploads (browser form uploads): the policy fixes the key, the Content-Type and the
 * `content-length-range`, which a presigned PUT cannot bound. Signing is local; the signer's role
 * needs `s3:PutObject` on the key, since S3 checks the signer's permissions when the form arrives.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { PresignedUpload, UploadSigner } from '../domain/attachments.js';
import type { MethodPermissions } from '../shared/permissions.js';

export const UPLOAD_SIGNER_PERMISSIONS: MethodPermissions<UploadSigner> = {
  presignPost: [{ resource: 'bucket/Media/uploads/*', actions: ['s3:PutObject'] }],
};

export class S3UploadSigner implements UploadSigner {
  constructor(
    /** The client, built on first use (most invocations of a function never reach S3). */
    private readonly client: () => S3Client,
    private readonly bucket: string,
  ) {}

  async presignPost(key: string, contentType: string, maxBytes: number, expiresSeconds: number): Promise<PresignedUpload> {
    const { url, fields } = await createPresignedPost(this.client(), {
      Bucket: this.bucket,
      Key: key,
      Fields: { 'Content-Type': contentType },
      Conditions: [
        ['eq', '$Content-Type', contentType],
        ['content-length-range', 1, maxBytes],
      ],
      Expires: expiresSeconds,
    });
    return { url, fields };
  }
}
