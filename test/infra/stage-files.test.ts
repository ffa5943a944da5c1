// infra test: config/<stage>.stage.json --> loadStageConfig / -c stage.<key> --> buildApp; adding a stage is adding a file
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  DEFAULT_TIMEOUT_SECONDS,
  STAGE_DIR,
  STAGE_NAMES,
  StageConfigSchema,
  UnknownStageError,
  alarmEmails,
  listStageNames,
  loadStageConfig,
  scalarStageKeys,
} from '../../lib/stages.ts';
import { buildApp } from '../../lib/build-app.ts';
import { PROJECT_ROOT } from '../../lib/invite-sync-stack.ts';
import { InputError } from '../../functions/sync/errors.ts';
import { renderStageSchema, STAGE_SCHEMA_PATH } from '../../scripts/gen-stage-schema.ts';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'invite-sync-stages-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/** A stage directory holding the shipped files plus `extra` (name --> document). */
function stageDir(extra: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmp, 'config-'));
  for (const name of STAGE_NAMES) copyFileSync(join(STAGE_DIR, `${name}.stage.json`), join(dir, `${name}.stage.json`));
  for (const [name, doc] of Object.entries(extra)) writeFileSync(join(dir, `${name}.stage.json`), typeof doc === 'string' ? doc : JSON.stringify(doc));
  return dir;
}

const devDoc = () => readJson(join(STAGE_DIR, 'dev.stage.json'));

describe('Function: listStageNames', () => {
  it('returns the shipped stages in promotion order', () => {
    // Arrange + Act
    const names = listStageNames();

    // Assert
    expect(names).toEqual(['dev', 'staging', 'prod']);
    expect(STAGE_NAMES).toEqual(names);
  });

  it('returns a stage for every *.stage.json file, new ones after the promotion path', () => {
    // Arrange
    const dir = stageDir({ qa: devDoc(), 'eu-prod': devDoc() });

    // Act
    const names = listStageNames(dir);

    // Assert
    expect(names).toEqual(['dev', 'staging', 'prod', 'eu-prod', 'qa']);
  });
});

