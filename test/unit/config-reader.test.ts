// unit: the one sync config reader (functions/config/load-sync-config.ts) as the CLI, the Lambda and cdk synth use it
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadSyncConfigFile, readSyncConfigFile, SyncConfigFileError } from '../../functions/config/load-sync-config.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import { parseWith } from '../../functions/sync/parse-with.ts';
import { InputError } from '../../functions/sync/errors.ts';
import { BundledConfigError, createContainer } from '../../functions/runtime/composition-root.ts';
import { createReconcileContainer } from '../../functions/runtime/reconcile-container.ts';
import { createHttpContainer } from '../../functions/runtime/http-container.ts';
import { readStageSyncConfig } from '../../lib/sync-config-file.ts';

const ID = '575ec8687ae143cd83dc4a97';
const minimal = { targets: [{ name: 'eng', instanceId: ID, orgId: ID, rules: [{ when: {}, role: 'view' }] }] };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'invite-sync-config-reader-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
}

describe('Function: readSyncConfigFile', () => {
  it('returns the same config from a file with a BOM for the CLI, the Lambda and cdk synth', async () => {
    // Arrange
    const path = file('bom.json', `\uFEFF${JSON.stringify({ ...minimal, limits: { maxChangesPerRun: 7 } })}`);
    const env = { STAGE: 'dev', SYNC_CONFIG_FILE: path, STATE_TABLE: 't', RECONCILE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q', LOSANT_TOKEN_SECRET_ARN: 'arn:x', WEBHOOK_SECRET_ARN: 'arn:y', LOSANT_API_URL: 'https://api.losant.com' };

    // Act
    const cli = await loadSyncConfigFile(path);
    const synth = readStageSyncConfig(path, 'config/bom.json');
    const lambda = (await createContainer(env)).config;

    // Assess
    expect(cli.limits.maxChangesPerRun).toBe(7);
    expect(synth).toEqual(cli);
    expect(lambda).toEqual(cli);
  });

  it('throws SyncConfigFileError naming the origin for a missing file', () => {
    // Act
    const err = thrown(() => readSyncConfigFile(join(dir, 'absent.json'), 'config/absent.json'));

    // Assess
    expect(err).toBeInstanceOf(SyncConfigFileError);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe('config/absent.json: file not found');
    expect((err as SyncConfigFileError).code).toBe('ENOENT');
  });

  it('throws the same one-line error for a bad field whichever caller reads the file', async () => {
    // Arrange
    const path = file('bad.json', JSON.stringify({ ...minimal, limits: { maxChangesPerRun: -1 } }));

    // Act
    const messages = [thrown(() => readSyncConfigFile(path, 'c.json')).message, thrown(() => readStageSyncConfig(path, 'c.json')).message];
    const cli = await loadSyncConfigFile(path, 'c.json').then(
      () => new Error('did not throw'),
      (e: unknown) => e as Error,
    );

    // Assess
    expect(messages).toEqual([cli.message, cli.message]);
    expect(cli.message).toMatch(/^c\.json: limits\.maxChangesPerRun: /);
  });
});

describe('Function: createContainer (the Lambda reading its bundled config)', () => {
  it('throws BundledConfigError for a bundle without its config file', async () => {
    // Arrange
    const env = { STAGE: 'dev', SYNC_CONFIG_FILE: join(dir, 'gone.json'), STATE_TABLE: 't', RECONCILE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q', LOSANT_TOKEN_SECRET_ARN: 'arn:x', WEBHOOK_SECRET_ARN: 'arn:y', LOSANT_API_URL: 'https://api.losant.com' };

    // Act
    const err = await createContainer(env).then(
      () => new Error('did not throw'),
      (e: unknown) => e as Error,
    );

    // Assess
    expect(err).toBeInstanceOf(BundledConfigError);
    expect(err.message).toMatch(/ENOENT$/);
  });
});

describe('Function: createReconcileContainer and createHttpContainer (each deployed function\'s part)', () => {
  it('returns the same config in each, the Losant client and drops only in the reconcile one, the webhook key and SCIM only in the HTTP one', async () => {
    // Arrange
    const path = file('split.json', JSON.stringify(minimal));
    const env = { STAGE: 'dev', SYNC_CONFIG_FILE: path, STATE_TABLE: 't', RECONCILE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q', LOSANT_TOKEN_SECRET_ARN: 'arn:x', WEBHOOK_SECRET_ARN: 'arn:y', SCIM_TOKEN_SECRET_ARN: 'arn:z', RUN_EVENT_BUS: 'default' };

    // Act
    const [whole, reconcile, http] = await Promise.all([createContainer(env), createReconcileContainer(env), createHttpContainer(env)]);

    // Assess
    expect(reconcile.config).toEqual(whole.config);
    expect(http.config).toEqual(whole.config);
    expect(Object.keys(whole).sort()).toEqual([...new Set([...Object.keys(reconcile), ...Object.keys(http)])].sort());
    expect(Object.keys(reconcile)).toEqual(expect.arrayContaining(['api', 'drops', 'runEvents', 'store', 'queue']));
    expect(Object.keys(reconcile)).not.toEqual(expect.arrayContaining(['webhookSecret']));
    expect('scim' in reconcile).toBe(false);
    expect(Object.keys(http)).toEqual(expect.arrayContaining(['webhookSecret', 'scim', 'store', 'queue']));
    expect(['api', 'drops', 'runEvents'].filter((k) => k in http)).toEqual([]);
  });
});

describe('Function: parseSyncConfig (limits.maxChangesPerRun)', () => {
  it('returns maxChangesPerRun from the new key, from its old name maxInvitesPerRun, and 500 from neither', () => {
    // Act
    const values = [{ maxChangesPerRun: 3 }, { maxInvitesPerRun: 4 }, {}].map((limits) => parseSyncConfig({ ...minimal, limits }).limits);

    // Assess
    expect(values.map((l) => l.maxChangesPerRun)).toEqual([3, 4, 500]);
    expect(values.every((l) => !('maxInvitesPerRun' in l))).toBe(true);
  });

  it('throws InputError naming the old key when both names are given', () => {
    // Act
    const err = thrown(() => parseSyncConfig({ ...minimal, limits: { maxChangesPerRun: 3, maxInvitesPerRun: 4 } }, 'c.json'));

    // Assess
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe('c.json: limits.maxInvitesPerRun: the old name of maxChangesPerRun: give one of the two, not both');
  });

  it('throws InputError naming an unknown key by its own path', () => {
    expect(() => parseSyncConfig({ ...minimal, limits: { maxInvitePerRun: 3 } }, 'c.json')).toThrow('c.json: limits.maxInvitePerRun: unknown field');
  });
});

describe('Function: parseWith', () => {
  const Schema = z.object({ a: z.object({ '': z.number() }).strict() }).strict();

  it('returns the parsed value', () => {
    expect(parseWith(Schema, { a: { '': 1 } })).toEqual({ a: { '': 1 } });
  });

  it('throws InputError with the first issue (origin first when given) and lists every issue', () => {
    // Act
    const withOrigin = thrown(() => parseWith(Schema, { a: { '': 'x' }, b: 1 }, 'doc.json')) as InputError;
    const without = thrown(() => parseWith(Schema, { a: { '': 'x' } })) as InputError;

    // Assess
    expect(withOrigin.message).toMatch(/^doc\.json: a\."": /);
    expect(withOrigin.issues.map((i) => i.path)).toEqual(['a.""', 'b']);
    expect(without.message).toMatch(/^a\."": /);
  });
});
