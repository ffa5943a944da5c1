// SCIM 2.0 over real HTTP on `serve`'s app (startServeApp: node:http, in-process queue) on DynamoDB Local, with the
// Losant emulator: what Okta's and Entra's provisioning guides require, and the story provision → assign group →
// deactivate → reactivate → delete, checking the emulator's invites at each step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { scimStoreOf } from '../../functions/state/scim-store.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { parseServeScimTokens, staticScimAuth } from '../../functions/scim/auth.ts';
import { startServeApp, type ServeApp } from '../../cli/commands/serve.ts';
import { localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { memoryLog } from '../helpers/sync-harness.ts';

const TOKEN = randomBytes(24).toString('base64url');
const SECOND_TOKEN = randomBytes(24).toString('base64url');
const WEBHOOK_KEY = `whsec_${randomBytes(32).toString('base64')}`;
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIST_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

let emulator: RunningEmulator;
let ddb: DynamoDBClient;
let api: LosantClient;
let store: DynamoStateStore;
let app: ServeApp;
let base: string;
const log = memoryLog();

const CONFIG = {
  targets: [
    {
      name: 'eng',
      instanceId: DEFAULT_ID,
      orgId: DEFAULT_ID,
      rules: [
        { when: { groups: 'Losant-Admins' }, role: 'admin' },
        { when: { groups: 'Losant-*' }, role: 'view' },
        { when: { department: 'Engineering' }, role: 'edit' },
      ],
    },
  ],
  policy: { revokeLeft: true, fixRole: true },
  scim: { debounceSeconds: 0 },
};

async function startApp(config: unknown, tableName: string): Promise<{ app: ServeApp; base: string; store: DynamoStateStore }> {
  const s = new DynamoStateStore({ tableName, client: ddb });
  const a = startServeApp({
    config: parseSyncConfig(config),
    api,
    store: s,
    clock: { now: () => Date.now() },
    log,
    webhookSecret: WEBHOOK_KEY,
    scim: { store: scimStoreOf(s), auth: staticScimAuth(parseServeScimTokens(`${TOKEN} ${SECOND_TOKEN}`)) },
  });
  const { port } = await a.listen(0, '127.0.0.1');
  return { app: a, base: `http://127.0.0.1:${port}/scim/v2`, store: s };
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  ddb = localDynamoClient();
  const table = uniqueTableName('scim-serve');
  await createTableIfMissing(ddb, table);
  api = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN, log });
  ({ app, base, store } = await startApp(CONFIG, table));
  // someone stays desired throughout: a target whose desired set empties is held by the emptyDesired brake
  await store.applyPersonEvent('default', { email: 'bystander@example.com', status: 'active', attributes: { department: 'Engineering' } }, new Date(Date.now() - 7_200_000).toISOString());
});

afterAll(async () => {
  await app?.stop();
  await api?.close();
  await emulator?.close();
  ddb?.destroy();
});

interface Res {
  status: number;
  body: Record<string, unknown> & { Resources?: Record<string, unknown>[] };
  headers: Headers;
}

async function scim(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, url = base): Promise<Res> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Res['body']) : {}, headers: res.headers };
}

const uniq = () => randomUUID().slice(0, 8);
const newUser = (userName = `user.${uniq()}@example.com`, extra: Record<string, unknown> = {}) => ({
  schemas: [USER_URN, ENTERPRISE],
  userName,
  name: { givenName: 'Jane', familyName: 'Doe' },
  emails: [{ value: userName, type: 'work', primary: true }],
  active: true,
  ...extra,
});
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_URN], Operations });

async function idle(): Promise<void> {
  for (let i = 0; i < 600 && app.queue.size > 0; i++) await new Promise((r) => setTimeout(r, 25));
  expect(app.queue.size).toBe(0);
}
const inviteOf = (email: string) => emulator.invites(DEFAULT_ID, DEFAULT_ID).find((i) => i.email.toLowerCase() === email.toLowerCase());

