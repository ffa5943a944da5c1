// chaos --> `invite-sync apply` as a child process, SIGKILLed at seeded points; runSync cut by a deadline
// --> a later clean run invites every desired person exactly once (0 duplicates)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../../emulator/index.ts';
import { DynamoStateStore } from '../../../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../../../functions/state/table-design.ts';
import { dynamoEndpoint, localDynamoClient, uniqueTableName } from '../../helpers/dynamo.ts';
import { INSTANCE, ORG, person, startHarness, type Harness } from '../../helpers/sync-harness.ts';
import { chaosCount, faultFigures, inviteCounts, ledgerDisagreements, seededRandom } from '../../helpers/chaos.ts';
import { clockAheadEnv, runCli } from '../../helpers/cli.ts';
import { SETTLE_MS, SETTLE_SECONDS } from '../../../functions/sync/ownership.ts';
import { runSync } from '../../../functions/sync/reconcile.ts';

const target = { instanceId: DEFAULT_ID, orgId: DEFAULT_ID };
const INVITES_ROUTE = '/instances/:instanceId/orgs/:orgId/invites';
const KILLED_RUNS = chaosCount(4, 10);
const PEOPLE = chaosCount(150, 300);
const CRASH_SEED = 5;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'invite-sync-crash-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function postsSoFar(emulator: RunningEmulator): number {
  return emulator
    .stats()
    .requests.filter((r) => r.method === 'POST' && r.route === INVITES_ROUTE)
    .reduce((n, r) => n + r.count, 0);
}

describe('Command: invite-sync apply, SIGKILLed at random points', () => {
  it('invites every desired person exactly once after the killed runs and one clean run', async () => {
    // Arrange
    const emulator = await startEmulator({ port: 0, latencyMs: 10 });
    const table = uniqueTableName('crash');
    const ddb = localDynamoClient();
    await createTableIfMissing(ddb, table);
    const store = new DynamoStateStore({ tableName: table, client: ddb });
    const config = join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: { department: 'Eng*' }, role: 'edit' }] }],
        leaseSeconds: 10,
        concurrency: 2,
        // a rerun after a crash mid-way through a bulk invite is a "spike" to the fraction brake; not under test here
        limits: { minSizeForFraction: 100_000 },
      }),
    );
    const emails = Array.from({ length: PEOPLE }, (_, i) => `crash${i}@example.com`);
    const roster = join(dir, 'roster.csv');
    await writeFile(roster, ['email,department', ...emails.map((e) => `${e},Engineering`)].join('\n') + '\n');
    const env = { LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table };
    const args = ['apply', '--config', config, '--roster', roster, '--json', '--wait', '15'];
    const random = seededRandom(CRASH_SEED);

    try {
      // Act: killed runs, each at a seeded point: early (startup, ingest, lease) by time, or after k more POSTs
      const kills: string[] = [];
      let midApply = 0;
      for (let run = 0; run < KILLED_RUNS; run++) {
        const missing = PEOPLE - inviteCounts(emulator, target).size;
        const byTime = random() < 0.3 || missing < 2;
        const point = byTime ? Math.round(300 + random() * 3200) : 1 + Math.floor(random() * (missing - 1));
        const before = postsSoFar(emulator);
        const r = await runCli(args, env, byTime ? { killAfterMs: point } : { killWhen: () => postsSoFar(emulator) - before >= point });
        const posted = postsSoFar(emulator) - before;
        if (r.signal === 'SIGKILL' && posted > 0) midApply++;
        kills.push(`${byTime ? `at ${point} ms` : `after ${point} POSTs`}: ${r.signal ?? `exit ${r.code}`}, ${posted} POSTs`);
      }
      // the clean run comes once the killed runs' intents settled (SETTLE_SECONDS after their leases ran out)
      const final = await runCli(args, { ...env, ...clockAheadEnv(SETTLE_SECONDS + 30) });

      // Assess
      const figures = faultFigures(emulator);
      const counts = inviteCounts(emulator, target);
      console.log(`[chaos] crash loop: ${PEOPLE} people, kills [${kills.join('; ')}], then a clean run (${final.ms} ms); POSTs ${JSON.stringify(figures.posts)}, duplicates ${figures.duplicateInvites}`);
      expect(midApply).toBeGreaterThan(0);
      expect(final.code).toBe(0);
      const report = JSON.parse(final.stdout) as { complete: boolean; targets: { desired: number }[] };
      expect(report.complete).toBe(true);
      expect(report.targets[0]?.desired).toBe(PEOPLE);
      expect([...counts.keys()].sort()).toEqual([...emails].sort());
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(figures.duplicateInvites).toBe(0);
      expect(await ledgerDisagreements(store, emulator, target)).toEqual([]);
    } finally {
      await emulator.close();
      ddb.destroy();
    }
  }, 300_000);
});

describe('Function: runSync (apply) cut short by its deadline', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('reports complete:false with error code deadline, and a later run finishes with no duplicates', async () => {
    // Arrange: 30 ms per answer, 4 at a time: 300 invites take over 2 s; a plan run first warms up
    // connections, so the deadline a few hundred ms after the reads cuts the apply itself
    h = await startHarness({ emulator: { latencyMs: 30 }, config: { concurrency: 4 } });
    const emails = Array.from({ length: 300 }, (_, i) => `late${i}@example.com`);
    await h.roster(emails.map((e) => person(e)));
    const planStarted = Date.now();
    await h.plan();
    const readMs = Date.now() - planStarted;

    // Act
    const cut = await h.apply({ deadline: Date.now() + readMs + 400 });
    const sentByCut = inviteCounts(h.emulator, { instanceId: INSTANCE, orgId: ORG }).size;
    // A POST the deadline cut off in flight (or still queued for one of the `concurrency` connections) may or
    // may not have reached Losant: its intent settles until the cut run's end + SETTLE_SECONDS (ledger.ts).
    // The later run comes after that, as the schedule's next one would; the lease is judged by the store's
    // own clock, so a lease the cut run kept would still make it wait.
    const settled = SETTLE_MS + 1000;
    const later = await runSync({ ...h.deps, clock: { now: () => Date.now() + settled } }, h.config, { mode: 'apply', trigger: 'cli', deadline: Date.now() + settled + 60_000 });

    // Assess
    expect(cut.complete).toBe(false);
    expect(cut.targets[0]?.error?.code).toBe('deadline');
    expect(sentByCut).toBeGreaterThan(0);
    expect(sentByCut).toBeLessThan(300);
    expect(later.complete).toBe(true);
    const counts = inviteCounts(h.emulator, { instanceId: INSTANCE, orgId: ORG });
    expect(counts.size).toBe(300);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(h.emulator.stats().duplicateInvites).toBe(0);
    // the lease was let go at the deadline: the later run did not have to wait for it to expire
    expect(later.targets[0]?.error).toBeUndefined();
  });
});