describe('Function: loadStageConfig', () => {
  it.each(STAGE_NAMES)('returns a config/%s.stage.json that spells out every field of the schema', (stage) => {
    // Arrange
    const doc = readJson(join(STAGE_DIR, `${stage}.stage.json`));
    const keys = Object.keys(StageConfigSchema.shape).filter((k) => k !== 'alarmEmail');

    // Act
    const config = loadStageConfig(stage);

    // Assert
    expect(Object.keys(doc).sort()).toEqual(keys.sort());
    expect(Object.keys(doc.notify as object).sort()).toEqual(['emails', 'topicArn']);
    expect(doc.$schema).toBe('../schemas/stage-config.schema.json');
    expect(config.syncConfigPath).toBe(`config/${stage}.sync.json`);
  });

  it('returns the file with -c stage.<key>=<value> overrides, strings read as the key type', () => {
    // Arrange
    const app = new App({
      context: {
        stage: 'dev',
        'stage.losantApiUrl': 'https://losant.internal.example.com',
        'stage.region': 'eu-west-1',
        'stage.httpReservedConcurrency': '3',
        'stage.reservedConcurrency': 'null',
        'stage.logRetentionDays': '30',
        'stage.notify.topicArn': 'arn:aws:sns:eu-west-1:123456789012:ops-chat',
        'stage.webhookThrottle.burstLimit': '40',
        'stage.timeoutSeconds': '600',
      },
    });

    // Act
    const config = loadStageConfig('dev', { scope: app });

    // Assert
    expect(config).toMatchObject({
      losantApiUrl: 'https://losant.internal.example.com',
      region: 'eu-west-1',
      httpReservedConcurrency: 3,
      reservedConcurrency: undefined,
      logRetentionDays: 30,
      notify: { emails: [], topicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-chat' },
      webhookThrottle: { rateLimit: 5, burstLimit: 40 },
      scheduleExpression: 'rate(1 hour)',
      timeoutSeconds: 600,
    });
  });

  it('returns timeoutSeconds 300 (the HTTP function\'s fixed timeout) for a stage file without it', () => {
    // Arrange
    const { timeoutSeconds: _omitted, ...doc } = devDoc() as Record<string, unknown>;
    const dir = stageDir({ lean: doc });

    // Act
    const config = loadStageConfig('lean', { dir });

    // Assert
    expect(config.timeoutSeconds).toBe(DEFAULT_TIMEOUT_SECONDS);
    expect(DEFAULT_TIMEOUT_SECONDS).toBe(300);
  });

  it('throws one line naming the -c key for a bad override and for a key that is not a scalar', () => {
    // Arrange
    const bad = new App({ context: { stage: 'dev', 'stage.logRetentionDays': '8' } });
    const list = new App({ context: { stage: 'dev', 'stage.notify.emails': 'ops@example.com' } });
    const unknown = new App({ context: { stage: 'dev', 'stage.memory': '1024' } });

    // Act + Assert
    expect(() => loadStageConfig('dev', { scope: bad })).toThrow(/^-c stage\.logRetentionDays: must be a retention CloudWatch Logs accepts/);
    expect(() => loadStageConfig('dev', { scope: list })).toThrow(/^-c stage\.notify\.emails: not a scalar stage key .*config\/dev\.stage\.json$/);
    expect(() => loadStageConfig('dev', { scope: unknown })).toThrow(InputError);
    expect([...scalarStageKeys().keys()]).toEqual(expect.arrayContaining(['region', 'losantApiUrl', 'notify.topicArn', 'logLevel', 'scheduleExpression']));
  });

  it.each([
    [{ notify: { emails: ['ops@example.com', 'not-an-email'], topicArn: null } }, 'config/bad.stage.json: notify.emails.1: must be an email address'],
    [{ notify: { emails: [], topicArn: 'arn:aws:sqs:us-east-1:123456789012:q' } }, 'config/bad.stage.json: notify.topicArn: must be an SNS topic ARN'],
    [{ losantApiUrl: 'http://losant.internal' }, 'config/bad.stage.json: losantApiUrl: must be an https URL'],
    [{ httpReservedConcurrency: 0 }, 'config/bad.stage.json: httpReservedConcurrency: Too small: expected number to be >=1'],
    [{ memoryMb: 64 }, 'config/bad.stage.json: memoryMb: must be at least 256'],
    [{ timeoutSeconds: 29 }, 'config/bad.stage.json: timeoutSeconds: must be at least 30'],
    [{ timeoutSeconds: 901 }, 'config/bad.stage.json: timeoutSeconds: must be at most 900 (Lambda)'],
    [{ timeoutSeconds: 60.5 }, 'config/bad.stage.json: timeoutSeconds:'],
  ])('throws one InputError line naming the field of a bad stage file (%j)', (change, message) => {
    // Arrange
    const dir = stageDir({ bad: { ...devDoc(), ...change } });

    // Act
    const act = () => loadStageConfig('bad', { dir });

    // Assert
    expect(act).toThrow(InputError);
    expect(act).toThrow(message);
  });

  it('throws for a stage file that is not JSON, and UnknownStageError for a stage without a file', () => {
    // Arrange
    const dir = stageDir({ broken: '{ "region": ' });

    // Act + Assert
    expect(() => loadStageConfig('broken', { dir })).toThrow(/^config\/broken\.stage\.json: not valid JSON/);
    expect(() => loadStageConfig('qa', { dir })).toThrow(UnknownStageError);
    expect(() => loadStageConfig('qa', { dir })).toThrow('unknown stage "qa": pass -c stage=<dev|staging|prod|broken>');
  });
});

describe('Function: alarmEmails', () => {
  it('returns notify.emails with the legacy alarmEmail merged in, once each', () => {
    // Arrange
    const config = StageConfigSchema.parse({ ...devDoc(), notify: { emails: ['ops@example.com'], topicArn: null }, alarmEmail: 'oncall@example.com' });
    const same = StageConfigSchema.parse({ ...devDoc(), notify: { emails: ['ops@example.com'] }, alarmEmail: 'ops@example.com' });

    // Act + Assert
    expect(alarmEmails(config)).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(alarmEmails(same)).toEqual(['ops@example.com']);
  });
});

describe('Function: stageConfigJsonSchema', () => {
  it('returns the committed schemas/stage-config.schema.json (regenerate with scripts/gen-stage-schema.ts)', () => {
    // Arrange + Act
    const rendered = renderStageSchema();

    // Assert
    expect(readFileSync(STAGE_SCHEMA_PATH, 'utf8')).toBe(rendered);
    expect(JSON.parse(rendered).required).toEqual(expect.arrayContaining(['region', 'scheduleExpression', 'syncConfigPath', 'removalPolicy']));
  });
});

describe('Function: buildApp with a new stage file', () => {
  it('returns a stack for a stage added as a file: its region, private Losant URL, alarm recipients and schedule', () => {
    // Arrange
    const qa = {
      ...devDoc(),
      region: 'eu-central-1',
      losantApiUrl: 'https://losant.internal.example.com',
      scheduleExpression: 'rate(2 hours)',
      logLevel: 'WARN',
      notify: { emails: ['ops@example.com', 'oncall@example.com'], topicArn: 'arn:aws:sns:eu-central-1:123456789012:ops-chat' },
    };
    const dir = stageDir({ qa });
    // no stack is bundled: this test reads the template only
    const app = new App({ context: { stage: 'qa', 'aws:cdk:bundling-stacks': [] } });

    // Act
    const stack = buildApp(app, { stageDir: dir });
    const template = Template.fromStack(stack);

    // Assert
    expect(stack.stackName).toBe('InviteSync-qa');
    expect(stack.region).toBe('eu-central-1');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { STAGE: 'qa', LOSANT_API_URL: 'https://losant.internal.example.com', POWERTOOLS_LOG_LEVEL: 'WARN' } },
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(2 hours)' });
    for (const email of qa.notify.emails) template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: email });
    template.resourceCountIs('AWS::SNS::Subscription', 2);
  });
});

describe('Function: the app entry (lib/app.ts) with a bad -c stage value', () => {
  it('fails with one line naming the key and exit code 1', async () => {
    // Arrange
    const context = { stage: 'prod', 'stage.region': 'useast1' };

    // Act
    const failure = await run(process.execPath, ['--import', 'tsx', 'lib/app.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: join(tmp, 'out-bad') },
    }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );

    // Assert
    expect(failure?.code).toBe(1);
    expect(failure?.stderr.trim()).toBe('invite-sync: -c stage.region: must be an AWS region such as us-east-1');
  });
});
