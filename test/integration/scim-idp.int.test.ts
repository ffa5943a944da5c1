// SCIM over real HTTP (serve's app) on DynamoDB Local with the Losant emulator: the requests Okta's SPEC test and
// Entra's validator send that scim-serve.int.test.ts does not — Okta's test order, PUT /Groups, `and` of two eq terms,
// DELETE with If-Match, Entra's older member removes and "True"/"False" strings, an employeeNumber added later.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { memoryLog } from '../helpers/sync-harness.ts';
import { ENTERPRISE_URN, ERROR_URN, GROUP_URN, PATCH_URN, queueIdle, scimClient, startScimServe, USER_URN, type ScimServe } from '../helpers/scim-http.ts';

const TOKEN = randomBytes(24).toString('base64url');
let emulator: RunningEmulator;
let ddb: DynamoDBClient;
let api: LosantClient;
let serve: ScimServe;
let call: ReturnType<typeof scimClient>;
const log = memoryLog();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  ddb = localDynamoClient();
  const tableName = uniqueTableName('scim-idp');
  await createTableIfMissing(ddb, tableName);
  api = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN, log });
  const config = {
    targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: { groups: 'Losant-*' }, role: 'view' }] }],
    policy: { revokeLeft: true },
    scim: { debounceSeconds: 0 },
  };
  serve = await startScimServe({ ddb, api, tableName, config, tokens: TOKEN, log });
  call = scimClient(serve.base, TOKEN);
  // someone stays desired throughout (a target whose desired set empties is held by the emptyDesired brake)
  await serve.store.applyPersonEvent('default', { email: 'bystander@example.com', status: 'active', attributes: { groups: ['Losant-All'] } }, new Date(Date.now() - 7_200_000).toISOString());
});

afterAll(async () => {
  await serve?.app.stop();
  await api?.close();
  await emulator?.close();
  ddb?.destroy();
});

const uniq = () => randomUUID().slice(0, 8);
const oktaUser = (userName: string) => ({
  schemas: [USER_URN],
  userName,
  name: { givenName: 'Runscope', familyName: 'Test' },
  emails: [{ primary: true, value: userName, type: 'work' }],
  displayName: 'Runscope Test',
  locale: 'en-US',
  externalId: `okta-${uniq()}`,
  groups: [],
  password: 'not-stored-1A!',
  active: true,
});
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_URN], Operations });
const inviteOf = (email: string) => emulator.invites(DEFAULT_ID, DEFAULT_ID).find((i) => i.email.toLowerCase() === email.toLowerCase());

