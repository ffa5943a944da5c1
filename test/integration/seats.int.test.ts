// Seats: a full org (emulator `memberLimit`, real HTTP on 127.0.0.1) + DynamoDB Local + the CLI as a child process.
// Invites past the free seats are skipped as `noSeat` (not a brake, exit code unchanged, no refused POST); plan output
// shows seats used / limit; a converged run is GET org + GET invites + GET members; a token without instanceOrg.get
// says so once and plans without seats. And the leftover of issue 12 item 2: connections opened during an apply stay
// ≤ concurrency + answers lost (each forces a retry on a new connection).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { dynamoEndpoint, uniqueTableName } from '../helpers/dynamo.ts';
import { runCli } from '../helpers/cli.ts';
import { INSTANCE, ORG, person, startHarness, type Harness } from '../helpers/sync-harness.ts';

const ORG_ROUTE = '/instances/:instanceId/orgs/:orgId';
const INVITES_ROUTE = `${ORG_ROUTE}/invites`;
const MEMBERS_ROUTE = `${ORG_ROUTE}/members`;
/** the README's least-privilege list without instanceOrg.get */
const NO_ORG_SCOPES = ['instanceOrgInvites.get', 'instanceOrgInvites.post', 'instanceOrgMembers.get', 'instanceOrgInvite.resendInvite', 'instanceOrgInvite.delete'];

let emulator: RunningEmulator;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'seats-'));
  emulator = await startEmulator({
    port: 0,
    seed: {
      tokens: [
        { token: DEFAULT_TOKEN, scopes: ['all.Instance'] },
        { token: 'no-org-scope', scopes: NO_ORG_SCOPES },
      ],
      instances: [
        {
          id: DEFAULT_ID,
          orgs: [
            {
              id: DEFAULT_ID,
              name: 'Full org',
              memberLimit: 6,
              members: [{ email: 'm1@seats.example', role: 'edit' }, { email: 'm2@seats.example', role: 'view' }],
              invites: [
                // unexpired, not ours: takes a seat
                { email: 'pending@seats.example', role: 'view', inviteDate: '-1d' },
                // expired: listed, but takes no seat
                { email: 'old@seats.example', role: 'view', inviteDate: '-10d' },
              ],
            },
          ],
        },
      ],
    },
  });
});

afterAll(async () => {
  await emulator.close();
});

function envFor(table: string, token = DEFAULT_TOKEN): Record<string, string> {
  return { LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: token, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table };
}

const count = (method: string, route: string, status?: number): number =>
  emulator
    .stats()
    .requests.filter((r) => r.method === method && r.route === route && (status === undefined || r.status === status))
    .reduce((n, r) => n + r.count, 0);

interface JsonTarget {
  skipped: Record<string, number>;
  blocked: string | null;
  failed: number;
  done: { invite: number };
  planned: { invite: number };
  seats?: { limit: number; reserve: number; used: number; free: number; noSeat: number };
  steadyState?: { seats?: { used: number; limit: number } };
  warnings?: { code: string; scope: string }[];
}

