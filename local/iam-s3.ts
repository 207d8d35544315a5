/**
 * S3 requests as IAM sees them (service authorization reference for Amazon S3:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html): object
 * reads (GetObject, HeadObject) need `s3:GetObject`, writes `s3:PutObject`, a CopyObject both
 * (`s3:GetObject` on the source), DeleteObject `s3:DeleteObject`, all on the object ARN
 * `arn:aws:s3:::<bucket>/<key>`. Path-style requests only (the local endpoint is an IP address).
 * Anything else maps to nothing and is denied.
 */
import { randomUUID } from 'node:crypto';
import type { MappedRequest, WireRequest } from './iam-requests.js';

export const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

/** `/<bucket>/<key>` of a path-style request (key decoded), or undefined. */
export function bucketAndKey(path: string): { bucket: string; key: string } | undefined {
  const pathname = path.split('?')[0]!;
  const match = /^\/([^/]+)\/(.+)$/.exec(pathname);
  if (!match) return undefined;
  try {
    return { bucket: decodeURIComponent(match[1]!), key: match[2]!.split('/').map(decodeURIComponent).join('/') };
  } catch {
    return undefined;
  }
}

function header(req: WireRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function mapS3Request(req: WireRequest): MappedRequest | undefined {
  const target = bucketAndKey(req.path);
  if (!target) return undefined;
  const query = new URLSearchParams(req.path.split('?')[1] ?? '');
  if ([...query.keys()].some((k) => !k.toLowerCase().startsWith('x-amz-') && k !== 'x-id')) return undefined;
  const arn = objectArn(target.bucket, target.key);
  switch (req.method) {
    case 'GET':
      return { operation: 'GetObject', required: [{ action: 's3:GetObject', resource: arn }] };
    case 'HEAD':
      return { operation: 'HeadObject', required: [{ action: 's3:GetObject', resource: arn }] };
    case 'DELETE':
      return { operation: 'DeleteObject', required: [{ action: 's3:DeleteObject', resource: arn }] };
    case 'PUT': {
      const source = header(req, 'x-amz-copy-source');
      if (!source) return { operation: 'PutObject', required: [{ action: 's3:PutObject', resource: arn }] };
      const from = bucketAndKey(`/${decodeURIComponent(source).replace(/^\//, '').split('?')[0]}`);
      if (!from) return undefined;
      return {
        operation: 'CopyObject',
        required: [
          { action: 's3:GetObject', resource: objectArn(from.bucket, from.key) },
          { action: 's3:PutObject', resource: arn },
        ],
      };
    }
    default:
      return undefined;
  }
}

/** S3's XML error answer. */
export function s3Error(status: number, code: string, message: string, extra: Record<string, string | number> = {}) {
  const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  const fields = Object.entries(extra)
    .map(([k, v]) => `<${k}>${String(v).replace(/[<&]/g, (c) => (c === '<' ? '&lt;' : '&amp;'))}</${k}>`)
    .join('');
  const escaped = message.replace(/[<&]/g, (c) => (c === '<' ? '&lt;' : '&amp;'));
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escaped}</Message>${fields}<RequestId>${requestId}</RequestId></Error>`,
  };
}
