/**
 * The private bucket of attachments: all public access blocked, S3-managed encryption, TLS only,
 * CORS for the allowed browser origins (browsers POST uploads and GET files directly), and a
 * lifecycle by prefix:
 *
 * - `uploads/` (where presigned POSTs land) expires after LIMITS.unreferencedUploadDays: an upload
 *   no message referenced is deleted after a day;
 * - `media/` (where the message path copies an upload once a message references it, and deletes
 *   the upload) expires with the message retention.
 *
 * A prefix move rather than tags: a lifecycle filter cannot say "without tag X", so "unreferenced
 * uploads after a day" needs the referenced ones out of that prefix anyway; and the copy takes the
 * checked file out of the uploader's reach (a presigned POST can be replayed until it expires), so
 * the file readers get is the one whose bytes were checked.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { MEDIA_BUCKET } from '../../lambdas/shared/resources.js';

export interface MediaBucketProps {
  corsOrigins: string[];
  /** Days messages are kept: referenced files are kept as long (plus one day of slack). */
  retentionDays: number;
  removalPolicy?: RemovalPolicy;
}

export class MediaBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: MediaBucketProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      autoDeleteObjects: false,
      cors:
        props.corsOrigins.length > 0
          ? [
              {
                allowedOrigins: props.corsOrigins,
                allowedMethods: [s3.HttpMethods.POST, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                allowedHeaders: ['*'],
                exposedHeaders: ['ETag'],
                maxAge: 3600,
              },
            ]
          : undefined,
      lifecycleRules: [
        { id: 'unreferenced-uploads', prefix: MEDIA_BUCKET.uploadsPrefix, expiration: Duration.days(LIMITS.unreferencedUploadDays), abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'referenced-media', prefix: MEDIA_BUCKET.mediaPrefix, expiration: Duration.days(props.retentionDays + 1) },
      ],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Server access logs would need a second bucket and log every upload and download; access to this private bucket is only through presigned URLs the functions sign for authenticated users, and the functions log every upload grant and message.',
    });
  }

  /** `arn:...:<bucket>/<prefix>*` */
  objectsArn(prefix: 'uploads' | 'media'): string {
    return this.bucket.arnForObjects(`${prefix}/*`);
  }

  /** Grants actions on one prefix's objects; the object wildcard is the only way to name them. */
  grant(fn: lambda.IFunction, prefix: 'uploads' | 'media', actions: string[]): void {
    iam.Grant.addToPrincipal({ grantee: fn, actions, resourceArns: [this.objectsArn(prefix)] });
    if (fn.role) {
      const logicalId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}/*]`,
        reason: `Attachments are objects named by their id under ${prefix}/, known only at run time; the grant is limited to that prefix and to the actions the function's code declares.`,
      });
    }
  }
}