describe('Okta SPEC test, in its order', () => {
  it('list with count=1, an unknown userName (0 results), create (201 echoing the body), read, find by userName, duplicate 409, unknown id 404', async () => {
    const userName = `runscope.${uniq()}@example.com`;
    const first = await call('GET', '/Users?count=1&startIndex=1');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], startIndex: 1, itemsPerPage: expect.any(Number), totalResults: expect.any(Number) });
    expect(Array.isArray(first.body.Resources)).toBe(true);
    expect(first.body.Resources!.length).toBeLessThanOrEqual(1);

    const none = await call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`);
    expect(none.body).toMatchObject({ totalResults: 0, Resources: [] });

    const created = await call('POST', '/Users', oktaUser(userName));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ userName, active: true, name: { givenName: 'Runscope', familyName: 'Test' }, emails: [{ primary: true, value: userName, type: 'work' }] });
    expect(created.body).not.toHaveProperty('password');
    const id = String(created.body.id);

    const read = await call('GET', `/Users/${id}`);
    expect(read.body).toEqual(created.body);

    const found = await call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`);
    expect(found.body).toMatchObject({ totalResults: 1, itemsPerPage: 1 });
    expect(found.body.Resources?.[0]?.id).toBe(id);

    const dup = await call('POST', '/Users', oktaUser(userName));
    expect(dup.body).toEqual({ schemas: [ERROR_URN], status: '409', scimType: 'uniqueness', detail: expect.any(String) });

    const unknown = await call('GET', `/Users/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ schemas: [ERROR_URN], status: '404' });
  });

  it('Push Profile Updates: a PUT with the whole user replaces it; a PUT with "active": false deactivates (user readable, person terminated, invite revoked)', async () => {
    const userName = `okta.put.${uniq()}@example.com`;
    const body = oktaUser(userName);
    const id = String((await call('POST', '/Users', body)).body.id);
    const g = await call('POST', '/Groups', { schemas: [GROUP_URN], displayName: `Losant-Okta-${uniq()}`, members: [{ value: id }] });
    await queueIdle(serve.app);
    expect(inviteOf(userName)?.role).toBe('view');
    const put = await call('PUT', `/Users/${id}`, { ...body, id, name: { givenName: 'Renamed', familyName: 'Test' }, title: 'Lead' });
    expect(put.body).toMatchObject({ id, name: { givenName: 'Renamed', familyName: 'Test' }, title: 'Lead', active: true, groups: [expect.objectContaining({ value: g.body.id })] });
    const off = await call('PUT', `/Users/${id}`, { ...body, id, active: false });
    expect([off.status, off.body.active]).toEqual([200, false]);
    expect(off.body).not.toHaveProperty('title');
    await queueIdle(serve.app);
    expect(inviteOf(userName)).toBeUndefined();
    expect((await call('GET', `/Users/${id}`)).body.active).toBe(false);
    expect((await serve.store.listPeople()).filter((p) => p.email === userName).map((p) => p.status)).toEqual(['terminated']);
  });

  it('filter userName eq … and externalId eq …: both must hold', async () => {
    const userName = `and.${uniq()}@example.com`;
    const body = oktaUser(userName);
    const id = String((await call('POST', '/Users', body)).body.id);
    const q = (f: string) => call('GET', `/Users?filter=${encodeURIComponent(f)}`);
    expect((await q(`userName eq "${userName.toUpperCase()}" and externalId eq "${body.externalId}"`)).body.Resources?.map((r) => r.id)).toEqual([id]);
    expect((await q(`userName eq "${userName}" and externalId eq "other"`)).body.totalResults).toBe(0);
  });
});

describe('Uniqueness in the user\'s transaction', () => {
  it('five concurrent POSTs of one userName (cases differ): one 201, four 409 uniqueness, one user and one person', async () => {
    const userName = `race.${uniq()}@example.com`;
    const spellings = [userName, userName.toUpperCase(), userName, `RACE${userName.slice(4)}`, userName];
    const answers = await Promise.all(spellings.map((u) => call('POST', '/Users', { ...oktaUser(u), emails: [{ primary: true, value: userName, type: 'work' }] })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409]);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.scimType === 'uniqueness')).toBe(true);
    expect((await call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body.totalResults).toBe(1);
    expect((await serve.store.listPeople()).filter((p) => p.email === userName)).toHaveLength(1);
  });
});

describe('Groups: PUT /Groups/{id} replaces the group (Okta group push)', () => {
  it('a PUT renames and replaces members: the member left out loses the group (and the invite), If-Match with another version is 412', async () => {
    const [a, b] = [`put.a.${uniq()}@example.com`, `put.b.${uniq()}@example.com`];
    const ida = String((await call('POST', '/Users', oktaUser(a))).body.id);
    const idb = String((await call('POST', '/Users', oktaUser(b))).body.id);
    const g = await call('POST', '/Groups', { schemas: [GROUP_URN], displayName: `Losant-${uniq()}`, members: [{ value: ida }, { value: idb }] });
    const gid = String(g.body.id);
    await queueIdle(serve.app);
    expect([inviteOf(a)?.role, inviteOf(b)?.role]).toEqual(['view', 'view']);

    const stale = await call('PUT', `/Groups/${gid}`, { schemas: [GROUP_URN], displayName: 'Losant-Renamed', members: [{ value: ida }] }, { 'if-match': 'W/"9"' });
    expect([stale.status, stale.body.status]).toEqual([412, '412']);
    const put = await call('PUT', `/Groups/${gid}`, { schemas: [GROUP_URN], id: gid, displayName: `Losant-Renamed-${uniq()}`, members: [{ value: ida }] }, { 'if-match': (g.body.meta as { version: string }).version });
    expect(put.status).toBe(200);
    expect(put.body.members).toEqual([expect.objectContaining({ value: ida })]);
    expect((put.body.meta as { version: string }).version).toBe('W/"2"');
    await queueIdle(serve.app);
    expect(inviteOf(a)?.role).toBe('view');
    expect(inviteOf(b)).toBeUndefined();
    expect((await call('GET', `/Users/${ida}`)).body.groups).toEqual([expect.objectContaining({ value: gid, display: put.body.displayName })]);
    expect((await call('GET', `/Users/${idb}`)).body).not.toHaveProperty('groups');
    const people = (await serve.store.listPeople()).filter((p) => p.email === a);
    expect(people.map((p) => p.attributes.groups)).toEqual([[put.body.displayName]]);
  });
});

describe('Entra', () => {
  it('"active": "False" / "True" strings, a group read without members, the member query, a member removed by the older {path: "members", value: [...]} form, the work email changed by value path', async () => {
    const email = `entra.${uniq()}@example.com`;
    const created = await call('POST', '/Users', { schemas: [USER_URN, ENTERPRISE_URN], externalId: uniq(), userName: email, active: 'True', emails: [{ type: 'work', value: email, primary: true }] });
    expect([created.status, created.body.active]).toEqual([201, true]);
    const id = String(created.body.id);
    const g = await call('POST', '/Groups', { schemas: [GROUP_URN], displayName: `Losant-Entra-${uniq()}`, members: [] });
    const gid = String(g.body.id);
    expect((await call('PATCH', `/Groups/${gid}`, patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: id }] }))).status).toBe(200);
    await queueIdle(serve.app);
    expect(inviteOf(email)?.role).toBe('view');
    // Entra reads a group without its members, and asks whether a user is still a member
    const one = await call('GET', `/Groups/${gid}?excludedAttributes=members`);
    expect([one.status, one.body.displayName, one.body.members]).toEqual([200, g.body.displayName, undefined]);
    const memberQuery = `/Groups?filter=${encodeURIComponent(`id eq "${gid}" and members eq "${id}"`)}&attributes=id`;
    expect((await call('GET', memberQuery)).body.Resources).toEqual([{ schemas: [GROUP_URN], id: gid, meta: expect.objectContaining({ resourceType: 'Group' }) }]);

    expect((await call('PATCH', `/Groups/${gid}`, patch({ op: 'Remove', path: 'members', value: [{ $ref: null, value: id }] }))).status).toBe(200);
    expect((await call('GET', memberQuery)).body.totalResults).toBe(0);
    await queueIdle(serve.app);
    expect(inviteOf(email)).toBeUndefined();
    expect((await call('GET', `/Groups/${gid}`)).body).not.toHaveProperty('members');

    const off = await call('PATCH', `/Users/${id}`, patch({ op: 'Replace', path: 'active', value: 'False' }));
    expect([off.status, off.body.active]).toEqual([200, false]);
    const moved = `entra.moved.${uniq()}@example.com`;
    const mail = await call('PATCH', `/Users/${id}`, patch({ op: 'Replace', path: 'emails[type eq "work"].value', value: moved }, { op: 'Replace', path: 'active', value: 'True' }));
    expect(mail.body).toMatchObject({ active: true, emails: [{ type: 'work', value: moved, primary: true }] });
    const people = (await serve.store.listPeople()).filter((p) => p.identity === `scim:${id}`);
    expect(people.map((p) => [p.email, p.status])).toEqual([[moved, 'active']]);
  });
});

describe('Users', () => {
  it('an employeeNumber added later keeps the identity scim:<id> and one person, now with its employeeId', async () => {
    const email = `emp.${uniq()}@example.com`;
    const id = String((await call('POST', '/Users', oktaUser(email))).body.id);
    const res = await call('PATCH', `/Users/${id}`, patch({ op: 'add', path: `${ENTERPRISE_URN}:employeeNumber`, value: 'E-4711' }));
    expect(res.status).toBe(200);
    const people = (await serve.store.listPeople()).filter((p) => p.email === email);
    expect(people.map((p) => [p.identity, p.employeeId])).toEqual([[`scim:${id}`, 'E-4711']]);
  });

  it('DELETE with If-Match naming another version is 412 and deletes nothing; with the current one 204, then 404', async () => {
    const created = await call('POST', '/Users', oktaUser(`del.${uniq()}@example.com`));
    const id = String(created.body.id);
    const stale = await call('DELETE', `/Users/${id}`, undefined, { 'if-match': 'W/"2"' });
    expect([stale.status, stale.body.status]).toEqual([412, '412']);
    expect((await call('GET', `/Users/${id}`)).status).toBe(200);
    expect((await call('DELETE', `/Users/${id}`, undefined, { 'if-match': 'W/"1"' })).status).toBe(204);
    expect((await call('GET', `/Users/${id}`)).status).toBe(404);
  });
});
