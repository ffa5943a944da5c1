// infra test: operating a stage --> isolated HTTP function, capped reconciles, alarms per stage, notify, dashboard, outputs, operator policy
import { beforeAll, describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { STAGES, STAGE_NAMES, type Stage, type StageConfig } from '../../lib/stages.ts';
import { buildApp } from '../../lib/build-app.ts';
import { reconcileConcurrency, type InviteSyncStack } from '../../lib/invite-sync-stack.ts';
import { readStageSyncConfig } from '../../lib/sync-config-file.ts';
import { PROJECT_ROOT } from '../../lib/invite-sync-stack.ts';
import { join } from 'node:path';
import { onlyResource, pick, type Resource } from './synth.ts';

interface Built {
  stack: InviteSyncStack;
  template: Template;
}

/** A stage's stack without bundling (these tests read the template only); cdk-nag still runs. */
function build(stage: Stage, config?: StageConfig): Built {
  const app = new App({ context: { stage, 'aws:cdk:bundling-stacks': [] } });
  const stack = buildApp(app, config ? { config } : {});
  return { stack, template: Template.fromStack(stack) };
}

const built: Record<Stage, Built> = {};
beforeAll(() => {
  for (const stage of STAGE_NAMES) built[stage] = build(stage);
});

const fnId = (b: Built, which: 'syncFunction' | 'httpFunction') => b.stack.getLogicalId(b.stack[which].cfnFunction);
const fnOf = (b: Built, which: 'syncFunction' | 'httpFunction') => b.template.findResources('AWS::Lambda::Function')[fnId(b, which)] as Resource;
const EXPECTED_RECONCILE_CONCURRENCY: Record<Stage, number> = { dev: 2, staging: 2, prod: 5 };

describe('Class: InviteSyncStack (webhook isolation)', () => {
  it.each(STAGE_NAMES)('routes the %s webhook to its own HTTP function and every other trigger to the reconcile function', (stage) => {
    // Arrange
    const b = pick(built, stage);
    const http = fnId(b, 'httpFunction');
    const sync = fnId(b, 'syncFunction');
    const [queueId] = Object.entries(b.template.findResources('AWS::SQS::Queue')).find(([, q]) => q.Properties.RedrivePolicy)!;

    // Act
    const functions = Object.keys(b.template.findResources('AWS::Lambda::Function'));
    const rules = Object.values(b.template.findResources('AWS::Events::Rule')).map((r) => r.Properties.Targets);

    // Assert
    expect(functions.sort()).toEqual([http, sync].sort());
    b.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationUri: { 'Fn::GetAtt': [http, 'Arn'] } });
    b.template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: { 'Fn::GetAtt': [http, 'Arn'] }, Principal: 'apigateway.amazonaws.com' });
    expect(rules).toHaveLength(2);
    for (const targets of rules) expect(targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [sync, 'Arn'] } })]);
    const mappings = Object.values(b.template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]!.Properties).toMatchObject({
      FunctionName: { Ref: sync },
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      ScalingConfig: { MaximumConcurrency: pick(EXPECTED_RECONCILE_CONCURRENCY, stage) },
    });
  });

  it.each(STAGE_NAMES)('runs both %s functions on nodejs22.x arm64; only the reconcile function reserves concurrency by default', (stage) => {
    // Arrange
    const b = pick(built, stage);

    // Act
    const http = fnOf(b, 'httpFunction').Properties!;
    const sync = fnOf(b, 'syncFunction').Properties!;

    // Assert
    for (const fn of [http, sync]) expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
    expect(http.ReservedConcurrentExecutions).toBeUndefined();
    expect(sync.ReservedConcurrentExecutions).toBe(pick(STAGES, stage).reservedConcurrency);
    expect(http.Environment).toMatchObject({ Variables: { STAGE: stage, WEBHOOK_SECRET_ARN: { Ref: expect.stringMatching(/^WebhookSecret/) } } });
    expect((http.Environment as { Variables: Record<string, unknown> }).Variables.RUN_EVENT_BUS).toBeUndefined();
    expect(sync.Environment).toMatchObject({ Variables: { RUN_EVENT_BUS: 'default' } });
  });

  it('returns the HTTP reserved concurrency of the stage setting, and a reconcile cap of 2 when nothing is reserved', () => {
    // Arrange
    const config: StageConfig = { ...pick(STAGES, 'dev'), httpReservedConcurrency: 3, reservedConcurrency: undefined };

    // Act
    const b = build('dev', config);

    // Assert
    b.template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('HTTP'), ReservedConcurrentExecutions: 3 });
    expect(fnOf(b, 'syncFunction').Properties!.ReservedConcurrentExecutions).toBeUndefined();
    b.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 2 } });
    expect([reconcileConcurrency({ reservedConcurrency: 1 }), reconcileConcurrency({ reservedConcurrency: 7 })]).toEqual([undefined, 7]);
  });
});

