// SCIM groups past one item's worth of members, over real HTTP (serve's app) on DynamoDB Local: a group's
// members are group-member items, so a group grows past the ~400 KB a document item can hold (the landed
// version answered 500 from ~4 000 members of this size on, and the IdP retried forever). A group the landed
// version's `serve` (commit LANDED, extracted with `git archive`) stored keeps its members and moves them to
// items on its next write. An answer past what a Lambda can send: a PATCH answers 204, a read 400 tooMany.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { scimStoreOf } from '../../functions/state/scim-store.ts';
import { mapLimit } from '../../functions/state/concurrency.ts';
import { keys } from '../../functions/state/keys.ts';
import { dynamoEndpoint, localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { GROUP_URN, PATCH_URN, USER_URN, scimClient, startScimServe, type ScimServe } from '../helpers/scim-http.ts';
import { memoryLog } from '../helpers/sync-harness.ts';

/** The commit before group members moved out of the group's document ("the landed version" of the SCIM store). */
const LANDED = '3d45eec';
const ROOT = join(import.meta.dirname, '../..');
const TOKEN = randomBytes(24).toString('base64url');
const CONFIG = { targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' }] }], scim: { debounceSeconds: 900 } };
/** 4 500 members of ~105 bytes each as stored: ~470 KB of members, more than one DynamoDB item holds. */
const MEMBERS = 4500;
const BATCH = 900;

let emulator: RunningEmulator;
let ddb: DynamoDBClient;
let api: LosantClient;
const log = memoryLog();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  ddb = localDynamoClient();
  api = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN, log });
});

afterAll(async () => {
  await api?.close();
  await emulator?.close();
  ddb?.destroy();
});

async function countPk(table: string, pk: string): Promise<number> {
  const out = await ddb.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } }, Select: 'COUNT', ConsistentRead: true }));
  return out.Count ?? 0;
}

async function storedDoc(table: string, source: string, id: string): Promise<{ doc: string; membersApart: boolean }> {
  const out = await ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: keys.scimResource(source, 'Group', id).pk }, sk: { S: id } }, ConsistentRead: true }));
  return { doc: out.Item?.doc?.S ?? '', membersApart: out.Item?.membersApart?.BOOL === true };
}

const memberValues = (body: Record<string, unknown>): string[] => ((body.members as { value: string }[] | undefined) ?? []).map((m) => m.value);

