// infra test: least privilege, physical names, cdk-nag and its acknowledgements, per stage
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CfnResource, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STAGE_NAMES, type Stage } from '../../lib/stages.ts';
import { buildApp } from '../../lib/build-app.ts';
import { PROJECT_ROOT } from '../../lib/invite-sync-stack.ts';
import { STATE_TABLE_ACTIONS } from '../../lib/constructs/sync-function.ts';
import { functionResource, onlyResource, pick, synthStage, type Synthesized } from './synth.ts';

const synths: Record<Stage, Synthesized> = {};

beforeAll(() => {
  for (const stage of STAGE_NAMES) synths[stage] = synthStage(stage);
});

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Every statement of every IAM policy attached to the function's role, plus the role itself. */
function functionRolePolicy(s: Synthesized, which: 'syncFunction' | 'httpFunction'): { roleId: string; role: Record<string, unknown>; statements: Statement[] } {
  const [, fn] = functionResource(s, which);
  const roleId = (fn.Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const role = s.template.findResources('AWS::IAM::Role')[roleId]!.Properties as Record<string, unknown>;
  const policies = Object.values(s.template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
  );
  const managed = Object.values(s.template.findResources('AWS::IAM::ManagedPolicy')).filter((p) =>
    ((p.Properties.Roles ?? []) as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
  );
  const inline = ((role.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
  const statements = [...policies, ...managed].flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]).concat(inline);
  return { roleId, role, statements };
}

const SEND = ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'];
const RECEIVE = ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'];

/** The default event bus of the stack's region (pinned by the stage) and account, as CloudFormation writes its ARN. */
const defaultBus = (region: string) =>
  JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:events:${region}:`, { Ref: 'AWS::AccountId' }, ':event-bus/default']] });

describe('Function: least privilege of the function roles', () => {
  it.each(STAGE_NAMES.flatMap((stage) => [[stage, 'syncFunction'], [stage, 'httpFunction']] as const))(
    'grants the %s %s role nothing beyond its log group, the table, its own secret, the queue (and the run events)',
    (stage, which) => {
      // Arrange
      const s = pick(synths, stage);
      const [tableId] = onlyResource(s.template, 'AWS::DynamoDB::Table');
      const secretIds = Object.keys(s.template.findResources('AWS::SecretsManager::Secret'));
      const ownSecret = secretIds.find((id) => id.startsWith(which === 'syncFunction' ? 'LosantToken' : 'WebhookSecret'))!;
      const scimSecret = secretIds.find((id) => id.startsWith('ScimTokens'))!;
      const [queueId] = Object.entries(s.template.findResources('AWS::SQS::Queue')).find(([, q]) => q.Properties.RedrivePolicy)!;
      const [, fn] = functionResource(s, which);
      const logGroupId = (fn.Properties?.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      const reconciles = which === 'syncFunction';
      const DEFAULT_BUS = defaultBus(s.stack.region);
      // resource (as CloudFormation writes it) --> the only actions allowed on it. No `*` resource is justified.
      const allowed = new Map<string, string[]>([
        [JSON.stringify({ 'Fn::GetAtt': [logGroupId, 'Arn'] }), ['logs:CreateLogStream', 'logs:PutLogEvents']],
        [JSON.stringify({ 'Fn::GetAtt': [tableId, 'Arn'] }), [...STATE_TABLE_ACTIONS]],
        [JSON.stringify({ Ref: ownSecret }), ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']],
        // the HTTP function also serves SCIM: it reads the SCIM tokens
        ...(reconciles ? [] : [[JSON.stringify({ Ref: scimSecret }), ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']] as [string, string[]]]),
        [JSON.stringify({ 'Fn::GetAtt': [queueId, 'Arn'] }), reconciles ? [...new Set([...SEND, ...RECEIVE])] : SEND],
        ...(reconciles ? [[DEFAULT_BUS, ['events:PutEvents']] as [string, string[]]] : []),
      ]);

      // Act
      const { role, statements } = functionRolePolicy(s, which);

      // Assert
      expect(secretIds).toHaveLength(3);
      expect(role.ManagedPolicyArns ?? []).toEqual([]);
      expect(statements.length).toBeGreaterThan(0);
      const granted = new Map<string, Set<string>>();
      for (const statement of statements) {
        expect(statement.Effect).toBe('Allow');
        for (const resource of asList(statement.Resource)) {
          const key = JSON.stringify(resource);
          expect(resource, `statement ${JSON.stringify(statement)}`).not.toBe('*');
          expect([...allowed.keys()], `unexpected resource ${key}`).toContain(key);
          if (key === DEFAULT_BUS) expect(statement.Condition).toEqual({ StringEquals: { 'events:source': 'invite-sync' } });
          for (const action of asList(statement.Action)) {
            expect(allowed.get(key), `${action} on ${key}`).toContain(action);
            granted.set(key, (granted.get(key) ?? new Set()).add(action));
          }
        }
      }
      // and it can do its job: every resource is granted what the function needs
      expect([...granted.keys()].sort()).toEqual([...allowed.keys()].sort());
      const queueActions = granted.get(JSON.stringify({ 'Fn::GetAtt': [queueId, 'Arn'] }));
      for (const action of reconciles ? [...SEND, ...RECEIVE] : SEND) expect(queueActions).toContain(action);
      if (!reconciles) for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage']) expect(queueActions).not.toContain(action);
    },
  );

  it('grants every DynamoDB action the state store issues', () => {
    // Arrange: the store's commands, mapped to the IAM actions they need
    // (functions/state/table.ts is the one module that sends commands to the table)
    const source = readFileSync(join(PROJECT_ROOT, 'functions/state/table.ts'), 'utf8');
    const commands = [...new Set([...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!))];
    const needs: Record<string, string[]> = {
      Get: ['GetItem'],
      BatchGet: ['BatchGetItem'],
      Query: ['Query'],
      Scan: ['Scan'],
      Put: ['PutItem'],
      Update: ['UpdateItem'],
      Delete: ['DeleteItem'],
      BatchWrite: ['BatchWriteItem'],
      TransactWrite: ['PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'],
      TransactGet: ['GetItem'],
    };

    // Act
    const required = commands.flatMap((c) => {
      const actions = needs[c];
      if (!actions) throw new Error(`functions/state/table.ts issues ${c}Command: map it to IAM actions here and in STATE_TABLE_ACTIONS`);
      return actions.map((a) => `dynamodb:${a}`);
    });

    // Assert
    expect(commands.length).toBeGreaterThan(0);
    expect([...STATE_TABLE_ACTIONS]).toEqual(expect.arrayContaining(required));
  });
});

const FORBIDDEN_NAME_PROPERTIES = [
  'TableName',
  'FunctionName',
  'QueueName',
  'TopicName',
  'SecretName',
  'RoleName',
  'LogGroupName',
  'AlarmName',
  'DashboardName',
  'BucketName',
  'KeyAlias',
];

describe('Function: physical names', () => {
  it.each(STAGE_NAMES)('sets no hard-coded physical name in %s; the names CloudFormation requires derive from the stack', (stage) => {
    // Arrange
    const { template } = pick(synths, stage);
    const resources = Object.entries(template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>);

    // Act
    // a literal string is a physical name; a Ref/GetAtt (FunctionName of a permission) points at one
    const named = resources.filter(([, r]) => FORBIDDEN_NAME_PROPERTIES.some((p) => typeof r.Properties?.[p] === 'string'));
    const withName = resources.filter(([, r]) => typeof r.Properties?.Name === 'string');

    // Assert
    expect(named.map(([id, r]) => `${id} (${r.Type})`)).toEqual([]);
    expect(withName.length).toBeGreaterThan(0);
    for (const [id, r] of withName) {
      expect(r.Type, id).not.toBe('AWS::SecretsManager::Secret');
      expect((r.Properties!.Name as string).replace(/[^A-Za-z0-9]/g, ''), id).toContain(`InviteSync${stage}`);
    }
  });
});

/** Acknowledged rules recorded anywhere in the stack: construct, rule id, reason. */
function acknowledgements(s: Synthesized): { construct: string; isCfnResource: boolean; id: string; reason: string }[] {
  return s.stack.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          construct: c.node.path,
          isCfnResource: CfnResource.isCfnResource(c),
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe('Function: cdk-nag AwsSolutions checks', () => {
  it.each(STAGE_NAMES)('finds no unacknowledged AwsSolutions error or warning in %s', (stage) => {
    // Arrange
    const s = pick(synths, stage);

    // Act
    const report = new AwsSolutionsChecks().validateScope(s.stack);
    const annotated = [
      ...Annotations.fromStack(s.stack).findError('*', Match.stringLikeRegexp('AwsSolutions-')),
      ...Annotations.fromStack(s.stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-')),
    ];
    const synthReport = JSON.parse(readFileSync(join(s.assembly.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations?: { ruleName: string }[] }[];
    };

    // Assert
    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
    expect(annotated).toEqual([]);
    expect(synthReport.pluginReports.flatMap((p) => p.violations ?? []).filter((v) => v.ruleName.includes('AwsSolutions-'))).toEqual([]);
  });

  it.each(STAGE_NAMES)('acknowledges only justified %s findings, each on the one resource it concerns, with a reason of 10+ words', (stage) => {
    // Arrange
    const s = pick(synths, stage);

    // Act
    const acks = acknowledgements(s);

    // Assert
    expect(acks.map((a) => `${a.id} ${a.construct.replace(`InviteSync-${stage}/`, '')}`).sort()).toEqual([
      'AwsSolutions-APIG4 Webhook/Api/ANY--scim--v2--{proxy+}/Resource',
      'AwsSolutions-APIG4 Webhook/Api/POST--webhook/Resource',
      'AwsSolutions-L1 Http/Function/Resource',
      'AwsSolutions-L1 Sync/Function/Resource',
      'AwsSolutions-S1 Drops/AccessLogs/Resource',
      'AwsSolutions-SMG4 LosantToken/Secret/Resource',
      'AwsSolutions-SMG4 ScimTokens/Secret/Resource',
      'AwsSolutions-SMG4 WebhookSecret/Secret/Resource',
    ]);
    for (const ack of acks) {
      expect(ack.isCfnResource, ack.construct).toBe(true);
      expect(ack.reason.trim().split(/\s+/).length, ack.reason).toBeGreaterThanOrEqual(10);
    }
  });

  it('fails the synth of an app built by buildApp when a finding is not acknowledged', () => {
    // Arrange: the dev stack (bundling skipped: the code is not what this checks) plus one secret nobody acknowledged
    const app = new App({ context: { stage: 'dev', 'aws:cdk:bundling-stacks': [] } });
    const stack = buildApp(app);
    new secretsmanager.Secret(stack, 'Unacknowledged');

    // Act + Assert
    expect(() => app.synth()).toThrow(/AwsSolutions-SMG4/);
  });
});
