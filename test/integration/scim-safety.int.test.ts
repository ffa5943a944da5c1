// SCIM safety over real HTTP (serve's app) on DynamoDB Local with the Losant emulator (issue 15, Deliver 5): SCIM sends
// one request per user, so a mass deactivation is many one-person runs; the brakes add up the changes of the target's
// runs in the last limits.windowMinutes (default 60). SCIM writes are always stored and readable; only the Losant
// actions are held. A 61-minute-old burst of invites is out of the window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { memoryLog } from '../helpers/sync-harness.ts';
import { PATCH_URN, queueIdle, scimClient, startScimServe, USER_URN, type ScimServe } from '../helpers/scim-http.ts';

const TOKEN = randomBytes(24).toString('base64url');
const USERS = 6;
let emulator: RunningEmulator;
let ddb: DynamoDBClient;
let api: LosantClient;
let table: string;
const log = memoryLog();
const clock = { ms: Date.now() };
const running: ScimServe[] = [];

const config = (maxChangesPerRun: number) => ({
  targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' }] }],
  policy: { revokeLeft: true },
  scim: { debounceSeconds: 0 },
  limits: { maxChangesPerRun },
});

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  ddb = localDynamoClient();
  table = uniqueTableName('scim-safety');
  await createTableIfMissing(ddb, table);
  api = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN, log });
});

afterAll(async () => {
  for (const s of running) await s.app.stop();
  await api?.close();
  await emulator?.close();
  ddb?.destroy();
});

const pendingOf = (emails: readonly string[]) => emails.filter((e) => emulator.invites(DEFAULT_ID, DEFAULT_ID).some((i) => i.email.toLowerCase() === e));

describe('SCIM: a mass deactivation sent one user at a time meets the brakes', () => {
  it('one-person runs add up over limits.windowMinutes: the 4th revoke within the hour is held (blocked maxInvitesPerRun), every write stays stored and readable', async () => {
    // Prepare: six SCIM users (and a roster bystander, so the desired set never empties) invited by a stage with the default limits
    const first = await startScimServe({ ddb, api, tableName: table, config: config(500), tokens: TOKEN, log, clock: { now: () => clock.ms } });
    running.push(first);
    await first.store.applyPersonEvent('default', { email: 'bystander@example.com', status: 'active', attributes: {} }, new Date(clock.ms - 7_200_000).toISOString());
    const call = scimClient(first.base, TOKEN);
    const emails = Array.from({ length: USERS }, (_, i) => `leaver${i}.${randomUUID().slice(0, 6)}@example.com`);
    const ids: string[] = [];
    for (const email of emails) {
      const res = await call('POST', '/Users', { schemas: [USER_URN], userName: email, emails: [{ value: email, primary: true }], active: true });
      expect(res.status).toBe(201);
      ids.push(String(res.body.id));
    }
    await queueIdle(first.app);
    expect(pendingOf(emails)).toEqual(emails);
    await first.app.stop();
    running.pop();

    // Act: 61 minutes later (the invites left the window), a stage allowing 3 changes per run; the IdP deactivates
    // the six one request at a time, each planned as its own run (debounceSeconds 0)
    clock.ms += 61 * 60_000;
    const second = await startScimServe({ ddb, api, tableName: table, config: config(3), tokens: TOKEN, log, clock: { now: () => clock.ms } });
    running.push(second);
    const call2 = scimClient(second.base, TOKEN);
    const deactivations: number[] = [];
    for (const id of ids) {
      deactivations.push((await call2('PATCH', `/Users/${id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { active: false } }] })).status);
      await queueIdle(second.app);
      clock.ms += 1_000;
    }

    // Assert: three revokes went out (1, 2, 3 changes in the hour), then each run is held although its own plan is small
    expect(deactivations).toEqual(Array(USERS).fill(200));
    expect(pendingOf(emails)).toEqual(emails.slice(3));
    const runs = (await second.store.listRuns({ limit: 50 })).filter((r) => Date.parse(r.startedAt) > clock.ms - 60 * 60_000);
    const eng = (r: (typeof runs)[number]) => r.targets.find((t) => t.name === 'eng')!;
    const chronological = [...runs].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    expect(chronological.map((r) => [r.trigger, eng(r).planned.revoke, eng(r).done.revoke, eng(r).blocked])).toEqual([
      ['scim', 1, 1, null],
      ['scim', 1, 1, null],
      ['scim', 1, 1, null],
      ['scim', 1, 0, 'maxInvitesPerRun'],
      ['scim', 2, 0, 'maxInvitesPerRun'],
      ['scim', 3, 0, 'maxInvitesPerRun'],
    ]);
    // the writes themselves were never held: every user reads as deactivated, every person is terminated
    for (const id of ids) expect((await call2('GET', `/Users/${id}`)).body.active).toBe(false);
    const people = (await second.store.listPeople()).filter((p) => emails.includes(p.email));
    expect(people.map((p) => p.status)).toEqual(Array(USERS).fill('terminated'));
  });
});
