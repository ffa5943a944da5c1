// infra test: the roster drop bucket per stage --> its properties, the notification to the reconcile function, the RosterWriter role
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGES, STAGE_NAMES, StageConfigSchema, type Stage } from '../../lib/stages.ts';
import { functionResource, pick, synthStage, type Resource, type Synthesized } from './synth.ts';

const synths: Record<Stage, Synthesized> = {};

beforeAll(() => {
  for (const stage of STAGE_NAMES) synths[stage] = synthStage(stage);
});

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** The drop bucket: the one with versioning (the access log bucket has none). */
function dropBucket(s: Synthesized): [string, Resource] {
  const found = Object.entries(s.template.findResources('AWS::S3::Bucket')).filter(([, b]) => b.Properties?.VersioningConfiguration) as [string, Resource][];
  expect(found).toHaveLength(1);
  return found[0]!;
}

function bucketPolicy(s: Synthesized, bucketId: string): Statement[] {
  const policy = Object.values(s.template.findResources('AWS::S3::BucketPolicy')).find((p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: bucketId }));
  return (policy?.Properties.PolicyDocument.Statement ?? []) as Statement[];
}

const roleId = (s: Synthesized): string => {
  const ids = Object.keys(s.template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith('DropsRosterWriter'));
  expect(ids).toHaveLength(1);
  return ids[0]!;
};

describe('Class: DropBucket', () => {
  it.each(STAGE_NAMES)('makes the %s drop bucket encrypted, versioned, private, TLS-only and expiring (current after dropRetentionDays, noncurrent after 30 days)', (stage) => {
    // Arrange
    const s = pick(synths, stage);
    const retention = pick(STAGES, stage).dropRetentionDays;

    // Act
    const [id, bucket] = dropBucket(s);
    const p = bucket.Properties!;
    const statements = bucketPolicy(s, id);

    // Assert
    expect(p.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(p.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(p.LifecycleConfiguration).toEqual({
      Rules: [expect.objectContaining({ ExpirationInDays: retention, NoncurrentVersionExpiration: { NoncurrentDays: 30 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' })],
    });
    expect(p.LoggingConfiguration).toMatchObject({ DestinationBucketName: { Ref: expect.stringMatching(/^DropsAccessLogs/) }, LogFilePrefix: 'drops/' });
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });

  it.each(STAGE_NAMES)('lets only the %s RosterWriter role put objects, under rosters/ only, and outputs the role and the bucket', (stage) => {
    // Arrange
    const s = pick(synths, stage);
    const [id] = dropBucket(s);
    const writer = roleId(s);
    const [syncId, fn] = functionResource(s, 'syncFunction');
    const syncRole = (fn.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

    // Act
    const statements = bucketPolicy(s, id);
    const puts = statements.filter((st) => [st.Action].flat().includes('s3:PutObject'));
    const outputs = s.template.findOutputs('*');

    // Assert
    expect(puts).toEqual([
      expect.objectContaining({ Effect: 'Allow', Principal: { AWS: { 'Fn::GetAtt': [writer, 'Arn'] } }, Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, '/rosters/*']] } }),
      expect.objectContaining({ Effect: 'Deny', Principal: { AWS: '*' }, Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [writer, 'Arn'] } } } }),
    ]);
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Allow', Principal: { AWS: { 'Fn::GetAtt': [syncRole, 'Arn'] } }, Action: ['s3:GetObject', 's3:GetObjectVersion'] }),
    );
    expect(outputs.RosterWriterRoleArn?.Value).toEqual({ 'Fn::GetAtt': [writer, 'Arn'] });
    expect(outputs.DropBucketName?.Value).toEqual({ Ref: id });
    expect(syncId).toBeTruthy();
  });

  it.each(STAGE_NAMES)('notifies the %s reconcile function of every object created under rosters/, with a permission scoped to the bucket and account', (stage) => {
    // Arrange
    const s = pick(synths, stage);
    const [id, bucket] = dropBucket(s);
    const [syncId] = functionResource(s, 'syncFunction');

    // Act
    const notification = bucket.Properties!.NotificationConfiguration;
    const permissions = Object.entries(s.template.findResources('AWS::Lambda::Permission')).filter(([, p]) => p.Properties.Principal === 's3.amazonaws.com');
    const bucketResource = s.template.toJSON().Resources[id] as { DependsOn?: string[] };

    // Assert
    expect(notification).toEqual({
      LambdaConfigurations: [{ Event: 's3:ObjectCreated:*', Function: { 'Fn::GetAtt': [syncId, 'Arn'] }, Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'rosters/' }] } } }],
    });
    expect(permissions).toHaveLength(1);
    const [permissionId, permission] = permissions[0]!;
    expect(permission.Properties).toMatchObject({ Action: 'lambda:InvokeFunction', FunctionName: { 'Fn::GetAtt': [syncId, 'Arn'] }, SourceAccount: { Ref: 'AWS::AccountId' } });
    // the permission names the bucket by its derived name, so the bucket can wait for it (no custom resource)
    expect(JSON.stringify(permission.Properties.SourceArn)).toContain(`"is-${stage}-drops"`);
    expect(JSON.stringify(bucket.Properties!.BucketName)).toContain(`"is-${stage}-drops"`);
    expect(bucketResource.DependsOn).toContain(permissionId);
    expect(Object.keys(s.template.findResources('Custom::S3BucketNotifications'))).toEqual([]);
  });
});

describe('Setting: dropRetentionDays', () => {
  it('expires current roster files after the days the stage sets', () => {
    // Arrange
    const s = synthStage('dev', { config: { ...pick(STAGES, 'dev'), dropRetentionDays: 7 } });

    // Act
    const [, bucket] = dropBucket(s);

    // Assert
    expect(bucket.Properties!.LifecycleConfiguration).toEqual({ Rules: [expect.objectContaining({ ExpirationInDays: 7, NoncurrentVersionExpiration: { NoncurrentDays: 30 } })] });
  });

  it('defaults to 30 days and refuses 0, naming the field', () => {
    // Arrange
    const base = { region: 'us-east-1', scheduleExpression: 'rate(1 hour)', syncConfigPath: 'x.json', logRetentionDays: 14, removalPolicy: 'destroy', webhookThrottle: { rateLimit: 1, burstLimit: 1 } };

    // Act
    const parsed = StageConfigSchema.parse(base);
    const bad = StageConfigSchema.safeParse({ ...base, dropRetentionDays: 0 });

    // Assert
    expect(parsed.dropRetentionDays).toBe(30);
    for (const stage of STAGE_NAMES) expect(pick(STAGES, stage).dropRetentionDays).toBe(30);
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['dropRetentionDays']);
  });
});
