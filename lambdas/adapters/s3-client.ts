/**
 * The S3 client of the attachments adapters, built once per cold start on first use. With an
 * endpoint override (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`: the local runtime, LocalStack)
 * requests are path-style (`<endpoint>/<bucket>/<key>`), which needs no wildcard DNS.
 */
import { S3Client } from '@aws-sdk/client-s3';

let s3: S3Client | undefined;

export function s3Client(): S3Client {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL;
  s3 ??= new S3Client({ maxAttempts: 3, forcePathStyle: Boolean(endpoint) });
  return s3;
}

/** Forgets the cached client (tests that change endpoints between runs). */
export function resetS3Client(): void {
  s3 = undefined;
}

/** The object is not there: HeadObject answers a bare 404 (`NotFound`), GetObject `NoSuchKey`. */
export function isMissingObject(error: unknown): boolean {
  const name = (error as Error).name;
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404 || name === 'NotFound' || name === 'NoSuchKey';
}