describe('SCIM on serve: the story', () => {
  it('provision → assign group → deactivate → reactivate → delete, checking Losant invites at each step', async () => {
    const email = `story.${uniq()}@example.com`;
    // provision: no group yet, no rule matches (department is not Engineering)
    const created = await scim('POST', '/Users', newUser(email, { [ENTERPRISE]: { department: 'Sales' } }));
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    await idle();
    expect(inviteOf(email)).toBeUndefined();

    // assign group Losant-Admins → invited as admin
    const group = await scim('POST', '/Groups', { schemas: [GROUP_URN], displayName: `Losant-Admins`, members: [{ value: id }] });
    expect(group.status).toBe(201);
    await idle();
    expect(inviteOf(email)?.role).toBe('admin');
    const me = await scim('GET', `/Users/${id}`);
    expect(me.body.groups).toEqual([expect.objectContaining({ value: group.body.id, display: 'Losant-Admins' })]);

    // deactivate (Okta's PATCH) → the pending invite is revoked, the user stays readable
    const off = await scim('PATCH', `/Users/${id}`, patch({ op: 'replace', value: { active: false } }));
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    await idle();
    expect(inviteOf(email)).toBeUndefined();
    expect((await scim('GET', `/Users/${id}`)).body.active).toBe(false);

    // reactivate → invited again
    expect((await scim('PATCH', `/Users/${id}`, patch({ op: 'Replace', path: 'active', value: 'True' }))).status).toBe(200);
    await idle();
    expect(inviteOf(email)?.role).toBe('admin');

    // in two more groups: `groups` is a list, a rule matches when any element does (still admin: first rule wins)
    const viewers = await scim('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'Losant-Viewers', members: [{ value: id }] });
    const other = await scim('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'Other-Team', members: [{ value: id }] });
    await idle();
    expect(inviteOf(email)?.role).toBe('admin');
    const people = (await store.listPeople()).filter((p) => p.email === email);
    expect(people.map((p) => [...(p.attributes.groups ?? [])].sort())).toEqual([['Losant-Admins', 'Losant-Viewers', 'Other-Team']]);

    // removed from Losant-Admins (Entra's form) → Losant-Viewers decides: the pending invite's role is fixed to view
    const removed = await scim('PATCH', `/Groups/${String(group.body.id)}`, patch({ op: 'Remove', path: `members[value eq "${id}"]` }));
    expect(removed.status).toBe(200);
    await idle();
    expect(inviteOf(email)?.role).toBe('view');

    // the Losant-Viewers group deleted → no Losant-* group, Sales → revoked
    expect((await scim('DELETE', `/Groups/${String(viewers.body.id)}`)).status).toBe(204);
    await idle();
    expect(inviteOf(email)).toBeUndefined();
    await scim('DELETE', `/Groups/${String(other.body.id)}`);
    expect((await scim('PATCH', `/Groups/${String(group.body.id)}`, patch({ op: 'add', path: 'members', value: [{ value: id }] }))).status).toBe(200);
    await idle();
    expect(inviteOf(email)?.role).toBe('admin');

    // delete → 204, then 404; the invite is revoked; the group no longer lists the user
    expect((await scim('DELETE', `/Users/${id}`)).status).toBe(204);
    expect((await scim('GET', `/Users/${id}`)).status).toBe(404);
    await idle();
    expect(inviteOf(email)).toBeUndefined();
    expect((await scim('GET', `/Groups/${String(group.body.id)}`)).body.members ?? []).toEqual([]);
    const runs = await store.listRuns({ limit: 20 });
    expect(runs.some((r) => r.trigger === 'scim')).toBe(true);
    expect(log.lines.join('\n')).not.toContain(email);
    expect(log.lines.join('\n')).not.toContain(TOKEN);
    await scim('DELETE', `/Groups/${String(group.body.id)}`);
  });

  it('a newer SCIM deactivation wins over an older active roster record of the same employee', async () => {
    const email = `roster.${uniq()}@example.com`;
    const employeeId = `E-${uniq()}`;
    await store.applyPersonEvent('default', { email, employeeId, status: 'active', attributes: { department: 'Engineering' } }, new Date(Date.now() - 3_600_000).toISOString());
    const created = await scim('POST', '/Users', newUser(email, { [ENTERPRISE]: { employeeNumber: employeeId, department: 'Engineering' } }));
    expect(created.status).toBe(201);
    await idle();
    expect(inviteOf(email)?.role).toBe('edit');
    expect((await scim('PATCH', `/Users/${String(created.body.id)}`, patch({ op: 'replace', value: { active: false } }))).status).toBe(200);
    await idle();
    // the roster still says active, but the SCIM record is newer: not invited, the invite revoked
    expect(inviteOf(email)).toBeUndefined();
    const people = (await store.listPeople()).filter((p) => p.email === email);
    expect(people.map((p) => [p.source, p.status]).sort()).toEqual([
      ['default', 'active'],
      ['scim', 'terminated'],
    ]);
    expect(people.find((p) => p.source === 'scim')?.identity).toBe(`scim:${String(created.body.id)}`);
  });
});

describe('SCIM on serve: what the IdPs require', () => {
  it('create: 201, a stable case-sensitive id, meta (resourceType, created, lastModified, location, version), Location and ETag', async () => {
    const res = await scim('POST', '/Users', newUser());
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/scim+json');
    const meta = res.body.meta as Record<string, string>;
    expect(meta).toEqual({ resourceType: 'User', created: expect.any(String), lastModified: meta.created, location: `${base}/Users/${String(res.body.id)}`, version: 'W/"1"' });
    expect(res.headers.get('location')).toBe(meta.location);
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(res.body.schemas).toContain(USER_URN);
    const again = await scim('GET', `/Users/${String(res.body.id)}`);
    expect(again.body.id).toBe(res.body.id);
    const flipped = String(res.body.id).replace(/[a-z]/, (c) => c.toUpperCase());
    if (flipped !== res.body.id) expect((await scim('GET', `/Users/${flipped}`)).status).toBe(404);
  });

  it('an existing userName (any case) is 409 uniqueness; after DELETE the same userName makes a new user', async () => {
    const userName = `Dup.${uniq()}@Example.com`;
    const first = await scim('POST', '/Users', newUser(userName));
    const dup = await scim('POST', '/Users', newUser(userName.toLowerCase()));
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ schemas: [ERROR_URN], status: '409', scimType: 'uniqueness', detail: expect.any(String) });
    expect((await scim('DELETE', `/Users/${String(first.body.id)}`)).status).toBe(204);
    const second = await scim('POST', '/Users', newUser(userName));
    expect(second.status).toBe(201);
    expect(second.body.id).not.toBe(first.body.id);
  });

  it('filters eq on userName (case-insensitive), externalId, emails.value, id, combined with and; paging; attributes / excludedAttributes', async () => {
    const tag = uniq();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await scim('POST', '/Users', newUser(`f${i}.${tag}@example.com`, { externalId: `ext-${tag}-${i}`, title: i === 2 ? 'Boss' : 'Dev' }));
      ids.push(String(r.body.id));
    }
    const q = async (filter: string, extra = '') => scim('GET', `/Users?filter=${encodeURIComponent(filter)}${extra}`);
    const byName = await q(`userName eq "F1.${tag.toUpperCase()}@EXAMPLE.COM"`);
    expect(byName.body).toMatchObject({ schemas: [LIST_URN], totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(byName.body.Resources?.[0]?.id).toBe(ids[1]);
    expect((await q(`externalId eq "ext-${tag}-2"`)).body.Resources?.map((r) => r.id)).toEqual([ids[2]]);
    expect((await q(`emails.value eq "f0.${tag}@example.com"`)).body.Resources?.map((r) => r.id)).toEqual([ids[0]]);
    expect((await q(`emails[type eq "work"].value eq "f0.${tag}@example.com"`)).body.Resources?.map((r) => r.id)).toEqual([ids[0]]);
    expect((await q(`id eq "${ids[2]}"`)).body.Resources?.map((r) => r.id)).toEqual([ids[2]]);
    expect((await q(`userName eq "f2.${tag}@example.com" and title eq "Dev"`)).body.totalResults).toBe(0);
    expect((await q(`userName eq "nobody.${tag}@example.com"`)).body).toMatchObject({ totalResults: 0, itemsPerPage: 0, Resources: [] });
    const sw = await q(`userName sw "f" and userName ew "${tag}@example.com"`, '&startIndex=2&count=1');
    expect(sw.body).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    const only = await q(`userName eq "f0.${tag}@example.com"`, '&attributes=userName');
    expect(Object.keys(only.body.Resources?.[0] ?? {}).sort()).toEqual(['id', 'meta', 'schemas', 'userName']);

    const members = ids.map((value) => ({ value }));
    const g = await scim('POST', '/Groups', { schemas: [GROUP_URN], displayName: `Team-${tag}`, members });
    const gl = await scim('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "team-${tag}"`)}&excludedAttributes=members`);
    expect(gl.body.totalResults).toBe(1);
    expect(gl.body.Resources?.[0]).toMatchObject({ id: g.body.id, displayName: `Team-${tag}` });
    expect(gl.body.Resources?.[0]).not.toHaveProperty('members');
    expect((await scim('GET', `/Groups/${String(g.body.id)}`)).body.members).toHaveLength(3);
  });

  it('count is capped at 200, advertised in ServiceProviderConfig; ResourceTypes and Schemas answer', async () => {
    const spc = await scim('GET', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.body).toMatchObject({ patch: { supported: true }, bulk: { supported: false }, filter: { supported: true, maxResults: 200 }, etag: { supported: true } });
    const page = await scim('GET', '/Users?count=5000');
    expect(page.status).toBe(200);
    expect(page.body.itemsPerPage).toBeLessThanOrEqual(200);
    expect((await scim('GET', '/ResourceTypes')).body.Resources?.map((r) => r.name).sort()).toEqual(['Group', 'User']);
    expect((await scim('GET', '/Schemas')).body.Resources?.map((r) => r.id)).toEqual(expect.arrayContaining([USER_URN, GROUP_URN, ENTERPRISE]));
  });

  it('PATCH: op in any case, with and without path, emails[type eq "work"].value, enterprise paths; PUT replaces; If-Match → 412', async () => {
    const email = `p.${uniq()}@example.com`;
    const r = await scim('POST', '/Users', newUser(email));
    const id = String(r.body.id);
    const a = await scim('PATCH', `/Users/${id}`, patch({ op: 'Add', path: 'title', value: 'Engineer' }, { op: 'REPLACE', value: { displayName: 'Jane D' } }));
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ title: 'Engineer', displayName: 'Jane D' });
    const newEmail = `p2.${uniq()}@example.com`;
    const b = await scim('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'emails[type eq "work"].value', value: newEmail }, { op: 'replace', path: `${ENTERPRISE}:department`, value: 'Engineering' }));
    expect(b.status).toBe(200);
    expect(b.body.emails).toEqual([expect.objectContaining({ value: newEmail, type: 'work' })]);
    expect(b.body[ENTERPRISE]).toMatchObject({ department: 'Engineering' });
    expect((await scim('PATCH', `/Users/${id}`, patch({ op: 'remove', path: 'title' }))).body).not.toHaveProperty('title');
    expect(b.headers.get('etag')).toBe('W/"3"');
    const stale = await scim('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'title', value: 'x' }), { 'if-match': 'W/"1"' });
    expect(stale.status).toBe(412);
    const put = await scim('PUT', `/Users/${id}`, newUser(email, { title: 'CTO' }), { 'if-match': 'W/"4"' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ title: 'CTO', userName: email });
    expect(put.body).not.toHaveProperty('displayName');
    const bad = await scim('PATCH', `/Users/${id}`, { Operations: [{ op: 'replace', path: 'title', value: 'x' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.schemas).toEqual([ERROR_URN]);
    const immutable = await scim('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'id', value: 'x' }));
    expect([immutable.status, immutable.body.scimType]).toEqual([400, 'mutability']);
  });

  it('errors: unknown filter → 400 invalidFilter; unknown id → 404; SCIM Error schema with status as a string', async () => {
    const f = await scim('GET', `/Users?filter=${encodeURIComponent('userName xx "a"')}`);
    expect(f.status).toBe(400);
    expect(f.body).toMatchObject({ schemas: [ERROR_URN], status: '400', scimType: 'invalidFilter' });
    const nf = await scim('GET', '/Users/does-not-exist');
    expect(nf.body).toMatchObject({ schemas: [ERROR_URN], status: '404' });
    const noEmail = await scim('POST', '/Users', { schemas: [USER_URN], userName: `not-an-email-${uniq()}` });
    expect([noEmail.status, String(noEmail.body.detail)]).toEqual([400, expect.stringContaining('emails')]);
  });

  it('auth: missing or wrong bearer → 401 SCIM error saying nothing about users; a second SCIM_TOKEN works', async () => {
    const res = await fetch(`${base}/Users?filter=${encodeURIComponent('userName eq "x@example.com"')}`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(body).toEqual({ schemas: [ERROR_URN], status: '401', detail: expect.any(String) });
    expect(String(body.detail)).not.toMatch(/user|x@example/i);
    const wrong = await scim('GET', '/Users', undefined, { authorization: `Bearer ${TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect((await scim('GET', '/Users', undefined, { authorization: `Bearer ${SECOND_TOKEN}` })).status).toBe(200);
  });

  it('media types and size: application/json accepted, text/plain 415, bodies over 256 KiB 413', async () => {
    const json = await scim('POST', '/Users', newUser(), { 'content-type': 'application/json; charset=utf-8' });
    expect(json.status).toBe(201);
    expect((await scim('POST', '/Users', newUser(), { 'content-type': 'text/plain' })).status).toBe(415);
    const big = await scim('POST', '/Users', newUser(undefined, { title: 'x'.repeat(300 * 1024) }));
    expect([big.status, big.body.status]).toEqual([413, '413']);
    // the cap is 256 KiB exactly: one byte over is 413; at the cap the body is read (and refused for its title)
    const sized = (bytes: number) => {
      const body = JSON.stringify(newUser(undefined, { title: '' }));
      return body.replace('"title":""', `"title":"${'x'.repeat(bytes - body.length)}"`);
    };
    expect((await scim('POST', '/Users', sized(256 * 1024 + 1))).status).toBe(413);
    const atCap = await scim('POST', '/Users', sized(256 * 1024));
    expect([atCap.status, atCap.body.scimType]).toEqual([400, 'invalidValue']);
  });

  it('serve without SCIM tokens answers /scim/v2 with a 404 SCIM error', async () => {
    const off = startServeApp({ config: parseSyncConfig(CONFIG), api, store, clock: { now: () => Date.now() }, log, webhookSecret: WEBHOOK_KEY });
    try {
      const { port } = await off.listen(0, '127.0.0.1');
      const res = await scim('GET', '/Users', undefined, {}, `http://127.0.0.1:${port}/scim/v2`);
      expect([res.status, res.body.status, res.headers.get('content-type')]).toEqual([404, '404', 'application/scim+json']);
    } finally {
      await off.stop();
    }
  });

  it("a source whose via leaves out scim is refused 403, nothing stored", async () => {
    const table = uniqueTableName('scim-403');
    await createTableIfMissing(ddb, table);
    const other = await startApp({ ...CONFIG, sources: { scim: { via: ['webhook'] } } }, table);
    try {
      const res = await scim('POST', '/Users', newUser(), {}, other.base);
      expect([res.status, res.body.status]).toEqual([403, '403']);
      expect((await scim('GET', '/Users', undefined, {}, other.base)).body.totalResults).toBe(0);
    } finally {
      await other.app.stop();
    }
  });
});
