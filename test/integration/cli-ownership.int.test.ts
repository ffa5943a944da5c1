// The CLI as users run it (child process, real HTTP to the emulator, DynamoDB Local): ownership is proven,
// hand removals are respected, expired invites of wanted people are adopted, plan predicts apply (issue 11
// items 4, 5, 6, 9), on tables written by today's code and on items in the landed version's shape.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { SETTLE_MS } from '../../functions/sync/ownership.ts';
import { dynamoEndpoint, localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { runCli } from '../helpers/cli.ts';

let emulator: RunningEmulator;
let dir: string;
const doc = () => DynamoDBDocumentClient.from(localDynamoClient());
const iso = (ms: number): string => new Date(ms).toISOString();
const DAY = 86_400_000;
const ORG = { instanceId: DEFAULT_ID, orgId: DEFAULT_ID };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'invite-sync-own-'));
});
// a fresh emulator (its default org) for each test
beforeEach(async () => {
  emulator = await startEmulator({ port: 0 });
});
afterEach(async () => {
  await emulator.close();
});

function freshOrg(): { instanceId: string; orgId: string } {
  return { ...ORG };
}

function envFor(table: string): Record<string, string> {
  return { LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table };
}

async function writeConfig(org: { instanceId: string; orgId: string }, policy: Record<string, unknown> = {}): Promise<string> {
  const file = join(dir, `config-${org.orgId}-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify({ targets: [{ name: 'eng', ...org, rules: [{ when: { department: 'Eng*' }, role: 'edit' }] }], policy }));
  return file;
}

/** rows: [email, department, status?, title?] */
async function writeCsv(rows: [string, string, string?, string?][]): Promise<string> {
  const file = join(dir, `roster-${Math.random().toString(36).slice(2)}.csv`);
  await writeFile(file, ['email,department,status,title', ...rows.map(([e, d, s, t]) => `${e},${d},${s ?? 'active'},${t ?? ''}`)].join('\n') + '\n');
  return file;
}

/** A target of `--json` as these tests read it. */
interface TargetJson {
  planHash?: string;
  actions: { kind: string; email: string; role: string; inviteId?: string }[];
  planned: Record<string, number>;
  done: Record<string, number>;
  skipped: Record<string, number>;
  desired: number;
  blocked: string | null;
  complete: boolean;
}

async function sync(verb: 'plan' | 'apply', config: string, roster: string | undefined, table: string, extra: string[] = []) {
  const r = await runCli([verb, '--config', config, ...(roster ? ['--roster', roster] : []), '--json', ...extra], envFor(table));
  const report = JSON.parse(r.stdout) as { runId: string; targets: TargetJson[] };
  return { code: r.code, stderr: r.stderr, report, t: report.targets[0]! };
}

const actionsOf = (t: TargetJson) => t.actions.map((a) => [a.kind, a.email, a.role, a.inviteId ?? null]);

/** Moves the ledger's invite times of `email` a day back: its invite was sent long enough ago to be listed (past SETTLE_SECONDS). */
async function sentADayAgo(table: string, email: string): Promise<void> {
  const item = (await scan(table)).find((i) => String(i.pk).startsWith('LEDGER#') && i.sk === email)!;
  const dayAgo = iso(Date.now() - DAY);
  await doc().send(new PutCommand({ TableName: table, Item: { ...item, updatedAt: dayAgo, invitedAt: dayAgo } }));
}

async function scan(table: string): Promise<Record<string, unknown>[]> {
  const out = await doc().send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return (out.Items ?? []).sort((a, b) => `${a.pk}/${a.sk}`.localeCompare(`${b.pk}/${b.sk}`));
}

describe('Command: invite-sync plan then apply (plan predicts apply)', () => {
  it('returns the same planHash and actions from plan --roster as from apply --roster, and plan stores only its run record', async () => {
    // Prepare: jane and bob invited; an admin revokes jane's invite; the new roster adds carol (jane unchanged)
    const org = freshOrg();
    const table = uniqueTableName('own');
    const config = await writeConfig(org);
    const first = await sync('apply', config, await writeCsv([['jane@example.com', 'Engineering'], ['bob@example.com', 'Engineering']]), table);
    expect(first.t.done.invite).toBe(2);
    emulator.revokeInviteByEmail(org.instanceId, org.orgId, 'jane@example.com');
    await sentADayAgo(table, 'jane@example.com');
    const roster = await writeCsv([['jane@example.com', 'Engineering'], ['bob@example.com', 'Engineering'], ['carol@example.com', 'Engineering']]);
    const before = (await scan(table)).filter((i) => !String(i.pk).startsWith('RUN'));

    // Act
    const plan = await sync('plan', config, roster, table);
    const after = await scan(table);
    const apply = await sync('apply', config, roster, table);

    // Assess: the same plan, and the plan stored nothing but its run record (mode plan, 30 days)
    expect(plan.t.planHash).toBe(apply.t.planHash);
    expect(actionsOf(plan.t)).toEqual(actionsOf(apply.t));
    expect(actionsOf(apply.t)).toEqual([['invite', 'carol@example.com', 'edit', null]]);
    expect(plan.t.skipped.removedOutsideSync).toBe(1);
    expect(after.filter((i) => !String(i.pk).startsWith('RUN'))).toEqual(before);
    const run = after.find((i) => i.pk === `RUN#${plan.report.runId}` && i.sk === '-')!;
    const ttl = Number(run.expiresAt) - Date.now() / 1000;
    expect((JSON.parse(String(run.body)) as { mode: string }).mode).toBe('plan');
    expect(ttl).toBeGreaterThan(29 * 86_400);
    expect(ttl).toBeLessThan(31 * 86_400);
  });
});

