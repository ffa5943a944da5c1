// infra test: stage selection, stage configs and their sync config files (no synth but one bad-config stack)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { STAGES, STAGE_NAMES, StageConfigSchema, UnknownStageError, stageFromContext } from '../../lib/stages.ts';
import { readStageSyncConfig } from '../../lib/sync-config-file.ts';
import { buildApp } from '../../lib/build-app.ts';
import { PROJECT_ROOT } from '../../lib/invite-sync-stack.ts';
import { InputError } from '../../functions/sync/errors.ts';
import { pick } from './synth.ts';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'invite-sync-infra-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('Function: stageFromContext', () => {
  it.each(STAGE_NAMES)('returns %s when the context names it', (stage) => {
    // Arrange
    const app = new App({ context: { stage } });

    // Act
    const selected = stageFromContext(app);

    // Assert
    expect(selected).toBe(stage);
  });

  it.each([['qa'], [''], [undefined], ['Prod']])('throws UnknownStageError listing the valid stages for %j', (value) => {
    // Arrange
    const app = new App(value === undefined ? {} : { context: { stage: value } });

    // Act
    const act = () => stageFromContext(app);

    // Assert
    expect(act).toThrow(UnknownStageError);
    expect(act).toThrow(/dev\|staging\|prod/);
  });
});

describe('Constant: STAGES', () => {
  it('returns the schedule, reserved concurrency and removal policy each stage is meant to have', () => {
    // Arrange
    const summary = Object.fromEntries(
      STAGE_NAMES.map((s) => [s, [pick(STAGES, s).scheduleExpression, pick(STAGES, s).reservedConcurrency, pick(STAGES, s).removalPolicy]]),
    );

    // Act + Assert
    expect(summary).toEqual({
      dev: ['rate(1 hour)', 2, 'destroy'],
      staging: ['rate(30 minutes)', 2, 'destroy'],
      prod: ['rate(15 minutes)', 5, 'retain'],
    });
    for (const stage of STAGE_NAMES) {
      expect(pick(STAGES, stage).losantApiUrl).toBe('https://api.losant.com');
      expect(pick(STAGES, stage).syncConfigPath).toBe(`config/${stage}.sync.json`);
      expect(pick(STAGES, stage).account).toBeUndefined();
    }
  });

  it('rejects a stage config CloudFormation or Losant could not use', () => {
    // Arrange
    const base = { ...pick(STAGES, 'dev') };

    // Act
    const bad = [
      { ...base, region: 'useast1' },
      { ...base, losantApiUrl: 'http://api.losant.com' },
      { ...base, logRetentionDays: 8 },
      { ...base, scheduleExpression: 'every 5 minutes' },
      { ...base, account: '1234' },
      { ...base, alarmEmail: 'not-an-email' },
    ].map((c) => StageConfigSchema.safeParse(c).success);

    // Assert
    expect(StageConfigSchema.safeParse(base).success).toBe(true);
    expect(bad).toEqual([false, false, false, false, false, false]);
  });
});

describe('Function: readStageSyncConfig', () => {
  it.each(STAGE_NAMES)('returns a valid sync config from config/%s.sync.json', (stage) => {
    // Arrange
    const file = join(PROJECT_ROOT, pick(STAGES, stage).syncConfigPath);

    // Act
    const config = readStageSyncConfig(file, pick(STAGES, stage).syncConfigPath);

    // Assert
    expect(config.targets.length).toBeGreaterThan(0);
    expect(config.$schema).toBe('../schemas/sync-config.schema.json');
  });

  it('throws the one-line InputError naming the bad field', () => {
    // Arrange
    const file = join(tmp, 'bad-org.sync.json');
    writeFileSync(file, JSON.stringify({ targets: [{ name: 'x', instanceId: '575ec8687ae143cd83dc4a97', orgId: 'nope', rules: [{ role: 'view' }] }] }));

    // Act
    const act = () => readStageSyncConfig(file, 'config/bad.sync.json');

    // Assert
    expect(act).toThrow(InputError);
    expect(act).toThrow('config/bad.sync.json: targets.0.orgId: must be 24 hexadecimal characters');
  });

  it('throws an InputError for a missing file and for bad JSON', () => {
    // Arrange
    const notJson = join(tmp, 'not-json.sync.json');
    writeFileSync(notJson, '{ targets: ');

    // Act + Assert
    expect(() => readStageSyncConfig(join(tmp, 'absent.json'), 'config/absent.json')).toThrow(/^config\/absent\.json: file not found$/);
    expect(() => readStageSyncConfig(notJson, 'config/not-json.json')).toThrow(/config\/not-json\.json: not valid JSON/);
  });
});

describe('Function: buildApp with a bad sync config file', () => {
  it('throws at synth with the file and the path of the bad field', () => {
    // Arrange
    const file = join(tmp, 'bad-rule.sync.json');
    const doc = {
      targets: [{ name: 'eng', instanceId: '575ec8687ae143cd83dc4a97', orgId: '575ed6e87ae143cd83dc4a98', rules: [{ when: {}, role: 'owner' }] }],
    };
    writeFileSync(file, JSON.stringify(doc));
    const app = new App({ context: { stage: 'dev' } });

    // Act
    const error = (() => {
      try {
        buildApp(app, { config: { ...pick(STAGES, 'dev'), syncConfigPath: file } });
        return null;
      } catch (err) {
        return err as Error;
      }
    })();

    // Assert
    expect(error).toBeInstanceOf(InputError);
    expect(error?.message.startsWith(`${file}: targets.0.rules.0.role: `), error?.message).toBe(true);
    expect(error?.message).not.toContain('\n');
    expect(app.node.tryFindChild('InviteSync-dev')).toBeUndefined();
  });
});

describe('Function: the app entry (lib/app.ts)', () => {
  const entry = (stage: string) =>
    run(process.execPath, ['--import', 'tsx', 'lib/app.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ stage }), CDK_OUTDIR: join(tmp, `out-${stage}`) },
    });

  it('fails an unknown stage with one line naming the valid stages and exit code 1', async () => {
    // Arrange + Act
    const failure = await entry('qa').then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );

    // Assert
    expect(failure?.code).toBe(1);
    expect(failure?.stderr.trim()).toBe('invite-sync: unknown stage "qa": pass -c stage=<dev|staging|prod>');
  });
});
