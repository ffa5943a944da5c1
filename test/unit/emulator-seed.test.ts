// test --> emulator seed (schema, file loading)
import { describe, it, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeedError, loadSeedFile, parseSeed } from '../../emulator/seed.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/emulator/seed.json', import.meta.url));
const ID = '575ec8687ae143cd83dc4a97';

describe('Function: parseSeed', () => {
  it('returns an empty seed as valid (the defaults apply later)', () => {
    expect(parseSeed({})).toEqual({});
  });

  it.each([
    [{ instances: [{ id: 'abc' }] }, 'instances[0].id'],
    [{ instances: [{ id: ID, orgs: [{ id: ID, invites: [{ email: 'nope', role: 'view' }] }] }] }, 'instances[0].orgs[0].invites[0].email'],
    [{ instances: [{ id: ID, orgs: [{ id: ID, invites: [{ email: 'a@example.com', role: 'owner' }] }] }] }, 'instances[0].orgs[0].invites[0].role'],
    [{ instances: [{ id: ID, orgs: [{ id: ID, invites: [{ email: 'a@example.com', role: 'view', inviteDate: 'yesterday' }] }] }] }, 'invites[0].inviteDate'],
    [{ instances: [{ id: ID, orgs: [{ id: ID, members: [{ email: 'a@example.com', role: 'view' }, { email: 'A@example.com', role: 'edit' }] }] }] }, 'instances[0].orgs[0].members'],
    [{ tokens: [{ token: '', scopes: [] }] }, 'tokens[0].token'],
    [{ tokens: [{ token: 't', scopes: [] }], extra: 1 }, 'extra'],
    [{ instances: [{ id: ID }, { id: ID.toUpperCase() }] }, 'instances'],
  ])('throws SeedError naming the field for %j', (seed, field) => {
    expect(() => parseSeed(seed, 'test seed')).toThrow(SeedError);
    expect(() => parseSeed(seed, 'test seed')).toThrow(field);
  });
});

describe('Function: loadSeedFile', () => {
  it('returns the validated fixture', async () => {
    const seed = await loadSeedFile(FIXTURE);
    expect(seed.tokens?.map((t) => t.token)).toContain('full-token');
    expect(seed.instances?.[0]?.orgs?.[0]?.invites).toHaveLength(4);
  });

  it('throws SeedError naming the file for a missing file and for bad JSON', async () => {
    // Arrange
    const dir = await mkdtemp(join(tmpdir(), 'emulator-seed-'));
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ "tokens": [');

    // Act / Assess
    await expect(loadSeedFile(join(dir, 'missing.json'))).rejects.toThrow(/cannot read seed file .*missing\.json: ENOENT/);
    await expect(loadSeedFile(bad)).rejects.toThrow(/bad\.json is not valid JSON/);
  });
});
