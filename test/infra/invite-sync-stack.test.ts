// infra test: InviteSyncStack per stage --> synthesized template (properties that matter, no snapshots)
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { STAGES, STAGE_NAMES, type Stage } from '../../lib/stages.ts';
import { PROJECT_ROOT } from '../../lib/invite-sync-stack.ts';
import { FUNCTION_TIMEOUT } from '../../lib/constructs/sync-function.ts';
import { TABLE_DESIGN } from '../../functions/state/table-design.ts';
import { RUN_METRICS } from '../../functions/runtime/metric-names.ts';
import { functionResource, onlyResource, pick, synthStage, type Synthesized } from './synth.ts';

const synths: Record<Stage, Synthesized> = {};

beforeAll(() => {
  for (const stage of STAGE_NAMES) synths[stage] = synthStage(stage);
});

const EXPECTED = {
  dev: { schedule: 'rate(1 hour)', reserved: 2, retention: 14, deletion: 'Delete', logLevel: 'DEBUG', throttle: [5, 10] },
  staging: { schedule: 'rate(30 minutes)', reserved: 2, retention: 30, deletion: 'Delete', logLevel: 'INFO', throttle: [10, 20] },
  prod: { schedule: 'rate(15 minutes)', reserved: 5, retention: 365, deletion: 'Retain', logLevel: 'INFO', throttle: [20, 50] },
} as const;

