/**
 * The S3 client of the attachments adapters, built once per cold start on first use. With an
 * endpoint override (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`: the local runtime, LocalStack)
 * requests are path-style (`<endpoint>/<bucket>/<key>`), which needs no wildcard DNS.
 */
import { type GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';

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

/** A read of one object, undefined when the object is not there (any other error is thrown). */
export async function unlessMissing<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}

/** A GetObject answer's body, read whole (an empty object has none). */
export async function bodyBytes(out: GetObjectCommandOutput): Promise<Buffer> {
  return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
}
