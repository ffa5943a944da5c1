// test --> emulator seed (schema, file loading)
import { describe, it, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeedError, loadSeedFile, parseSeed, resolveSeedTime } from '../../emulator/seed.ts';
import { EmulatorState } from '../../emulator/state.ts';

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
    [{ instances: [{ id: ID, orgs: [{ id: ID, memberLimit: -1 }] }] }, 'instances[0].orgs[0].memberLimit'],
    [{ instances: [{ id: ID, orgs: [{ id: ID, memberLimit: 2.5 }] }] }, 'instances[0].orgs[0].memberLimit'],
    [{ instances: [{ id: ID, orgs: [{ id: ID, name: '' }] }] }, 'instances[0].orgs[0].name'],
  ])('throws SeedError naming the field for %j', (seed, field) => {
    expect(() => parseSeed(seed, 'test seed')).toThrow(SeedError);
    expect(() => parseSeed(seed, 'test seed')).toThrow(field);
  });
});

describe('Function: resolveSeedTime', () => {
  const START = Date.parse('2031-03-10T12:00:00.000Z');

  it.each([
    ['-2d', '2031-03-08T12:00:00.000Z'],
    ['-90m', '2031-03-10T10:30:00.000Z'],
    ['+1h', '2031-03-10T13:00:00.000Z'],
    ['3d', '2031-03-13T12:00:00.000Z'],
    ['-0m', '2031-03-10T12:00:00.000Z'],
    ['2020-01-01T00:00:00+02:00', '2019-12-31T22:00:00.000Z'],
  ])('resolves %s against the start', (value, iso) => {
    expect(resolveSeedTime(value, START)).toBe(Date.parse(iso));
  });

  it.each(['-2w', '2d ago', '-d', '', '-1234567d', 'yesterday', '2020-01-01'])('returns undefined for %j', (value) => {
    expect(resolveSeedTime(value, START)).toBeUndefined();
  });

  it('accepts relative inviteDates in a seed and counts them from the emulator start (injected clock)', () => {
    // Arrange: a start a year and more away from any real date
    const seed = parseSeed({
      instances: [{ id: ID, orgs: [{ id: ID, invites: [{ email: 'recent@example.com', role: 'view', inviteDate: '-2d' }, { email: 'old@example.com', role: 'view', inviteDate: '-8d' }] }] }],
    });
    // Act
    const state = new EmulatorState(seed, () => START);
    const listed = state.listInvites(ID, ID, { sortField: 'email', sortDirection: 'asc' });
    // Assess
    const byEmail = Object.fromEntries(listed.map((i) => [i.email, i]));
    expect(byEmail['recent@example.com']).toMatchObject({ inviteDate: '2031-03-08T12:00:00.000Z', hasExpired: false });
    expect(byEmail['old@example.com']).toMatchObject({ inviteDate: '2031-03-02T12:00:00.000Z', hasExpired: true });
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
