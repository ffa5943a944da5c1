// test --> emulator over real HTTP (routes, contract, auth) --> published schemas as the oracle
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ID, loadSeedFile, startEmulator, type EmulatorInvite, type RunningEmulator } from '../../emulator/index.ts';
import { expectValid, withoutHal } from '../helpers/schemas.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/emulator/seed.json', import.meta.url));
const I = DEFAULT_ID;
const ORG = DEFAULT_ID;
const ORG_B = '5a1b2c3d4e5f60718293a4b5';
const UNKNOWN = 'ffffffffffffffffffffffff';
const NOW = Date.parse('2024-05-10T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;

interface Collection<T> { items: T[]; instanceId: string; orgId: string; count: number; filter?: string; filterField?: string; sortField: string; sortDirection: string }
interface Member { instanceId: string; orgId: string; userId: string; email: string; role: string }
interface ErrorBody { type: string; message: string }
interface Answer<T> { status: number; body: T; headers: Headers }

const invitesPath = (org = ORG, inst = I): string => `/instances/${inst}/orgs/${org}/invites`;
const membersPath = (org = ORG, inst = I): string => `/instances/${inst}/orgs/${org}/members`;
const emails = (items: { email: string }[]): string[] => items.map((i) => i.email);

let emu: RunningEmulator;
let clock: number;

beforeEach(async () => {
  clock = NOW;
  emu = await startEmulator({ seed: await loadSeedFile(FIXTURE), now: () => clock });
});
afterEach(async () => {
  await emu.close();
});

/**
 * One request; every answer body is checked against a published schema: error.json for 4xx/5xx,
 * `schema` otherwise.
 */
async function call<T>(
  method: string,
  path: string,
  schema: string,
  opts: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? 'full-token' : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${emu.url}${path}`, { method, headers, body });
  const parsed = JSON.parse(await res.text()) as unknown;
  if (res.status >= 400) {
    expectValid('error.json', parsed);
    const err = parsed as ErrorBody;
    expect(typeof err.type).toBe('string');
    expect(err.message.length).toBeGreaterThan(0);
  } else {
    expectValid(schema, parsed);
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

const getInvites = (query = '', opts: { token?: string | null } = {}) =>
  call<Collection<EmulatorInvite>>('GET', `${invitesPath()}${query}`, 'orgInviteCollection.json', opts);
const getMembers = (query = '', opts: { token?: string | null } = {}) =>
  call<Collection<Member>>('GET', `${membersPath()}${query}`, 'instanceOrgMembers.json', opts);
const inviteIdOf = (email: string): string => {
  const found = emu.invites(I, ORG).find((i) => i.email === email);
  if (!found) throw new Error(`fixture has no invite for ${email}`);
  return found.id;
};

describe('Function: startEmulator (GET invites)', () => {
  it('returns the pending invites with the default sort inviteDate desc and the collection fields', async () => {
    // Act
    const res = await getInvites();

    // Assess
    expect(res.status).toBe(200);
    expect(emails(res.body.items)).toEqual(['ann@example.com', 'Carol@Example.com', 'bob@example.com', 'dan+ops@example.com']);
    expect(res.body).toMatchObject({ instanceId: I, orgId: ORG, count: 4, sortField: 'inviteDate', sortDirection: 'desc' });
    expect(res.body.filter).toBeUndefined();
    expect(res.body.filterField).toBeUndefined();
    for (const inv of res.body.items) expect(inv.id).toMatch(/^[a-f\d]{24}$/);
    expect(new Set(res.body.items.map((i) => i.id)).size).toBe(4);
  });

  it.each([
    ['email', 'asc', ['ann@example.com', 'bob@example.com', 'Carol@Example.com', 'dan+ops@example.com']],
    ['email', 'desc', ['dan+ops@example.com', 'Carol@Example.com', 'bob@example.com', 'ann@example.com']],
    ['role', 'asc', ['ann@example.com', 'dan+ops@example.com', 'Carol@Example.com', 'bob@example.com']],
    ['role', 'desc', ['bob@example.com', 'Carol@Example.com', 'dan+ops@example.com', 'ann@example.com']],
    ['inviteDate', 'asc', ['dan+ops@example.com', 'bob@example.com', 'Carol@Example.com', 'ann@example.com']],
    ['inviteDate', 'desc', ['ann@example.com', 'Carol@Example.com', 'bob@example.com', 'dan+ops@example.com']],
  ])('returns invites sorted by %s %s (emails case-insensitively)', async (field, direction, expected) => {
    // Act
    const res = await getInvites(`?sortField=${field}&sortDirection=${direction}`);

    // Assess
    expect(res.status).toBe(200);
    expect(emails(res.body.items)).toEqual(expected);
    expect(res.body).toMatchObject({ sortField: field, sortDirection: direction });
  });

  it('returns the default direction desc when only sortField is given', async () => {
    const res = await getInvites('?sortField=email');
    expect(emails(res.body.items)[0]).toBe('dan+ops@example.com');
    expect(res.body.sortDirection).toBe('desc');
  });

  it('returns expiry as the clock says: 7 days after inviteDate, unless the seed set hasExpired', async () => {
    // Act
    const res = await getInvites('?sortField=email&sortDirection=asc');

    // Assess
    const byEmail = new Map(res.body.items.map((i) => [i.email, i]));
    expect(byEmail.get('ann@example.com')).toMatchObject({ hasExpired: false, ttl: 6 * DAY, inviteDate: new Date(NOW - DAY).toISOString() });
    expect(byEmail.get('bob@example.com')).toMatchObject({ hasExpired: true, ttl: 0 }); // 8 days old
    expect(byEmail.get('Carol@Example.com')).toMatchObject({ hasExpired: true, ttl: 0 }); // seeded true, 2 days old
    expect(byEmail.get('dan+ops@example.com')).toMatchObject({ hasExpired: false }); // seeded false, 39 days old
  });

  it('returns an invite as expired once the clock passes 7 days', async () => {
    // Arrange
    clock = NOW + 6 * DAY + 1;

    // Act
    const res = await getInvites('?filterField=email&filter=ann@example.com');

    // Assess
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ hasExpired: true, ttl: 0 });
  });
});

describe('Function: startEmulator (glob filter)', () => {
  beforeEach(() => {
    for (const email of ['a*b@example.com', 'axyzb@example.com', 'xa*b@example.com', 'a*b@example.com.au', 'q?x@example.com', 'qzx@example.com', 'a.b@example.com', 'acb@example.com']) {
      emu.addInvite(I, ORG_B, { email, role: 'view' });
    }
  });
  const filtered = async (filter: string, filterField = 'email'): Promise<string[]> => {
    const res = await call<Collection<EmulatorInvite>>(
      'GET', `${invitesPath(ORG_B)}?sortField=email&sortDirection=asc&filterField=${filterField}&filter=${encodeURIComponent(filter)}`, 'orgInviteCollection.json',
    );
    expect(res.status).toBe(200);
    return emails(res.body.items);
  };

  it('returns matches of * as any run of characters, on the whole value', async () => {
    // never the prefix-extended xa*b@… nor the suffix-extended …@example.com.au
    expect(await filtered('a*b@example.com')).toEqual(['a*b@example.com', 'a.b@example.com', 'acb@example.com', 'axyzb@example.com']);
  });

  it('returns only the literal match for ?, . and + (not regex or wildcard semantics)', async () => {
    expect(await filtered('q?x@example.com')).toEqual(['q?x@example.com']);
    expect(await filtered('a.b@example.com')).toEqual(['a.b@example.com']);
  });

  it('returns matches ignoring case and echoes filter and filterField', async () => {
    // Act
    const res = await getInvites('?filterField=email&filter=DAN%2BOPS@EXAMPLE.COM');

    // Assess
    expect(emails(res.body.items)).toEqual(['dan+ops@example.com']);
    expect(res.body).toMatchObject({ filterField: 'email', filter: 'DAN+OPS@EXAMPLE.COM', count: 1 });
  });

  it('returns every invite for a blank filter, or a filter without filterField', async () => {
    expect((await getInvites('?filterField=email&filter=')).body.count).toBe(4);
    expect((await getInvites('?filter=ann*')).body.count).toBe(4);
  });

  it('returns invites filtered by role', async () => {
    expect(emails((await getInvites('?filterField=role&filter=AD*')).body.items)).toEqual(['ann@example.com']);
  });
});

describe('Function: startEmulator (query validation)', () => {
  it.each([
    ['sortField=id', 'sortField'],
    ['sortDirection=up', 'sortDirection'],
    ['filterField=id&filter=x', 'filterField'],
    ['sortField=email&sortField=role', 'sortField'],
  ])('returns 400 Validation naming the parameter for ?%s', async (query, param) => {
    const res = await call<ErrorBody>('GET', `${invitesPath()}?${query}`, 'error.json');
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('Validation');
    expect(res.body.message).toContain(param);
  });

  it('returns 400 for a members sortField that only invites have', async () => {
    const res = await call<ErrorBody>('GET', `${membersPath()}?sortField=inviteDate`, 'error.json');
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('sortField');
  });
});

describe('Function: startEmulator (POST invites)', () => {
  it('returns 201 with the whole collection (default sort) and the new invite first', async () => {
    // Act
    const res = await call<Collection<EmulatorInvite>>('POST', invitesPath(), 'orgInviteCollection.json', { body: { email: 'New.Person@example.com', role: 'edit' } });

    // Assess
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ count: 5, sortField: 'inviteDate', sortDirection: 'desc', instanceId: I, orgId: ORG });
    expect(res.body.items[0]).toMatchObject({
      email: 'New.Person@example.com', role: 'edit', inviteDate: new Date(NOW).toISOString(), hasExpired: false, ttl: 7 * DAY,
      applicationRoles: [], dashboardRoles: [], disallowTransfer: false,
    });
    expect(emu.invites(I, ORG).map((i) => i.email)).toContain('New.Person@example.com');
  });

  it('returns 201 for a second POST of a pending email, creates it, and counts the duplicate', async () => {
    // Act
    const res = await call<Collection<EmulatorInvite>>('POST', invitesPath(), 'orgInviteCollection.json', { body: { email: 'ANN@example.com', role: 'view' } });
    const expiredAgain = await call<Collection<EmulatorInvite>>('POST', invitesPath(), 'orgInviteCollection.json', { body: { email: 'bob@example.com', role: 'view' } });

    // Assess
    expect(res.status).toBe(201);
    expect(expiredAgain.status).toBe(201);
    expect(emu.invites(I, ORG).filter((i) => i.email.toLowerCase() === 'ann@example.com').map((i) => i.email)).toEqual(['ANN@example.com', 'ann@example.com']);
    expect(emu.stats().duplicateInvites).toBe(1); // bob's invite had expired: not a duplicate
  });

  it.each([
    [{ email: 'x@example.com' }, "must have required property 'role'"],
    [{ email: 'x@example.com', role: 'edit', foo: 1 }, "must NOT have additional property 'foo'"],
    [{ email: 'x@example.com', role: 'owner' }, '/role must be equal to one of the allowed values'],
    [{ email: 'not-an-email', role: 'edit' }, '/email must match format "email"'],
    [{ email: 'x@example.com', role: 'edit', applicationRoles: [{ resourceId: 'nothex', role: 'view' }] }, '/applicationRoles/0/resourceId'],
    [[], 'must be object'],
  ])('returns 400 Validation naming the field for body %j, and creates nothing', async (body, message) => {
    const res = await call<ErrorBody>('POST', invitesPath(), 'error.json', { body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ type: 'Validation' });
    expect(res.body.message).toContain(message);
    expect(emu.invites(I, ORG)).toHaveLength(4);
  });

  it('returns 400 for a body that is not JSON', async () => {
    const res = await call<ErrorBody>('POST', invitesPath(), 'error.json', { raw: 'email=x@example.com&role=edit' });
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('Validation');
    expect(emu.invites(I, ORG)).toHaveLength(4);
  });

  it('returns 201 for many concurrent POSTs on kept-alive connections, each with its own id', async () => {
    // Act
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, n) => call<Collection<EmulatorInvite>>('POST', invitesPath(ORG_B), 'orgInviteCollection.json', { body: { email: `p${n}@example.com`, role: 'view' } })),
    );

    // Assess
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(201));
    const ids = emu.invites(I, ORG_B).map((i) => i.id);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
  });
});

describe('Function: startEmulator (single invite)', () => {
  it('returns one invite on GET', async () => {
    const id = inviteIdOf('bob@example.com');
    const res = await call<EmulatorInvite>('GET', `${invitesPath()}/${id}`, 'orgInvite.json');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, email: 'bob@example.com', role: 'view', hasExpired: true });
  });

  it('returns 201 with the invite on resend: new role, inviteDate now, not expired', async () => {
    // Arrange
    const id = inviteIdOf('Carol@Example.com');
    clock = NOW + 1000;

    // Act
    const res = await call<EmulatorInvite>('POST', `${invitesPath()}/${id}`, 'orgInvite.json', { body: { role: 'view' } });

    // Assess
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id, role: 'view', inviteDate: new Date(NOW + 1000).toISOString(), hasExpired: false, ttl: 7 * DAY });
    expect(emu.invites(I, ORG).find((i) => i.id === id)).toEqual(withoutHal(res.body));
  });

  it('returns 201 keeping the role for an empty role info, and 400 for a bad one', async () => {
    const id = inviteIdOf('bob@example.com');
    const kept = await call<EmulatorInvite>('POST', `${invitesPath()}/${id}`, 'orgInvite.json', { body: {} });
    const bad = await call<ErrorBody>('POST', `${invitesPath()}/${id}`, 'error.json', { body: { role: 'view', email: 'x@example.com' } });
    expect(kept.status).toBe(201);
    expect(kept.body).toMatchObject({ role: 'view', hasExpired: false });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain("additional property 'email'");
  });

  it('returns 200 {success:true} on DELETE, and the invite is gone', async () => {
    // Arrange
    const id = inviteIdOf('ann@example.com');

    // Act
    const res = await call<{ success: boolean }>('DELETE', `${invitesPath()}/${id}`, 'success.json');
    const again = await call<ErrorBody>('GET', `${invitesPath()}/${id}`, 'error.json');

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true });
    expect(again.status).toBe(404);
    expect(emails(emu.invites(I, ORG))).not.toContain('ann@example.com');
  });
});

describe('Function: startEmulator (GET members)', () => {
  it('returns members sorted by email asc by default, with ids and no extra fields', async () => {
    const res = await getMembers();
    expect(res.status).toBe(200);
    expect(emails(res.body.items)).toEqual(['Dave@Example.com', 'eve@example.com', 'frank@example.com']);
    expect(res.body).toMatchObject({ instanceId: I, orgId: ORG, count: 3, sortField: 'email', sortDirection: 'asc' });
    for (const m of res.body.items) expect(m).toMatchObject({ instanceId: I, orgId: ORG, userId: expect.stringMatching(/^[a-f\d]{24}$/) });
  });

  it.each([
    ['email', 'desc', ['frank@example.com', 'eve@example.com', 'Dave@Example.com']],
    ['role', 'asc', ['frank@example.com', 'Dave@Example.com', 'eve@example.com']],
    ['role', 'desc', ['eve@example.com', 'Dave@Example.com', 'frank@example.com']],
  ])('returns members sorted by %s %s', async (field, direction, expected) => {
    const res = await getMembers(`?sortField=${field}&sortDirection=${direction}`);
    expect(emails(res.body.items)).toEqual(expected);
  });

  it('returns members filtered by a glob', async () => {
    const res = await getMembers('?filterField=email&filter=*@example.COM&sortDirection=desc');
    expect(emails(res.body.items)).toEqual(['frank@example.com', 'eve@example.com', 'Dave@Example.com']);
    expect(emails((await getMembers('?filterField=role&filter=edit')).body.items)).toEqual(['Dave@Example.com']);
  });
});

describe('Function: startEmulator (404)', () => {
  it.each([
    ['GET', `/instances/${UNKNOWN}/orgs/${ORG}/invites`, 'Instance'],
    ['GET', `/instances/${I}/orgs/${UNKNOWN}/invites`, 'Organization'],
    ['POST', `/instances/${I}/orgs/${UNKNOWN}/invites`, 'Organization'],
    ['GET', `/instances/${I}/orgs/${UNKNOWN}/members`, 'Organization'],
    ['GET', `/instances/${I}/orgs/${ORG}/invites/${UNKNOWN}`, 'Invite'],
    ['DELETE', `/instances/${I}/orgs/${ORG}/invites/${UNKNOWN}`, 'Invite'],
    ['POST', `/instances/${I}/orgs/${ORG}/invites/${UNKNOWN}`, 'Invite'],
  ])('returns 404 NotFound for %s %s naming the %s', async (method, path, what) => {
    const res = await call<ErrorBody>(method, path, 'error.json', method === 'POST' ? { body: { email: 'x@example.com', role: 'view' } } : {});
    expect(res.status).toBe(404);
    expect(res.body.type).toBe('NotFound');
    expect(res.body.message).toContain(what);
  });

  it.each([
    ['GET', `/instances/${I}/orgs/${ORG}/widgets`],
    ['PUT', `/instances/${I}/orgs/${ORG}/invites`],
    ['GET', '/'],
    ['GET', '/_emulator/nothing'],
  ])('returns 404 for the unknown route %s %s', async (method, path) => {
    const res = await call<ErrorBody>(method, path, 'error.json');
    expect(res.status).toBe(404);
    expect(res.body.type).toBe('NotFound');
  });
});

describe('Function: startEmulator (auth)', () => {
  it.each([
    ['no Authorization header', null],
    ['an unknown token', 'wrong-token'],
  ])('returns 401 Unauthorized for %s, before the 404 of an unknown org', async (_label, token) => {
    const res = await call<ErrorBody>('GET', invitesPath(UNKNOWN), 'error.json', { token });
    expect(res.status).toBe(401);
    expect(res.body.type).toBe('Unauthorized');
  });

  it('returns 401 for a non-Bearer scheme', async () => {
    const res = await call<ErrorBody>('GET', invitesPath(), 'error.json', { token: null, headers: { authorization: 'Basic full-token' } });
    expect(res.status).toBe(401);
  });

  it('returns 403 Forbidden for a read-only token on POST, and creates nothing', async () => {
    const res = await call<ErrorBody>('POST', invitesPath(), 'error.json', { token: 'read-token', body: { email: 'x@example.com', role: 'view' } });
    expect(res.status).toBe(403);
    expect(res.body.type).toBe('Forbidden');
    expect(res.body.message).toContain('instanceOrgInvites.post');
    expect(emu.invites(I, ORG)).toHaveLength(4);
  });

  it('returns 403 for a token without a members scope on GET members', async () => {
    const res = await call<ErrorBody>('GET', membersPath(), 'error.json', { token: 'invites-only-token' });
    expect(res.status).toBe(403);
    expect(res.body.type).toBe('Forbidden');
  });

  it('returns 403 for a read-only token on DELETE and on resend, and the invite stays', async () => {
    const id = inviteIdOf('ann@example.com');
    expect((await call<ErrorBody>('DELETE', `${invitesPath()}/${id}`, 'error.json', { token: 'read-token' })).status).toBe(403);
    expect((await call<ErrorBody>('POST', `${invitesPath()}/${id}`, 'error.json', { token: 'read-token', body: { role: 'view' } })).status).toBe(403);
    expect(emu.invites(I, ORG).find((i) => i.id === id)?.role).toBe('admin');
  });

  it('returns 200 for the narrow scopes of each route, and 403 across routes', async () => {
    const id = inviteIdOf('ann@example.com');
    expect((await getMembers('', { token: 'members-get-token' })).status).toBe(200);
    expect((await getInvites('', { token: 'invites-only-token' })).status).toBe(200);
    expect((await call<EmulatorInvite>('GET', `${invitesPath()}/${id}`, 'orgInvite.json', { token: 'single-invite-token' })).status).toBe(200);
    expect((await getInvites('', { token: 'single-invite-token' })).status).toBe(403);
    expect((await getInvites('', { token: 'read-token' })).status).toBe(200);
  });
});

describe('Function: startEmulator (stats, reset, state)', () => {
  it('returns counts per method, route template and status, and reset zeroes them but keeps state', async () => {
    // Arrange
    await getInvites();
    await getInvites();
    await getInvites('?sortField=nope');
    await call('POST', invitesPath(), 'orgInviteCollection.json', { body: { email: 'ann@example.com', role: 'view' } });
    await call('DELETE', `${invitesPath()}/${inviteIdOf('bob@example.com')}`, 'success.json');
    await getMembers('', { token: null });

    // Act
    const stats = (await (await fetch(`${emu.url}/_emulator/stats`)).json()) as unknown;
    const resetRes = await fetch(`${emu.url}/_emulator/reset`, { method: 'POST' });
    const resetBody = (await resetRes.json()) as unknown;
    const after = (await (await fetch(`${emu.url}/_emulator/stats`)).json()) as unknown;

    // Assess
    expect(stats).toEqual({
      requests: expect.arrayContaining([
        { method: 'GET', route: '/instances/:instanceId/orgs/:orgId/invites', status: 200, count: 2 },
        { method: 'GET', route: '/instances/:instanceId/orgs/:orgId/invites', status: 400, count: 1 },
        { method: 'POST', route: '/instances/:instanceId/orgs/:orgId/invites', status: 201, count: 1 },
        { method: 'DELETE', route: '/instances/:instanceId/orgs/:orgId/invites/:inviteId', status: 200, count: 1 },
        { method: 'GET', route: '/instances/:instanceId/orgs/:orgId/members', status: 401, count: 1 },
      ]),
      duplicateInvites: 1,
    });
    expect((stats as { requests: unknown[] }).requests).toHaveLength(5);
    expect(resetRes.status).toBe(200);
    expectValid('success.json', resetBody);
    expect(resetBody).toEqual({ success: true });
    expect(after).toEqual({ requests: [], duplicateInvites: 0 });
    expect(emu.stats()).toEqual(after);
    expect(emu.invites(I, ORG)).toHaveLength(4);
  });

  it('returns the whole state on GET /_emulator/state, every invite and member valid', async () => {
    // Act
    const res = await fetch(`${emu.url}/_emulator/state`);
    const state = (await res.json()) as { instances: { id: string; orgs: { id: string; invites: unknown[]; members: unknown[] }[] }[] };

    // Assess
    expect(res.status).toBe(200);
    expect(state.instances.map((i) => i.id)).toEqual([I]);
    expect(state.instances[0]?.orgs.map((o) => o.id)).toEqual([ORG, ORG_B]);
    const org = state.instances[0]?.orgs[0];
    expect(org?.invites).toHaveLength(4);
    expect(org?.members).toHaveLength(3);
    for (const inv of org?.invites ?? []) expectValid('orgInvite.json', inv);
    for (const m of org?.members ?? []) expectValid('instanceOrgMember.json', m);
    expect(JSON.stringify(state)).not.toContain('full-token');
  });
});

describe('Function: startEmulator (direct state access)', () => {
  it('returns the person under members once they accept, and no longer under invites', async () => {
    // Act
    emu.acceptInvite(I, ORG, 'ANN@example.com');

    // Assess
    expect(emails(emu.invites(I, ORG))).not.toContain('ann@example.com');
    expect(emu.members(I, ORG)).toContainEqual({ email: 'ann@example.com', role: 'admin', userId: expect.stringMatching(/^[a-f\d]{24}$/) });
    const res = await getMembers('?filterField=email&filter=ann@example.com');
    expect(res.body.items).toHaveLength(1);
  });

  it('returns the changed lists after removeMember, revokeInviteByEmail and addInvite', async () => {
    // Act
    emu.removeMember(I, ORG, 'dave@example.com');
    emu.revokeInviteByEmail(I, ORG, 'carol@example.com');
    const added = emu.addInvite(I, ORG, { email: 'gus@example.com', role: 'none', inviteDate: new Date(NOW - 9.5 * DAY).toISOString() });

    // Assess
    expectValid('orgInvite.json', added);
    expect(added).toMatchObject({ email: 'gus@example.com', role: 'none', hasExpired: true });
    expect(emails(emu.members(I, ORG))).toEqual(['eve@example.com', 'frank@example.com']);
    expect(emails((await getInvites('?sortField=email&sortDirection=asc')).body.items)).toEqual(['ann@example.com', 'bob@example.com', 'dan+ops@example.com', 'gus@example.com']);
  });

  it('throws for an unknown org, an email with no invite, and a bad role', () => {
    expect(() => emu.invites(I, UNKNOWN)).toThrow(/Organization/);
    expect(() => emu.acceptInvite(I, ORG, 'nobody@example.com')).toThrow(/no pending invite/);
    expect(() => emu.removeMember(I, ORG, 'nobody@example.com')).toThrow(/no member/);
    expect(() => emu.addInvite(I, ORG, { email: 'x@example.com', role: 'owner' })).toThrow(/role/);
  });
});
