// Issue 12's "Done when", end to end: the emulator answers as the real Losant API does (`_type`/`_links` on, the
// default), its POSTs land only after 15 s (--post-delay-ms 15000: past the client's 10 s timeout), the org is full
// (seed memberLimit) and a member invite-sync invited leaves with policy.removeLeftMembers on. The CLI runs `apply`
// twice as a child process against it and DynamoDB Local; the second run is past SETTLE_SECONDS (libfaketime).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { LOSANT_REQUEST_TIMEOUT_MS, SETTLE_SECONDS } from '../../functions/sync/ownership.ts';
import { dynamoEndpoint, localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { clockAheadEnv, runCli } from '../helpers/cli.ts';

const OWNER = 'owner@real.example';
const LEAVER = 'ann@real.example';
const HIRES = ['hire1@real.example', 'hire2@real.example', 'hire3@real.example', 'hire4@real.example', 'hire5@real.example'];
/** 2 members (the token's admin and the leaver) + 3 invites fill it */
const MEMBER_LIMIT = 5;
// 5 s past the timeout: the lookup after the unanswered POST must still find nothing on a loaded machine
const POST_DELAY_MS = LOSANT_REQUEST_TIMEOUT_MS + 5_000;
const INVITES = '/instances/:instanceId/orgs/:orgId/invites';
const MEMBER = '/instances/:instanceId/orgs/:orgId/members/:userId';
const target = { instanceId: DEFAULT_ID, orgId: DEFAULT_ID };

let emulator: RunningEmulator;
let dir: string;
const table = uniqueTableName('real-api');
const client = localDynamoClient();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'real-api-'));
  emulator = await startEmulator({
    port: 0,
    postDelayMs: POST_DELAY_MS,
    seed: {
      tokens: [{ token: DEFAULT_TOKEN, scopes: ['all.Instance', 'me.get'], userEmail: OWNER }],
      instances: [{ id: DEFAULT_ID, orgs: [{ id: DEFAULT_ID, memberLimit: MEMBER_LIMIT, members: [{ email: OWNER, role: 'admin' }, { email: LEAVER, role: 'edit' }] }] }],
    },
  });
  // what earlier runs left: invite-sync invited ann 30 days ago and saw her accept (ledger `member` with our inviteId)
  await createTableIfMissing(client, table);
  const at = new Date(Date.now() - 30 * 86_400_000).toISOString();
  await new DynamoStateStore({ tableName: table, client }).putLedgerEntries(target, [
    { email: LEAVER, state: 'member', role: 'edit', inviteId: 'a1b2c3d4e5f6a1b2c3d4e5f6', updatedAt: at, invitedAt: at, renewals: 0, runId: 'r-earlier' },
  ]);
});

afterAll(async () => {
  await emulator?.close();
  client.destroy();
});

const count = (method: string, route: string, status?: number): number =>
  emulator
    .stats()
    .requests.filter((r) => r.method === method && r.route === route && (status === undefined || r.status === status))
    .reduce((n, r) => n + r.count, 0);