describe('Command: invite-sync apply (hand removals respected for everyone)', () => {
  it('never re-invites a member an admin removed or an invite an admin revoked for an attribute change; does after a re-hire or with --force', async () => {
    // Prepare: mia was a member before invite-sync; jane gets invited
    const org = freshOrg();
    const table = uniqueTableName('own');
    const config = await writeConfig(org);
    emulator.addInvite(org.instanceId, org.orgId, { email: 'mia@example.com', role: 'edit' });
    emulator.acceptInvite(org.instanceId, org.orgId, 'mia@example.com');
    const first = await sync('apply', config, await writeCsv([['jane@example.com', 'Engineering'], ['mia@example.com', 'Engineering']]), table);
    expect([first.t.done.invite, first.t.skipped.alreadyMember]).toEqual([1, 1]);
    emulator.removeMember(org.instanceId, org.orgId, 'mia@example.com');
    emulator.revokeInviteByEmail(org.instanceId, org.orgId, 'jane@example.com');
    await sentADayAgo(table, 'jane@example.com');

    // Act: an attribute change; a forced plan; jane terminated and mia gone from the snapshot; both back
    const changed = await sync('apply', config, await writeCsv([['jane@example.com', 'Engineering', 'active', 'Lead'], ['mia@example.com', 'Engineering', 'active', 'Lead']]), table);
    const forced = await sync('plan', config, undefined, table, ['--force']);
    const gone = await sync('apply', config, await writeCsv([['jane@example.com', 'Engineering', 'terminated'], ['zed@example.com', 'Engineering']]), table);
    const back = await sync('apply', config, await writeCsv([['jane@example.com', 'Engineering'], ['mia@example.com', 'Engineering'], ['zed@example.com', 'Engineering']]), table);

    // Assess
    expect([changed.t.planned.invite, changed.t.skipped.removedOutsideSync]).toEqual([0, 2]);
    expect(actionsOf(forced.t).map(([kind, email]) => `${kind} ${email}`)).toEqual(['invite jane@example.com', 'invite mia@example.com']);
    expect(gone.t.planned.invite).toBe(1);
    expect(actionsOf(back.t).map(([kind, email]) => `${kind} ${email}`)).toEqual(['invite jane@example.com', 'invite mia@example.com']);
    expect(emulator.stats().duplicateInvites).toBe(0);
  });
});

describe('Command: invite-sync apply (expired invites of wanted people adopted)', () => {
  it('renews a hand-made expired invite with the rule\'s role, never revokes it after, and counts a pending one of another role as roleMismatch', async () => {
    // Prepare: carol's invite was made by hand 40 days ago and expired; dave's is pending with role view
    const org = freshOrg();
    const table = uniqueTableName('own');
    const config = await writeConfig(org, { revokeLeft: true, fixRole: true });
    const carol = emulator.addInvite(org.instanceId, org.orgId, { email: 'carol@example.com', role: 'view', inviteDate: iso(Date.now() - 40 * DAY), hasExpired: true });
    emulator.addInvite(org.instanceId, org.orgId, { email: 'dave@example.com', role: 'view', inviteDate: iso(Date.now() - DAY) });

    // Act
    const adopted = await sync('apply', config, await writeCsv([['carol@example.com', 'Engineering'], ['dave@example.com', 'Engineering']]), table);
    const left = await sync('apply', config, await writeCsv([['dave@example.com', 'Engineering']]), table);

    // Assess
    expect(adopted.code).toBe(0);
    expect(actionsOf(adopted.t)).toEqual([['renew', 'carol@example.com', 'edit', carol.id]]);
    expect(adopted.t.done.renew).toBe(1);
    expect([adopted.t.skipped.notOurs, adopted.t.skipped.roleMismatch]).toEqual([1, 1]);
    expect(emulator.invites(org.instanceId, org.orgId).find((i) => i.email === 'carol@example.com')).toMatchObject({ id: carol.id, role: 'edit', hasExpired: false });
    const entry = (await scan(table)).find((i) => String(i.pk).startsWith('LEDGER#') && i.sk === 'carol@example.com');
    expect(entry).toMatchObject({ state: 'sent', adopted: true, inviteId: carol.id, renewals: 1 });
    expect([left.t.planned.revoke, left.t.skipped.notOurs]).toEqual([0, 2]);
    expect(emulator.invites(org.instanceId, org.orgId).map((i) => i.email).sort()).toEqual(['carol@example.com', 'dave@example.com']);
  });
});

