// unit: sync config schema, file loader, generated JSON Schema and the examples (functions/config)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parseSyncConfig, parseSyncConfigText } from '../../functions/config/sync-config.schema.ts';
import { syncConfigJsonSchema } from '../../functions/config/sync-config.json-schema.ts';
import { SYNC_CONFIG_DOCS } from '../../functions/config/sync-config.docs.ts';
import { loadSyncConfigFile } from '../../functions/config/load-sync-config.ts';
import { CONFIG_SCHEMA_PATH, renderConfigSchema } from '../../scripts/gen-config-schema.ts';
import { InputError } from '../../functions/sync/errors.ts';
import { parseRoster } from '../../functions/sync/roster.ts';
import { roleFor } from '../../functions/sync/rules.ts';

const EXAMPLE_CONFIG = fileURLToPath(new URL('../../examples/sync-config.json', import.meta.url));
const EXAMPLE_ROSTER = fileURLToPath(new URL('../../examples/roster.csv', import.meta.url));
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

async function rejection(promise: Promise<unknown>): Promise<InputError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  if (err instanceof InputError) return err;
  throw new Error(`expected an InputError, got ${String(err)}`);
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sync-config-'));
  tempDirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const minimal = { targets: [{ name: 'eng', instanceId: '575ec8687ae143cd83dc4a97', orgId: '575ec8687ae143cd83dc4a97', rules: [{ role: 'view' }] }] };

describe('Function: parseSyncConfig', () => {
  it('returns the config with every default filled in', () => {
    // Act
    const config = parseSyncConfig(minimal);

    // Assert
    expect(config.policy).toEqual({ renewExpired: true, maxRenewals: 3, revokeLeft: false, fixRole: false, adoptExpired: true, manageAdopted: false, removeLeftMembers: false });
    expect(config.limits).toEqual({ maxChangesPerRun: 500, minSizeForFraction: 50, maxChangeFraction: 0.5, maxBadRows: 0, maxAnswerBytes: 64 * 1024 * 1024, reserveSeats: 0, maxSnapshotAgeHours: 72, windowMinutes: 60 });
    expect([config.concurrency, config.leaseSeconds, config.mode]).toEqual([16, 120, 'apply']);
    expect(config.targets[0]?.rules).toEqual([{ when: {}, role: 'view' }]);
  });

  it('throws InputError naming the first bad path', () => {
    const doc = { targets: [{ ...minimal.targets[0], orgId: 'nope' }] };
    expect(() => parseSyncConfig(doc, 'c.json')).toThrow('c.json: targets.0.orgId: must be 24 hexadecimal characters');
  });

  it('returns limits.reserveSeats as given, and throws naming it when it is not a whole number ≥ 0', () => {
    expect(parseSyncConfig({ ...minimal, limits: { reserveSeats: 3 } }).limits.reserveSeats).toBe(3);
    expect(() => parseSyncConfig({ ...minimal, limits: { reserveSeats: -1 } }, 'c.json')).toThrow(/^c\.json: limits\.reserveSeats: /);
    expect(() => parseSyncConfig({ ...minimal, limits: { reserveSeats: 1.5 } }, 'c.json')).toThrow(/^c\.json: limits\.reserveSeats: /);
  });

  it('throws InputError for two targets on the same org, in any letter case', () => {
    const t = minimal.targets[0]!;
    const doc = { targets: [t, { ...t, name: 'other', orgId: t.orgId.toUpperCase() }] };
    expect(() => parseSyncConfig(doc)).toThrow('config: targets.1.orgId: two targets point at the same org');
  });
});

describe('Function: parseSyncConfigText', () => {
  it('throws InputError for text that is not JSON', () => {
    expect(() => parseSyncConfigText('{ targets: ', 'x.json')).toThrow(/^x\.json: not valid JSON/);
  });
});

describe('Function: loadSyncConfigFile', () => {
  it('returns the example config with both targets', async () => {
    // Act
    const config = await loadSyncConfigFile(EXAMPLE_CONFIG);

    // Assert
    expect(config.targets.map((t) => [t.name, t.instanceId, t.orgId])).toEqual([
      ['engineering', '575ec8687ae143cd83dc4a97', '575ec8687ae143cd83dc4a97'],
      ['all-hands', '575ec8687ae143cd83dc4a97', '5f0c0ffee0c0ffee0c0ffee0'],
    ]);
  });

  it('throws InputError naming the path of a missing file', async () => {
    const path = join(tmpdir(), 'no-such-dir-invite-sync', 'config.json');
    const err = await rejection(loadSyncConfigFile(path));
    expect(err.message).toBe(`${path}: file not found`);
  });

  it('throws InputError naming the path of a directory', async () => {
    const err = await rejection(loadSyncConfigFile(tmpdir()));
    expect(err.message).toBe(`${tmpdir()}: is a directory`);
  });

  it('throws InputError naming the path and field of an invalid document', async () => {
    const path = tempFile('bad.json', JSON.stringify({ ...minimal, mode: 'yolo' }));
    const err = await rejection(loadSyncConfigFile(path));
    expect(err.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: mode: `));
  });

  it('returns a config from a file that starts with a BOM', async () => {
    const path = tempFile('bom.json', `\uFEFF${JSON.stringify(minimal)}`);
    expect((await loadSyncConfigFile(path)).targets).toHaveLength(1);
  });
});

describe('Function: renderConfigSchema', () => {
  it('returns exactly the committed schemas/sync-config.schema.json (regenerate with scripts/gen-config-schema.ts)', () => {
    expect(readFileSync(CONFIG_SCHEMA_PATH, 'utf8')).toBe(renderConfigSchema());
  });

  it('describes every setting from SYNC_CONFIG_DOCS, and every path there names a node of the schema', () => {
    // Act
    const used = new Set<string>();
    const schema = syncConfigJsonSchema(used) as { properties: Record<string, { description?: string }> };

    // Assert: no stale path (a renamed setting), and the top-level settings all described
    expect([...used].sort()).toEqual(Object.keys(SYNC_CONFIG_DOCS).sort());
    const undescribed = Object.entries(schema.properties).filter(([, node]) => node.description === undefined).map(([key]) => key);
    expect(undescribed).toEqual([]);
  });

  it('returns a schema that accepts the example config and rejects what zod rejects', () => {
    // Arrange
    const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
    const validate = ajv.compile(syncConfigJsonSchema());
    const example: unknown = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8'));

    // Act / Assert
    expect(validate(example)).toBe(true);
    expect(validate({ ...minimal, extra: 1 })).toBe(false);
    expect(validate({ targets: [{ ...minimal.targets[0], rules: [{ role: 'owner' }] }] })).toBe(false);
    expect(() => parseSyncConfig({ ...minimal, extra: 1 })).toThrow(InputError);
  });
});

describe('Function: examples', () => {
  it('returns the intended roles for the example roster in the engineering target', async () => {
    // Arrange
    const config = await loadSyncConfigFile(EXAMPLE_CONFIG);
    const { people } = parseRoster(readFileSync(EXAMPLE_ROSTER, 'utf8'), 'csv');
    const [engineering, allHands] = config.targets;

    // Act
    const roles = Object.fromEntries(people.map((p) => [p.attributes.lastName, roleFor(p, engineering!.rules)]));

    // Assert
    expect(roles).toMatchObject({ Lovelace: 'admin', Hamilton: null, Hopper: 'edit', Schmidt: 'edit', Perlman: 'view', Liskov: 'view', Thompson: 'edit' });
    expect(people.every((p) => roleFor(p, allHands!.rules) === 'view')).toBe(true);
  });
});