async function waitForInvites(n: number, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  while (emulator.invites(DEFAULT_ID, DEFAULT_ID).length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
}

interface JsonTarget {
  planned: { invite: number; remove: number };
  done: { invite: number; remove: number };
  failed: number;
  failures?: { email: string; reason: string }[];
  skipped: Record<string, number>;
  blocked: string | null;
  seats?: { limit: number; reserve: number; used: number; free: number; noSeat: number };
  complete: boolean;
}

describe('CLI: apply against Losant-like answers (_links, late POSTs, a full org, a leaver)', () => {
  it('returns 0 duplicate invites: run 1 fails the late POSTs as ambiguous (exit 1) and skips noSeat; run 2 past SETTLE_SECONDS adopts them, removes the leaver, POSTs nothing (exit 0)', async () => {
    // Arrange
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ targets: [{ name: 'eng', ...target, rules: [{ when: {}, role: 'edit' }] }], policy: { removeLeftMembers: true } }));
    const roster1 = join(dir, 'roster1.csv');
    await writeFile(roster1, ['email', LEAVER, ...HIRES].join('\n') + '\n');
    const roster2 = join(dir, 'roster2.csv');
    await writeFile(roster2, ['email', ...HIRES].join('\n') + '\n');
    const env = { LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table };
    const answer = await fetch(`${emulator.url}/instances/${DEFAULT_ID}/orgs/${DEFAULT_ID}/members`, { headers: { authorization: `Bearer ${DEFAULT_TOKEN}` } });
    const members = (await answer.json()) as { _type?: string; _links?: unknown; items: { _type?: string }[] };

    // Act: run 1 — the three POSTs that fit the seats go unanswered within the client's timeout
    const first = await runCli(['apply', '--config', config, '--roster', roster1, '--json'], env);
    await waitForInvites(3, POST_DELAY_MS + 5_000);
    // the emulator counts a POST once it answered (late, to a client that is gone)
    await new Promise((r) => setTimeout(r, 200));
    const postsInFirst = count('POST', INVITES, 201);
    emulator.reset();
    // run 2 — past SETTLE_SECONDS after run 1, HR's roster without ann
    const second = await runCli(['apply', '--config', config, '--roster', roster2, '--json'], { ...env, ...clockAheadEnv(SETTLE_SECONDS + 60) });

    // Assess: the emulator answered as Losant does
    expect(members._type).toBe('instanceOrgMembers');
    expect(members._links).toBeDefined();
    expect(members.items[0]?._type).toBe('instanceOrgMember');
    // run 1: exit 1 (some actions failed), the failures are `ambiguous`, not a brake, 2 hires without a seat
    expect(first.code, first.stderr).toBe(1);
    const t1 = (JSON.parse(first.stdout) as { targets: JsonTarget[] }).targets[0]!;
    expect(postsInFirst).toBe(3);
    expect(t1.blocked).toBeNull();
    expect(t1.done.invite).toBe(0);
    expect(t1.failed).toBe(3);
    // in the order the POSTs gave up (concurrent)
    expect([...(t1.failures ?? [])].sort((a, b) => a.email.localeCompare(b.email))).toEqual(HIRES.slice(0, 3).map((email) => ({ email, reason: 'ambiguous' })));
    expect(t1.skipped.noSeat).toBe(2);
    expect(t1.seats).toEqual({ limit: MEMBER_LIMIT, reserve: 0, used: MEMBER_LIMIT, free: 0, noSeat: 2 });
    expect(t1.skipped.alreadyMember).toBe(1);
    expect(t1.planned.remove).toBe(0);
    // run 2: converged — the late invites adopted, no POST, ann removed, the org still full
    expect(second.code, second.stderr).toBe(0);
    const t2 = (JSON.parse(second.stdout) as { targets: JsonTarget[] }).targets[0]!;
    expect(count('POST', INVITES)).toBe(0);
    expect(t2.failed).toBe(0);
    expect(t2.done).toMatchObject({ invite: 0, remove: 1 });
    expect(t2.skipped).toMatchObject({ noSeat: 2, alreadyPending: 3 });
    expect(t2.seats).toEqual({ limit: MEMBER_LIMIT, reserve: 0, used: MEMBER_LIMIT, free: 0, noSeat: 2 });
    expect(t2.failures).toBeUndefined();
    expect(t2.complete).toBe(true);
    expect(count('DELETE', MEMBER, 200)).toBe(1);
    expect(emulator.members(DEFAULT_ID, DEFAULT_ID).map((m) => m.email)).toEqual([OWNER]);
    // 0 duplicates: one pending invite for each of the three, none for the two without a seat
    expect(emulator.stats().duplicateInvites).toBe(0);
    expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).map((i) => i.email).sort()).toEqual(HIRES.slice(0, 3));
    const ledger = await new DynamoStateStore({ tableName: table, client }).getLedger(target);
    expect(ledger.filter((e) => HIRES.slice(0, 3).includes(e.email)).map((e) => e.state)).toEqual(['sent', 'sent', 'sent']);
    expect(ledger.find((e) => e.email === LEAVER)?.state).toBe('revoked');
  }, 90_000);
});