describe('Command: invite-sync apply (ownership proven, on items in the landed version\'s shape)', () => {
  it('claims only the invite a crashed run\'s intent can have made, never revokes a hand-made one, converges with 0 duplicates, then brakes emptyDesired', async () => {
    // Prepare: the landed version left a lease (a crashed run, a day ago), intents for kim and jane, a sent entry for lee
    const org = freshOrg();
    const table = uniqueTableName('own');
    await createTableIfMissing(localDynamoClient(), table);
    const config = await writeConfig(org, { revokeLeft: true });
    const now = Date.now();
    const crashed = 'r-20300101T000000-aaaaaaaa';
    const leaseEnd = now - DAY;
    const tk = `${org.instanceId}#${org.orgId}`.toLowerCase();
    const kim = emulator.addInvite(org.instanceId, org.orgId, { email: 'kim@example.com', role: 'edit', inviteDate: iso(leaseEnd - 60_000) });
    const janeByHand = emulator.addInvite(org.instanceId, org.orgId, { email: 'jane@example.com', role: 'view', inviteDate: iso(leaseEnd + SETTLE_MS + 3_600_000) });
    const lee = emulator.addInvite(org.instanceId, org.orgId, { email: 'lee@example.com', role: 'edit', inviteDate: iso(now - 3 * DAY) });
    const put = (Item: Record<string, unknown>) => doc().send(new PutCommand({ TableName: table, Item }));
    await put({ pk: `LEASE#${tk}`, sk: '-', owner: `${crashed}:bbbbbbbb`, leaseExpiresAt: leaseEnd, seq: 3 });
    for (const email of ['kim@example.com', 'jane@example.com']) {
      await put({ pk: `LEDGER#${tk}`, sk: email, email, state: 'intent', role: 'edit', updatedAt: iso(leaseEnd - 90_000), renewals: 0, runId: crashed, personEventAt: iso(now - 5 * DAY) });
    }
    await put({ pk: `LEDGER#${tk}`, sk: 'lee@example.com', email: 'lee@example.com', state: 'sent', role: 'edit', inviteId: lee.id, updatedAt: lee.inviteDate, invitedAt: lee.inviteDate, renewals: 0, runId: 'r-old', personEventAt: iso(now - 5 * DAY) });
    emulator.reset();

    // Act: jane has left; kim and lee are wanted; later the roster matches nobody
    const first = await sync('apply', config, await writeCsv([['kim@example.com', 'Engineering'], ['lee@example.com', 'Engineering']]), table);
    const again = await sync('apply', config, undefined, table);
    const nobody = await sync('apply', config, await writeCsv([['kim@example.com', 'Sales'], ['lee@example.com', 'Sales']]), table);

    // Assess: no revoke of jane's hand-made invite, no second POST for kim, lee untouched
    expect(first.code).toBe(0);
    expect(first.t).toMatchObject({ planned: { invite: 0, renew: 0, fixRole: 0, revoke: 0 }, complete: true });
    expect(emulator.stats().duplicateInvites).toBe(0);
    expect(emulator.stats().requests.filter((r) => r.method !== 'GET')).toEqual([]);
    const items = await scan(table);
    expect(items.find((i) => i.sk === 'kim@example.com')).toMatchObject({ state: 'sent', inviteId: kim.id });
    expect(items.find((i) => i.sk === 'jane@example.com')).toMatchObject({ state: 'intent' });
    expect(items.find((i) => i.pk === `LEASE#${tk}` && i.sk === `END#${crashed}:bbbbbbbb`)).toMatchObject({ endedAt: leaseEnd });
    expect(again.t).toMatchObject({ planned: { invite: 0, renew: 0, fixRole: 0, revoke: 0 }, blocked: null });
    expect(nobody.code).toBe(3);
    expect(nobody.t).toMatchObject({ desired: 0, blocked: 'emptyDesired', done: { revoke: 0 } });
    expect(emulator.invites(org.instanceId, org.orgId).map((i) => i.id).sort()).toEqual([janeByHand.id, kim.id, lee.id].sort());
  });
});
