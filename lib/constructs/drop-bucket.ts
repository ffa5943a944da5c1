// InviteSyncStack --> DropBucket (S3, prefix rosters/) --ObjectCreated--> the reconcile function (functions/handlers/s3-drop.handler.ts)
import { Aws, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DROP_PREFIX } from '../../functions/sync/drops.ts';

/** Noncurrent versions of a roster file expire after this many days (fixed). */
export const NONCURRENT_DROP_DAYS = 30;
/** Server access logs of the drop bucket are kept this long. */
export const ACCESS_LOG_DAYS = 90;
const ACCESS_LOG_PREFIX = 'drops/';

export interface DropBucketProps {
  /** the stage name: part of the bucket's derived name */
  readonly stage: string;
  /** the function S3 notifies for every object created under `rosters/` */
  readonly handler: lambda.IFunction;
  /** days until a current roster file expires (stage setting `dropRetentionDays`) */
  readonly retentionDays: number;
  /** @default RemovalPolicy.DESTROY (a bucket that still holds files is left behind by CloudFormation) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The stage's roster drop bucket: S3-managed encryption, versioned, public access blocked, TLS only,
 * current files expire after `retentionDays` and noncurrent versions after 30 days, server access logs
 * in a second bucket. Only the `RosterWriter` role may put objects (a bucket policy denies PutObject to
 * every other principal, admins included); the handler may read `rosters/*` and nothing else.
 *
 * The notification goes straight to the function (S3 invokes it asynchronously: two retries, and every
 * drop is deduped by its delivery id), declared on the bucket itself rather than by CDK's notifications
 * custom resource: so the bucket has a name derived from the stack (`is-<stage>-drops-<account>-<region>`)
 * that the function's invoke permission can name before the bucket exists.
 */
export class DropBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly writerRole: iam.Role;

  constructor(scope: Construct, id: string, props: DropBucketProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const bucketName = Fn.join('-', ['is', props.stage, 'drops', Aws.ACCOUNT_ID, Aws.REGION]);
    const bucketArn = Stack.of(this).formatArn({ service: 's3', region: '', account: '', resource: bucketName });

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'ExpireLogs', expiration: Duration.days(ACCESS_LOG_DAYS) }],
      removalPolicy,
    });
    Validations.of(this.accessLogs.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket holds the drop bucket server access logs; logging it into itself would loop and another log bucket would only move the same finding.',
    });

    this.writerRole = new iam.Role(this, 'RosterWriter', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: `invite-sync ${props.stage}: puts HR roster files under ${DROP_PREFIX}<source>/ in the drop bucket (nothing else)`,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName,
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'ExpireRosterFiles',
          expiration: Duration.days(props.retentionDays),
          noncurrentVersionExpiration: Duration.days(NONCURRENT_DROP_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy,
    });
    const rosters = this.bucket.arnForObjects(`${DROP_PREFIX}*`);
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'RosterWriterPuts',
        principals: [this.writerRole],
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [rosters],
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyRosterWriterPuts',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': this.writerRole.roleArn } },
      }),
    );
    const handlerRole = props.handler.role;
    if (!handlerRole) throw new Error('DropBucket: the handler has no role to grant reads to');
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'HandlerReadsRosters',
        principals: [handlerRole],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [rosters],
      }),
    );

    // S3 checks the permission when the notification is created: the bucket waits for it
    props.handler.addPermission('DropNotifications', {
      principal: new iam.ServicePrincipal('s3.amazonaws.com'),
      sourceAccount: Aws.ACCOUNT_ID,
      sourceArn: bucketArn,
    });
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    // server access logs by bucket policy (no ACLs): S3's logging service may write under drops/, for this bucket only
    cfnBucket.loggingConfiguration = { destinationBucketName: this.accessLogs.bucketName, logFilePrefix: ACCESS_LOG_PREFIX };
    this.accessLogs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'S3ServerAccessLogs',
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.accessLogs.arnForObjects(`${ACCESS_LOG_PREFIX}*`)],
        conditions: { ArnLike: { 'aws:SourceArn': bucketArn }, StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    cfnBucket.notificationConfiguration = {
      lambdaConfigurations: [
        {
          event: 's3:ObjectCreated:*',
          function: props.handler.functionArn,
          filter: { s3Key: { rules: [{ name: 'prefix', value: DROP_PREFIX }] } },
        },
      ],
    };
    cfnBucket.node.addDependency(props.handler.permissionsNode.findChild('DropNotifications'));
  }
}