describe('CLI: plan and apply into an org with a member limit', () => {
  it('returns the seats in plan output, skips invites past the free seats as noSeat with exit 0 and no refused POST, and converges in 1 + 1 + 1 requests', async () => {
    // Arrange: limit 6, 2 members + 1 unexpired pending, reserve 1 → 2 free seats for 5 new people
    const config = join(dir, 'seats.json');
    await writeFile(config, JSON.stringify({
      targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: { department: 'Engineering' }, role: 'edit' }, { when: {}, role: 'view' }] }],
      limits: { reserveSeats: 1 },
    }));
    const roster = join(dir, 'roster.csv');
    await writeFile(roster, ['email,department', 'eve@seats.example,Sales', 'cid@seats.example,Engineering', 'ann@seats.example,Engineering', 'dan@seats.example,Sales', 'bob@seats.example,Engineering'].join('\n') + '\n');
    const env = envFor(uniqueTableName('seats'));

    // Act
    const plan = await runCli(['plan', '--config', config, '--roster', roster, '--show-skipped'], env);
    emulator.reset();
    const apply = await runCli(['apply', '--config', config, '--roster', roster, '--json'], env);
    const posted = { created: count('POST', INVITES_ROUTE, 201), refused: count('POST', INVITES_ROUTE, 400) };
    emulator.reset();
    const again = await runCli(['apply', '--config', config, '--json'], env);
    const converged = emulator.stats().requests;

    // Assert: plan output (rule 1 first, then email; seats after the plan 5 / 6)
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/\+ invite\s+ann@seats\.example\s+edit/);
    expect(plan.stdout).toMatch(/\+ invite\s+bob@seats\.example\s+edit/);
    expect(plan.stdout).not.toMatch(/\+ invite\s+(cid|dan|eve)@/);
    expect(plan.stdout).toMatch(/^Plan: 2 to invite\.$/m);
    expect(plan.stdout).toMatch(/^After: 2 members, 4 pending \(1 expiring within 7 days\), 0 waiting over 7 days, seats 5 \/ 6\.$/m);
    expect(plan.stdout).toMatch(/skipped noSeat \(3\):\n\s+cid@seats\.example\n\s+dan@seats\.example\n\s+eve@seats\.example/);
    expect(plan.stdout).toMatch(/eng: skipped .*noSeat 3/);
    expect(plan.stdout).toContain('eng: no free seat for 3 (seats 5 / 6, 1 reserved); not sent');
    // apply: exit code unchanged, not a brake, no failed POST
    expect(apply.code, apply.stderr).toBe(0);
    const t = (JSON.parse(apply.stdout) as { targets: JsonTarget[] }).targets[0]!;
    expect(t.blocked).toBeNull();
    expect(t.failed).toBe(0);
    expect(t.done.invite).toBe(2);
    expect(t.skipped.noSeat).toBe(3);
    expect(t.seats).toEqual({ limit: 6, reserve: 1, used: 5, free: 0, noSeat: 3 });
    expect(t.steadyState?.seats).toEqual({ used: 5, limit: 6 });
    expect(posted).toEqual({ created: 2, refused: 0 });
    expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).map((i) => i.email).sort()).toEqual(['ann@seats.example', 'bob@seats.example', 'old@seats.example', 'pending@seats.example']);
    // the next run: nothing sent, still noSeat, exactly GET org + GET invites + GET members
    expect(again.code, again.stderr).toBe(0);
    const t2 = (JSON.parse(again.stdout) as { targets: JsonTarget[] }).targets[0]!;
    expect(t2.planned.invite).toBe(0);
    expect(t2.skipped.noSeat).toBe(3);
    expect(converged).toEqual([
      { method: 'GET', route: ORG_ROUTE, status: 200, count: 1 },
      { method: 'GET', route: INVITES_ROUTE, status: 200, count: 1 },
      { method: 'GET', route: MEMBERS_ROUTE, status: 200, count: 1 },
    ]);
  }, 60_000);

  it('returns one missingScope warning for instanceOrg.get and plans without seats (Losant then refuses the POSTs past the limit)', async () => {
    // Arrange: the org from the test above holds 5 of 6 seats; three people are still waiting
    const config = join(dir, 'no-scope.json');
    await writeFile(config, JSON.stringify({ targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' }] }] }));
    const roster = join(dir, 'waiting.csv');
    await writeFile(roster, ['email,department', 'cid@seats.example,Engineering', 'dan@seats.example,Sales', 'eve@seats.example,Sales'].join('\n') + '\n');
    const env = envFor(uniqueTableName('seatscope'), 'no-org-scope');
    emulator.reset();

    // Act
    const r = await runCli(['apply', '--config', config, '--roster', roster, '--json'], env);

    // Assert
    const t = (JSON.parse(r.stdout) as { targets: JsonTarget[] }).targets[0]!;
    expect(t.warnings).toEqual([{ code: 'missingScope', scope: 'instanceOrg.get' }]);
    expect(t.seats).toBeUndefined();
    expect(t.skipped.noSeat).toBe(0);
    expect(count('GET', ORG_ROUTE, 403)).toBe(1);
    // the emulator's limit: one seat left, the other two POSTs refused with 400
    expect(count('POST', INVITES_ROUTE, 201)).toBe(1);
    expect(count('POST', INVITES_ROUTE, 400)).toBe(2);
    expect(t.done.invite).toBe(1);
    expect(t.failed).toBe(2);
    expect(r.code).toBe(1);
  }, 60_000);
});

describe('Function: runSync apply (connections to Losant)', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('opens at most concurrency TCP connections for 60 invites when no answer is lost', async () => {
    // Arrange
    h = await startHarness({ config: { concurrency: 4 } });
    await h.roster(Array.from({ length: 60 }, (_, i) => person(`calm${i}@example.com`)));

    // Act
    const report = await h.apply();

    // Assert: the three reads before planning and the four workers share four connections
    expect(report.targets[0]?.done.invite).toBe(60);
    expect(h.emulator.connections().opened).toBeLessThanOrEqual(4);
    expect(h.emulator.connections().opened).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('opens at most concurrency + retries TCP connections when answers are lost (each lost answer is retried on a new one)', async () => {
    // Arrange: 10 % of POST answers lost (the socket is destroyed after the effect), concurrency 4
    h = await startHarness({ config: { concurrency: 4 }, emulator: { lostResponseRate: 0.1, faultSeed: 12 } });
    await h.roster(Array.from({ length: 60 }, (_, i) => person(`conn${i}@example.com`)));

    // Act
    const report = await h.apply();

    // Assert
    const lost = h.emulator.stats().requests.filter((r) => r.status === 0).reduce((n, r) => n + r.count, 0);
    const conns = h.emulator.connections();
    expect(report.targets[0]?.done.invite).toBe(60);
    expect(h.emulator.stats().duplicateInvites).toBe(0);
    expect(lost).toBeGreaterThan(0);
    expect(conns.opened).toBeGreaterThan(0);
    expect(conns.opened).toBeLessThanOrEqual(4 + lost);
    // a lost answer's socket may still be closing while its retry opens the next one
    expect(conns.peak).toBeLessThanOrEqual(4 + 1);
    expect(h.emulator.invites(INSTANCE, ORG)).toHaveLength(60);
  }, 60_000);
});