describe('a SCIM group larger than one item', () => {
  let serve: ScimServe;
  let table: string;
  const ids: string[] = [];

  beforeAll(async () => {
    table = uniqueTableName('scim-big-group');
    await createTableIfMissing(ddb, table);
    serve = await startScimServe({ ddb, api, tableName: table, config: CONFIG, tokens: TOKEN, log });
    const scim = scimStoreOf(serve.store);
    const made = await mapLimit(Array.from({ length: MEMBERS }, (_, i) => i), 32, (i) => scim.create('scim', 'User', { userName: `big${i}@example.com`, emails: [{ value: `big${i}@example.com`, primary: true }], active: true }));
    ids.push(...made.map((r) => r.id));
  }, 180_000);

  afterAll(async () => {
    await serve?.app.stop();
  });

  it(`takes ${MEMBERS} members in PATCHes of ${BATCH}, reads them back in order, removes them one by one and with the group`, async () => {
    const call = scimClient(serve.base, TOKEN);
    const created = await call('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'All staff' });
    expect(created.status).toBe(201);
    const gid = created.body.id as string;
    const display = (i: number): string => `Member number ${String(i).padStart(5, '0')} of the all-staff group, Engineering, Berlin office`;
    for (let i = 0; i < MEMBERS; i += BATCH) {
      const patched = await call('PATCH', `/Groups/${gid}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: ids.slice(i, i + BATCH).map((value, k) => ({ value, display: display(i + k) })) }] });
      expect({ at: i, status: patched.status }).toEqual({ at: i, status: 200 });
      expect(memberValues(patched.body)).toHaveLength(i + BATCH);
    }
    const got = await call('GET', `/Groups/${gid}`);
    expect(got.status).toBe(200);
    expect(memberValues(got.body)).toEqual(ids);
    expect((got.body.members as { display: string }[])[MEMBERS - 1]!.display).toBe(display(MEMBERS - 1));
    // as the landed version stored them (no $ref): more than the 400 KB one item holds
    expect(JSON.stringify((got.body.members as Record<string, unknown>[]).map(({ $ref: _ref, ...m }) => m)).length).toBeGreaterThan(400 * 1024);
    // the document item stays small: the members are items of their own
    const stored = await storedDoc(table, 'scim', gid);
    expect(stored.membersApart).toBe(true);
    expect(stored.doc.length).toBeLessThan(1024);
    expect(await countPk(table, keys.scimGroupMemberPk('scim', gid))).toBe(MEMBERS);
    // Entra's and Okta's list of groups without members; a user's groups
    const listed = await call('GET', `/Groups?filter=${encodeURIComponent('displayName eq "All staff"')}&excludedAttributes=members`);
    expect(listed.body.totalResults).toBe(1);
    expect(listed.body.Resources![0]!.members).toBeUndefined();
    const user = await call('GET', `/Users/${ids[7]}`);
    expect((user.body.groups as { value: string }[]).map((g) => g.value)).toEqual([gid]);
    // remove one (Okta's form), delete a user (it leaves every group), then the group itself
    const removed = await call('PATCH', `/Groups/${gid}`, { schemas: [PATCH_URN], Operations: [{ op: 'remove', path: `members[value eq "${ids[0]}"]` }] });
    expect(removed.status).toBe(200);
    expect((await call('DELETE', `/Users/${ids[1]}`)).status).toBe(204);
    const after = await call('GET', `/Groups/${gid}`);
    expect(memberValues(after.body)).toEqual(ids.slice(2));
    expect(await countPk(table, keys.scimGroupMemberPk('scim', gid))).toBe(MEMBERS - 2);
    expect((await call('DELETE', `/Groups/${gid}`)).status).toBe(204);
    expect(await countPk(table, keys.scimGroupMemberPk('scim', gid))).toBe(0);
    expect((await call('GET', `/Users/${ids[7]}`)).body.groups ?? []).toEqual([]);
  }, 240_000);
});

describe('an answer larger than a Lambda can send', () => {
  it('a PATCH answers 204 with its ETag; a read answers 400 tooMany unless it leaves the members out', async () => {
    const table = uniqueTableName('scim-big-answer');
    await createTableIfMissing(ddb, table);
    // the cap made small (20 KB) so that 300 members pass it; the stage's is MAX_SCIM_ANSWER_BYTES (4 MB)
    const serve = await startScimServe({ ddb, api, tableName: table, config: CONFIG, tokens: TOKEN, log, maxAnswerBytes: 20 * 1024 });
    try {
      const call = scimClient(serve.base, TOKEN);
      const small = await call('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'Small', members: [{ value: 'u-1' }] });
      expect(small.status).toBe(201);
      const created = await call('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'Big' });
      const gid = created.body.id as string;
      const values = Array.from({ length: 300 }, (_, i) => `member-${String(i).padStart(4, '0')}`);
      const patched = await call('PATCH', `/Groups/${gid}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: values.map((value) => ({ value, display: `Person ${value}` })) }] });
      expect(patched.status).toBe(204);
      expect(patched.headers.get('etag')).toBe('W/"2"');
      expect(patched.body).toEqual({});
      // stored all the same
      expect(await countPk(table, keys.scimGroupMemberPk('scim', gid))).toBe(300);
      const read = await call('GET', `/Groups/${gid}`);
      expect(read.status).toBe(400);
      expect(read.body.scimType).toBe('tooMany');
      expect(String(read.body.detail)).toMatch(/more than 20480: ask with excludedAttributes=members/);
      const lean = await call('GET', `/Groups/${gid}?excludedAttributes=members`);
      expect(lean.status).toBe(200);
      expect(lean.body.displayName).toBe('Big');
      expect((await call('GET', '/Groups')).status).toBe(400);
      expect((await call('GET', '/Groups?excludedAttributes=members')).body.totalResults).toBe(2);
      // a small group's PATCH still answers 200 with the group
      const smallPatch = await call('PATCH', `/Groups/${small.body.id as string}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: [{ value: 'u-2' }] }] });
      expect(smallPatch.status).toBe(200);
      expect(memberValues(smallPatch.body)).toEqual(['u-1', 'u-2']);
    } finally {
      await serve.app.stop();
    }
  }, 60_000);
});

function landedServe(tree: string, table: string, config: string) {
  const child = spawn(process.execPath, [join(tree, 'bin/invite-sync.js'), 'serve', '--config', config, '--port', '0'], {
    env: {
      PATH: process.env.PATH ?? '',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      LOSANT_API_URL: emulator.url,
      LOSANT_API_TOKEN: DEFAULT_TOKEN,
      DYNAMODB_ENDPOINT: dynamoEndpoint(),
      STATE_TABLE: table,
      WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
      SCIM_TOKEN: TOKEN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`landed serve not ready: ${err}`)), 60_000);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`landed serve exited ${code}: ${err}`)); });
    child.stdout.on('data', () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`${m[1]!}/scim/v2`);
      }
    });
  });
  const stop = () => new Promise<void>((resolve) => { child.on('exit', () => resolve()); child.kill('SIGTERM'); });
  return { url, stop };
}

describe('a group the landed version stored', () => {
  let tree = '';
  beforeAll(async () => {
    tree = await mkdtemp(join(tmpdir(), 'invite-sync-landed-scim-'));
    // fails loudly (no skip) when the checkout lacks the commit: the test needs the repository's history
    execFileSync('sh', ['-c', `git -C "${ROOT}" archive ${LANDED} | tar -x -C "${tree}"`], { stdio: ['ignore', 'ignore', 'inherit'] });
    await symlink(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  }, 60_000);
  afterAll(async () => {
    if (tree) await rm(tree, { recursive: true, force: true });
  });

  it('reads its members from its document, moves them to items on its next write, and keeps every user\'s groups', async () => {
    const table = uniqueTableName('scim-landed-group');
    const dir = await mkdtemp(join(tmpdir(), 'landed-scim-'));
    const config = join(dir, 'c.json');
    await writeFile(config, JSON.stringify(CONFIG));
    // the landed serve stores three users and a group of them (members in the group's document)
    const landed = landedServe(tree, table, config);
    const old = scimClient(await landed.url, TOKEN);
    const users: string[] = [];
    for (const n of ['ann', 'bob', 'cy']) {
      const u = await old('POST', '/Users', { schemas: [USER_URN], userName: `${n}@example.com`, emails: [{ value: `${n}@example.com`, primary: true }], active: true });
      expect(u.status).toBe(201);
      users.push(u.body.id as string);
    }
    const g = await old('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'Engineering', members: users.map((value) => ({ value })) });
    expect(g.status).toBe(201);
    const gid = g.body.id as string;
    await landed.stop();
    const seeded = await storedDoc(table, 'scim', gid);
    expect(seeded.membersApart).toBe(false);
    expect(JSON.parse(seeded.doc).members).toHaveLength(3);

    // today's code: reads the members where the landed version put them
    const serve = await startScimServe({ ddb, api, tableName: table, config: CONFIG, tokens: TOKEN, log });
    try {
      const call = scimClient(serve.base, TOKEN);
      const read = await call('GET', `/Groups/${gid}`);
      expect(read.status).toBe(200);
      expect(memberValues(read.body)).toEqual(users);
      expect(read.headers.get('etag')).toBe('W/"1"');
      // its next write moves them to items (and adds a fourth user)
      const dee = await call('POST', '/Users', { schemas: [USER_URN], userName: 'dee@example.com', emails: [{ value: 'dee@example.com', primary: true }], active: true });
      const patched = await call('PATCH', `/Groups/${gid}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: [{ value: dee.body.id }] }] });
      expect(patched.status).toBe(200);
      expect(memberValues(patched.body)).toEqual([...users, dee.body.id]);
      const moved = await storedDoc(table, 'scim', gid);
      expect(moved.membersApart).toBe(true);
      expect(JSON.parse(moved.doc).members).toEqual([]);
      expect(await countPk(table, keys.scimGroupMemberPk('scim', gid))).toBe(4);
      expect(memberValues((await call('GET', `/Groups/${gid}`)).body)).toEqual([...users, dee.body.id]);
      // a user deleted leaves the group; the others keep it in their groups
      expect((await call('DELETE', `/Users/${users[1]}`)).status).toBe(204);
      expect(memberValues((await call('GET', `/Groups/${gid}`)).body)).toEqual([users[0], users[2], dee.body.id]);
      expect(((await call('GET', `/Users/${users[0]}`)).body.groups as { value: string }[]).map((x) => x.value)).toEqual([gid]);
    } finally {
      await serve.app.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
