// A group write that stops after storing the group (the function died, DynamoDB failed) leaves some members'
// people without the change; the IdP retries the same request, whose diff is then empty. Over real HTTP
// (serve's app) on DynamoDB Local, the first attempt on a client that dies after a few writes: the retry
// writes again the people the request names (a rename: every member's), so `groups` is right for all of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { dyingClient, localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { GROUP_URN, PATCH_URN, USER_URN, scimClient, startScimServe, type ScimServe } from '../helpers/scim-http.ts';
import { memoryLog } from '../helpers/sync-harness.ts';

const TOKEN = randomBytes(24).toString('base64url');
const CONFIG = { targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' }] }], scim: { debounceSeconds: 900 } };
const USERS = 12;

let emulator: RunningEmulator;
let ddb: DynamoDBClient;
let api: LosantClient;
let table: string;
let good: ScimServe;
const log = memoryLog();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  ddb = localDynamoClient();
  api = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN, log });
  table = uniqueTableName('scim-retry');
  await createTableIfMissing(ddb, table);
  good = await startScimServe({ ddb, api, tableName: table, config: CONFIG, tokens: TOKEN, log });
});

afterAll(async () => {
  await good?.app.stop();
  await api?.close();
  await emulator?.close();
  ddb?.destroy();
});

/** The `groups` of each user's person, by SCIM id. */
async function groupsOfPeople(ids: readonly string[]): Promise<string[][]> {
  const people = await good.store.listPeople();
  return ids.map((id) => {
    const p = people.find((x) => x.identity === `scim:${id}`);
    const g = p?.attributes.groups;
    return Array.isArray(g) ? [...g] : [];
  });
}

/** The same request sent first through a serve whose DynamoDB client dies after `writes` TransactWriteItems, then through a good one. */
async function stoppedThenRetried(writes: number, path: string, body: unknown): Promise<{ first: number; retry: number }> {
  const dying = dyingClient(writes);
  const bad = await startScimServe({ ddb: dying.client, api, tableName: table, config: CONFIG, tokens: TOKEN, log });
  try {
    const first = (await scimClient(bad.base, TOKEN)('PATCH', path, body)).status;
    await dying.settled();
    const retry = (await scimClient(good.base, TOKEN)('PATCH', path, body)).status;
    return { first, retry };
  } finally {
    await bad.app.stop();
    dying.client.destroy();
  }
}

describe('an IdP retry of a group write that stopped midway', () => {
  it('writes again the people the request names, and every member\'s on a rename', async () => {
    const call = scimClient(good.base, TOKEN);
    const ids: string[] = [];
    for (let i = 0; i < USERS; i++) {
      const u = await call('POST', '/Users', { schemas: [USER_URN], userName: `r${i}@example.com`, emails: [{ value: `r${i}@example.com`, primary: true }], active: true });
      expect(u.status).toBe(201);
      ids.push(u.body.id as string);
    }
    const g = await call('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'Losant-Admins' });
    const gid = g.body.id as string;

    // the group's write and 3 people, then the client dies: the PATCH fails, the retry's diff is empty
    const add = { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }] };
    expect(await stoppedThenRetried(4, `/Groups/${gid}`, add)).toEqual({ first: 500, retry: 200 });
    expect(await groupsOfPeople(ids)).toEqual(ids.map(() => ['Losant-Admins']));

    const rename = { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'displayName', value: 'Losant-Editors' }] };
    expect(await stoppedThenRetried(3, `/Groups/${gid}`, rename)).toEqual({ first: 500, retry: 200 });
    expect(await groupsOfPeople(ids)).toEqual(ids.map(() => ['Losant-Editors']));

    // Okta's remove by filter: the one named leaves the group's people
    const remove = { schemas: [PATCH_URN], Operations: [{ op: 'remove', path: `members[value eq "${ids[0]}"]` }] };
    expect(await stoppedThenRetried(1, `/Groups/${gid}`, remove)).toEqual({ first: 500, retry: 200 });
    expect((await groupsOfPeople(ids))[0]).toEqual([]);
  }, 120_000);
});
