// SCIM lists at size over real HTTP (serve's app) on DynamoDB Local: 1000 users created through the store API,
// paged with startIndex/count (capped at 200) to the last one; eq filters on userName / externalId / id answered
// from one lookup (counted reads), not by reading the 1000.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { scimStoreOf, type DynamoScimStore } from '../../functions/state/scim-store.ts';
import { mapLimit } from '../../functions/state/concurrency.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { parseServeScimTokens, staticScimAuth } from '../../functions/scim/auth.ts';
import { startServeApp, type ServeApp } from '../../cli/commands/serve.ts';
import { localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { memoryLog } from '../helpers/sync-harness.ts';

const USERS = 1000;
const TOKEN = randomBytes(24).toString('base64url');
let emulator: RunningEmulator;
let ddb: DynamoDBClient;
let api: LosantClient;
let store: DynamoStateStore;
let scimStore: DynamoScimStore;
let app: ServeApp;
let base: string;
const ids: string[] = [];
const log = memoryLog();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  ddb = localDynamoClient();
  const table = uniqueTableName('scim-scale');
  await createTableIfMissing(ddb, table);
  api = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN, log });
  store = new DynamoStateStore({ tableName: table, client: ddb });
  scimStore = scimStoreOf(store);
  const config = parseSyncConfig({ targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' }] }] });
  app = startServeApp({ config, api, store, clock: { now: () => Date.now() }, log, webhookSecret: `whsec_${randomBytes(32).toString('base64')}`, scim: { store: scimStore, auth: staticScimAuth(parseServeScimTokens(TOKEN)) } });
  base = `http://127.0.0.1:${(await app.listen(0, '127.0.0.1')).port}/scim/v2`;
  const n = Array.from({ length: USERS }, (_, i) => i);
  const made = await mapLimit(n, 16, (i) =>
    scimStore.create('scim', 'User', { userName: `u${String(i).padStart(4, '0')}@example.com`, externalId: `x-${i}`, emails: [{ value: `u${i}@example.com`, type: 'work' }], active: i % 10 !== 0 }),
  );
  ids.push(...made.map((r) => r.id));
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await api?.close();
  await emulator?.close();
  ddb?.destroy();
});

async function get(path: string): Promise<{ status: number; body: { totalResults: number; itemsPerPage: number; startIndex: number; Resources: { id: string; userName: string }[] } }> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as never };
}

describe(`SCIM lists over ${USERS} users`, () => {
  it('pages with startIndex/count to the end: every user once, totalResults and itemsPerPage right, count capped at 200', async () => {
    const seen: string[] = [];
    const started = Date.now();
    for (let start = 1; start <= USERS; start += 200) {
      const page = await get(`/Users?startIndex=${start}&count=500`);
      expect(page.status).toBe(200);
      expect(page.body).toMatchObject({ totalResults: USERS, startIndex: start, itemsPerPage: Math.min(200, USERS - start + 1) });
      seen.push(...page.body.Resources.map((r) => r.id));
    }
    expect(new Set(seen).size).toBe(USERS);
    expect(new Set(seen)).toEqual(new Set(ids));
    const past = await get(`/Users?startIndex=${USERS + 1}&count=10`);
    expect(past.body).toMatchObject({ totalResults: USERS, itemsPerPage: 0, Resources: [] });
    log.info('scale: paged', { users: USERS, ms: Date.now() - started });
  });

  it('eq filters on userName, externalId and id read one lookup, not the 1000 users; reads never call Losant', async () => {
    const losantRequests = () => emulator.stats().requests.reduce((n, r) => n + r.count, 0);
    const before = losantRequests();
    for (const filter of ['userName eq "U0777@EXAMPLE.COM"', 'externalId eq "x-777"', `id eq "${ids[777]!}"`]) {
      store.resetStats();
      const res = await get(`/Users?filter=${encodeURIComponent(filter)}`);
      expect(res.body.totalResults, filter).toBe(1);
      expect(res.body.Resources[0]?.id).toBe(ids[777]);
      expect(store.stats().reads, filter).toBeLessThanOrEqual(2);
    }
    expect((await get(`/Users/${ids[1]!}`)).status).toBe(200);
    expect(losantRequests()).toBe(before);
  });

  it('a filter no index answers (active eq false) still checks every user and pages its matches', async () => {
    const res = await get(`/Users?filter=${encodeURIComponent('active eq false')}&count=30`);
    expect(res.body).toMatchObject({ totalResults: USERS / 10, itemsPerPage: 30 });
  });
});