describe('Class: Monitoring', () => {
  it.each(STAGE_NAMES)('alarms on %s webhook rejections only when 20+ are refused in 15 minutes and none is accepted, from the webhook\'s own counts', (stage) => {
    // Arrange
    const b = pick(built, stage);
    const own = (id: string, name: string) =>
      Match.objectLike({
        Id: id,
        MetricStat: Match.objectLike({
          Period: 900,
          Stat: 'Sum',
          Metric: Match.objectLike({ Namespace: 'InviteSync', MetricName: name, Dimensions: Match.arrayWith([{ Name: 'stage', Value: stage }]) }),
        }),
      });

    // Act + Assert
    b.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(rejected >= 20 AND FILL(accepted, 0) <= 0, 1, 0)' }),
        own('rejected', 'WebhookRejected'),
        own('accepted', 'WebhookAccepted'),
      ]),
    });
    // not the HTTP API's 4xx, which SCIM's answers share
    expect(JSON.stringify(b.template.findResources('AWS::CloudWatch::Alarm'))).not.toContain('"MetricName":"4xx"');
  });

  it.each(STAGE_NAMES)('alarms when the %s reconcile queue holds a message over an hour, and on each function throttling', (stage) => {
    // Arrange
    const b = pick(built, stage);

    // Act + Assert
    b.template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 3600, Statistic: 'Maximum' });
    for (const which of ['syncFunction', 'httpFunction'] as const) {
      b.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Throttles',
        Threshold: 1,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(b, which) } }],
      });
    }
  });

  it('adds notify.topicArn as a second action of every alarm and subscribes every notify email', () => {
    // Arrange
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:ops-chat';
    const config: StageConfig = { ...pick(STAGES, 'staging'), notify: { emails: ['ops@example.com'], topicArn }, alarmEmail: 'oncall@example.com' };

    // Act
    const b = build('staging', config);
    const [topicId] = onlyResource(b.template, 'AWS::SNS::Topic');
    const alarms = Object.values(b.template.findResources('AWS::CloudWatch::Alarm'));

    // Assert
    expect(alarms.length).toBeGreaterThan(10);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }, topicArn]);
    b.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId } });
    b.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
  });

  it.each(STAGE_NAMES)('subscribes nobody in %s as shipped (notify.emails is empty) and exports the topic ARN', (stage) => {
    // Arrange
    const b = pick(built, stage);
    const [topicId] = onlyResource(b.template, 'AWS::SNS::Topic');

    // Act + Assert
    b.template.resourceCountIs('AWS::SNS::Subscription', 0);
    b.template.hasOutput('AlarmTopicArn', { Value: { Ref: topicId } });
  });

  it.each(STAGE_NAMES)('draws one %s dashboard row per target and a Logs Insights table of the last blocked and failed runs', (stage) => {
    // Arrange
    const b = pick(built, stage);
    const targets = readStageSyncConfig(join(PROJECT_ROOT, pick(STAGES, stage).syncConfigPath)).targets.map((t) => t.name);
    const logGroupId = b.stack.getLogicalId(b.stack.syncFunction.logGroup.node.defaultChild as never);

    // Act
    const [, dashboard] = onlyResource(b.template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties?.DashboardBody);

    // Assert
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      expect(body).toContain(`${target}: invites`);
      expect(body).toContain(`\\"InviteSync\\",\\"InvitesSent\\",\\"service\\",\\"invite-sync\\",\\"stage\\",\\"${stage}\\",\\"target\\",\\"${target}\\"`);
      expect(body).toContain(`\\"InviteSync\\",\\"SeatsFree\\",\\"service\\",\\"invite-sync\\",\\"stage\\",\\"${stage}\\",\\"target\\",\\"${target}\\"`);
      // removals (policy.removeLeftMembers): a dashboard line per target, no alarm (they pass the brakes; a spike is RunsBlocked)
      expect(body).toContain(`\\"InviteSync\\",\\"MembersRemoved\\",\\"service\\",\\"invite-sync\\",\\"stage\\",\\"${stage}\\",\\"target\\",\\"${target}\\"`);
    }
    expect(Object.values(b.template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.MetricName)).not.toContain('MembersRemoved');
    // the inputs row: every input's own counts, at stage level
    for (const input of ['WebhookAccepted', 'WebhookRejected', 'EventsRejected', 'DropsRejected', 'DropsFailed', 'SourceSilent']) {
      expect(body).toContain(`\\"InviteSync\\",\\"${input}\\",\\"service\\",\\"invite-sync\\",\\"stage\\",\\"${stage}\\"`);
    }
    expect(body).toContain('Last blocked, failed or incomplete runs');
    expect(body).toContain("filter message = 'reconcile finished' and (RunsBlocked > 0 or InvitesFailed > 0");
    expect(body).toContain(logGroupId);
  });
});