describe('Class: InviteSyncStack', () => {
  it.each(STAGE_NAMES)('names the %s stack InviteSync-<stage> with project and stage tags', (stage) => {
    // Arrange
    const { stack } = pick(synths, stage);

    // Act
    const [, fn] = functionResource(pick(synths, stage), 'syncFunction');

    // Assert
    expect(stack.stackName).toBe(`InviteSync-${stage}`);
    expect(fn.Properties?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'project', Value: 'invite-sync' },
        { Key: 'stage', Value: stage },
      ]),
    );
  });

  it.each(STAGE_NAMES)('runs the %s reconcile function on nodejs22.x arm64 with the stage memoryMb (default 1024), timeoutSeconds (default 300) and reserved concurrency', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);

    // Act + Assert
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: pick(STAGES, stage).memoryMb,
      Timeout: pick(STAGES, stage).timeoutSeconds,
      Handler: 'index.handler',
      ReservedConcurrentExecutions: pick(EXPECTED, stage).reserved,
    });
    expect(pick(STAGES, stage).timeoutSeconds).toBe(FUNCTION_TIMEOUT.toSeconds());
  });

  it('gives the reconcile function a timeoutSeconds other than the default, and the queue six times it as visibility timeout; the HTTP function keeps 5 minutes', () => {
    // Arrange
    const config = { ...pick(STAGES, 'dev'), timeoutSeconds: 840 };

    // Act
    const synthesized = synthStage('dev', { config });
    const [, sync] = functionResource(synthesized, 'syncFunction');
    const [, http] = functionResource(synthesized, 'httpFunction');
    const queue = Object.values(synthesized.template.findResources('AWS::SQS::Queue')).find((q) => q.Properties.RedrivePolicy);

    // Assert
    expect(sync.Properties?.Timeout).toBe(840);
    expect(http.Properties?.Timeout).toBe(300);
    expect(queue?.Properties.VisibilityTimeout).toBe(6 * 840);
  });

  it.each(STAGE_NAMES)('gives the %s function every environment variable the handler reads', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);
    const [tableId] = onlyResource(template, 'AWS::DynamoDB::Table');
    const [queueId] = Object.entries(template.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } }))[0]!;

    // Act + Assert
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          STAGE: stage,
          STATE_TABLE: { Ref: tableId },
          LOSANT_API_URL: 'https://api.losant.com',
          LOSANT_TOKEN_SECRET_ARN: { Ref: Match.stringLikeRegexp('^LosantToken') },
          WEBHOOK_SECRET_ARN: { Ref: Match.stringLikeRegexp('^WebhookSecret') },
          RECONCILE_QUEUE_URL: { Ref: queueId },
          SYNC_CONFIG_FILE: 'sync-config.json',
          POWERTOOLS_SERVICE_NAME: 'invite-sync',
          POWERTOOLS_METRICS_NAMESPACE: 'InviteSync',
          POWERTOOLS_LOG_LEVEL: pick(EXPECTED, stage).logLevel,
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it.each(STAGE_NAMES)('ships the %s sync config and a minified ESM bundle with source maps', (stage) => {
    // Arrange
    const { assembly } = pick(synths, stage);
    const [, fn] = functionResource(pick(synths, stage), 'syncFunction');
    const key = (fn.Properties?.Code as { S3Key: string }).S3Key;
    const assetDir = join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);

    // Act
    const shipped = readFileSync(join(assetDir, 'sync-config.json'), 'utf8');
    const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');

    // Assert
    expect(shipped).toBe(readFileSync(join(PROJECT_ROOT, pick(STAGES, stage).syncConfigPath), 'utf8'));
    expect(bundle.startsWith("import { createRequire } from 'node:module';")).toBe(true);
    expect(existsSync(join(assetDir, 'index.mjs.map'))).toBe(true);
    expect(JSON.parse(readFileSync(join(assetDir, 'index.mjs.map'), 'utf8'))).not.toHaveProperty('sourcesContent');
  });

  it.each(STAGE_NAMES)('writes the %s function logs to its own log group with the stage retention', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);
    const [, fn] = functionResource(pick(synths, stage), 'syncFunction');
    const logGroupId = (fn.Properties?.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;

    // Act
    const logGroups = template.findResources('AWS::Logs::LogGroup');

    // Assert
    expect(logGroups[logGroupId]?.Properties).toMatchObject({ RetentionInDays: pick(EXPECTED, stage).retention });
    for (const group of Object.values(logGroups)) expect(group.Properties.RetentionInDays).toBe(pick(EXPECTED, stage).retention);
  });

  it.each(STAGE_NAMES)('builds the %s table on-demand with PITR, encryption, TTL and the store key design', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);

    // Act + Assert
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: TABLE_DESIGN.ttlAttribute, Enabled: true },
      KeySchema: [
        { AttributeName: TABLE_DESIGN.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_DESIGN.sortKey, KeyType: 'RANGE' },
      ],
    });
  });

  it.each(STAGE_NAMES)('retains only the prod table, with deletion protection (%s)', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);
    const prod = stage === 'prod';

    // Act
    const [, table] = onlyResource(template, 'AWS::DynamoDB::Table');

    // Assert
    expect(table.DeletionPolicy).toBe(pick(EXPECTED, stage).deletion);
    expect(table.UpdateReplacePolicy).toBe(pick(EXPECTED, stage).deletion);
    expect(table.Properties?.DeletionProtectionEnabled).toBe(prod);
    expect(pick(synths, stage).stack.terminationProtection).toBe(prod);
  });

  it.each(STAGE_NAMES)('schedules the %s re-check with the stage expression and the native Scheduled Event', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);
    const [fnId] = functionResource(pick(synths, stage), 'syncFunction');

    // Act
    const schedules = template.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: Match.anyValue() } });

    // Assert
    const rules = Object.values(schedules);
    expect(rules).toHaveLength(1);
    expect(rules[0]!.Properties.ScheduleExpression).toBe(pick(EXPECTED, stage).schedule);
    expect(rules[0]!.Properties.Targets).toEqual([{ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, Id: 'Target0' }]);
  });

  it.each(STAGE_NAMES)('forwards person.* and roster.* events from the %s HR bus to the function', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);
    const [busId, bus] = onlyResource(template, 'AWS::Events::EventBus');
    const [fnId] = functionResource(pick(synths, stage), 'syncFunction');

    // Act + Assert
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: busId },
      EventPattern: { 'detail-type': [{ prefix: 'person.' }, { prefix: 'roster.' }] },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } })],
    });
    template.hasOutput('HrEventBusName', { Value: { Ref: busId } });
    expect(bus.Properties?.Name).toEqual(expect.stringContaining(`InviteSync${stage}`));
  });

  it.each(STAGE_NAMES)('routes POST /webhook of the %s HTTP API to the function with payload v2 and stage throttling', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);
    const [integrationId] = onlyResource(template, 'AWS::ApiGatewayV2::Integration');
    const [rate, burst] = pick(EXPECTED, stage).throttle;

    // Act + Assert
    const route = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).find((r) => r.Properties?.RouteKey === 'POST /webhook');
    expect(route?.Properties).toMatchObject({ RouteKey: 'POST /webhook', Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] } });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: rate, ThrottlingBurstLimit: burst },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WebhookAccessLogs'), 'Arn'] }, Format: Match.stringLikeRegexp('\\$context\\.requestId') },
    });
    template.hasOutput('WebhookUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/webhook$')])] } });
  });

  it.each(STAGE_NAMES)('feeds the %s function from the reconcile queue with partial batch responses and a DLQ after 3 receives', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);
    const queues = template.findResources('AWS::SQS::Queue');
    const [queueId, queue] = Object.entries(queues).find(([, q]) => q.Properties.RedrivePolicy)!;
    const [dlqId, dlq] = Object.entries(queues).find(([id]) => id !== queueId)!;

    // Act + Assert
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 3 });
    expect(queue.Properties.VisibilityTimeout).toBe(6 * pick(STAGES, stage).timeoutSeconds);
    for (const q of [queue, dlq]) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    for (const id of [queueId, dlqId]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it.each(STAGE_NAMES)('raises the %s alarms (not breaching on missing data) on this stage only, to the encrypted, TLS-only topic', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);
    const [topicId] = onlyResource(template, 'AWS::SNS::Topic');

    // Act
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);

    // Assert
    expect(alarms.filter((a) => a.Namespace).map((a) => `${a.Namespace}/${a.MetricName}`).sort()).toEqual(
      [
        'AWS/Lambda/Errors', 'AWS/Lambda/Errors', 'AWS/Lambda/Throttles', 'AWS/Lambda/Throttles',
        'AWS/SQS/ApproximateNumberOfMessagesVisible', 'AWS/SQS/ApproximateAgeOfOldestMessage',
        'InviteSync/InvitesFailed', 'InviteSync/RunsBlocked', 'InviteSync/ReconcileQueueFailures', 'InviteSync/EventsRejected',
        'InviteSync/WebhookMisconfigured', 'InviteSync/InvitesNoSeat', 'InviteSync/SourceSilent', 'InviteSync/InvitesAmbiguous', 'InviteSync/DropsFailed',
      ].sort(),
    );
    expect(alarms.filter((a) => a.Metrics)).toHaveLength(1);
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topicId }],
      });
      expect(alarm.AlarmDescription).toContain(`invite-sync ${stage}:`);
    }
    for (const alarm of alarms.filter((a) => a.Namespace === 'InviteSync')) {
      expect(alarm).toMatchObject({
        Statistic: 'Sum', Threshold: 1, Period: 300,
        Dimensions: [{ Name: 'service', Value: 'invite-sync' }, { Name: 'stage', Value: stage }],
      });
    }
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } })]) },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
  });

  it.each(STAGE_NAMES)('draws the %s dashboard from every run metric of the stage, function errors and DLQ depth', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);

    // Act
    const [, dashboard] = onlyResource(template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties?.DashboardBody);

    // Assert
    for (const metric of RUN_METRICS) {
      expect(body).toContain(`\\"InviteSync\\",\\"${metric}\\",\\"service\\",\\"invite-sync\\",\\"stage\\",\\"${stage}\\"`);
    }
    expect(body).toContain('\\"AWS/Lambda\\",\\"Errors\\"');
    expect(body).toContain('\\"AWS/SQS\\",\\"ApproximateNumberOfMessagesVisible\\"');
  });

  it.each(STAGE_NAMES)('exports the outputs operators need for %s', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);

    // Act
    const outputs = Object.keys(template.findOutputs('*'));

    // Assert
    expect(outputs).toEqual(
      expect.arrayContaining([
        'WebhookUrl', 'HrEventBusName', 'TableName', 'LosantTokenSecretArn', 'WebhookSecretArn', 'ReconcileQueueUrl',
        'DeadLetterQueueUrl', 'AlarmTopicArn', 'DashboardUrl', 'OperatorPolicyArn', 'DropBucketName', 'RosterWriterRoleArn',
      ]),
    );
  });

  it.each(STAGE_NAMES)('creates the three %s secrets (Losant token, webhook keys, SCIM tokens) empty, for the operator to fill after the first deploy', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);

    // Act
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret')).map((s) => s.Properties);

    // Assert
    expect(secrets).toHaveLength(3);
    for (const secret of secrets) {
      expect(secret).not.toHaveProperty('GenerateSecretString');
      expect(secret).not.toHaveProperty('SecretString');
    }
  });
});