describe('Class: OperatorPolicy', () => {
  it.each(STAGE_NAMES)('lets the %s operator read runs, put approvals only, enqueue targets and describe this stack', (stage) => {
    // Arrange
    const b = pick(built, stage);
    const [tableId] = onlyResource(b.template, 'AWS::DynamoDB::Table');
    const [queueId] = Object.entries(b.template.findResources('AWS::SQS::Queue')).find(([, q]) => q.Properties.RedrivePolicy)!;

    // Act
    const [policyId, policy] = onlyResource(b.template, 'AWS::IAM::ManagedPolicy');

    // Assert
    expect(policy.Properties!.Roles).toBeUndefined();
    expect((policy.Properties!.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      {
        Sid: 'ReadRunsAndBlocked', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RUN#*', 'RUNS#*', 'BLOCKED#*'] } },
      },
      {
        Sid: 'PutApprovals', Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['APPROVAL#*'] } },
      },
      { Sid: 'EnqueueTargets', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } },
      { Sid: 'ResolveOutputs', Effect: 'Allow', Action: 'cloudformation:DescribeStacks', Resource: { Ref: 'AWS::StackId' } },
    ]);
    b.template.hasOutput('OperatorPolicyArn', { Value: { Ref: policyId } });
  });
});

describe('Class: InviteSyncStack (outputs)', () => {
  it.each(STAGE_NAMES)('exports the %s webhook URL, table, queue, DLQ, alarm topic, dashboard URL and operator policy', (stage) => {
    // Arrange
    const b = pick(built, stage);
    const [tableId] = onlyResource(b.template, 'AWS::DynamoDB::Table');
    const queues = Object.entries(b.template.findResources('AWS::SQS::Queue'));
    const [queueId] = queues.find(([, q]) => q.Properties.RedrivePolicy)!;
    const [dlqId] = queues.find(([id]) => id !== queueId)!;
    const [dashboardId] = onlyResource(b.template, 'AWS::CloudWatch::Dashboard');

    // Act + Assert
    b.template.hasOutput('TableName', { Value: { Ref: tableId } });
    b.template.hasOutput('ReconcileQueueUrl', { Value: { Ref: queueId } });
    b.template.hasOutput('DeadLetterQueueUrl', { Value: { Ref: dlqId } });
    b.template.hasOutput('WebhookUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/webhook$')])] } });
    b.template.hasOutput('DashboardUrl', {
      Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('^https://console\\.aws\\.amazon\\.com/cloudwatch/home\\?region='), { Ref: dashboardId }])] },
    });
  });
});
