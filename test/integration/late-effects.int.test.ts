// Late effects: the emulator's postDelayMs over real HTTP + DynamoDB Local + runSync. A POST the client gave up on
// still lands later; invite-sync must not POST that email again in the run, and the next run settles it. The
// second test is issue 12's own: `invite-sync emulator --post-delay-ms 12000` with 20 people, the deployed timeout.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TOKEN } from '../../emulator/index.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { ingestHrEvent } from '../../functions/sync/ingest.ts';
import { LOSANT_REQUEST_TIMEOUT_MS, SETTLE_MS } from '../../functions/sync/ownership.ts';
import { toPerson } from '../../functions/sync/people.ts';
import { runSync } from '../../functions/sync/reconcile.ts';
import { localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { INSTANCE, ORG, memoryLog, person, startHarness, type Harness } from '../helpers/sync-harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let h: Harness | undefined;
let slow: LosantClient | undefined;
afterEach(async () => {
  await slow?.close();
  await h?.close();
  h = undefined;
  slow = undefined;
});

const emails = Array.from({ length: 20 }, (_, i) => `late${i}@example.com`);

async function waitForInvites(harness: Harness, n: number, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  while (harness.emulator.invites(INSTANCE, ORG).length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}

describe('Function: runSync (POSTs whose effect comes after the client timed out)', () => {
  it('returns the emails as failed `ambiguous` without a second POST, and the next run adopts the late invites or invites again', async () => {
    // Arrange: every POST lands and answers after 1200 ms; this client gives up after 300 ms
    h = await startHarness({ emulator: { postDelayMs: 1200 } });
    await h.roster(emails.map((e) => person(e)));
    slow = new LosantClient({ baseUrl: h.emulator.url, token: DEFAULT_TOKEN, log: h.log, requestTimeoutMs: 300 });

    // Act: the first run's POSTs all time out
    const first = await runSync({ ...h.deps, api: slow }, h.config, { mode: 'apply', trigger: 'cli', deadline: Date.now() + 60_000 });
    await waitForInvites(h, 20, 5_000);
    // the emulator counts a POST once it answered (late, to a client that is gone)
    await new Promise((r) => setTimeout(r, 100));
    const postsInFirst = h.posts();
    const landed = h.emulator.invites(INSTANCE, ORG).length;
    // one invite an admin revokes before anyone sees it: for that email nothing is listed on the next run
    h.emulator.revokeInviteByEmail(INSTANCE, ORG, 'late7@example.com');
    // the next run, past SETTLE_SECONDS after the first one ended, with a client that waits long enough
    const clock = { now: () => Date.now() + SETTLE_MS + 60_000 };
    const second = await runSync({ ...h.deps, clock }, h.config, { mode: 'apply', trigger: 'cli', deadline: clock.now() + 60_000 });

    // Assess
    const t1 = first.targets[0]!;
    expect(postsInFirst).toBe(20);
    expect(t1.done.invite).toBe(0);
    expect(t1.failed).toBe(20);
    expect(t1.failures?.map((f) => f.reason)).toEqual(Array.from({ length: 20 }, () => 'ambiguous'));
    expect(t1.failures?.map((f) => f.email).sort()).toEqual([...emails].sort());
    expect(landed).toBe(20);
    const t2 = second.targets[0]!;
    expect(t2.failed).toBe(0);
    expect(t2.done.invite).toBe(1);
    expect(second.complete).toBe(true);
    expect(h.posts()).toBe(21);
    expect(h.emulator.stats().duplicateInvites).toBe(0);
    const invites = h.emulator.invites(INSTANCE, ORG);
    for (const email of emails) expect(invites.filter((i) => i.email === email), email).toHaveLength(1);
  }, 30_000);
});

describe('CLI emulator --post-delay-ms 12000 (past the client\'s 10 s timeout), 20 people', () => {
  it('returns 0 duplicates: no email POSTed twice in the run, and the next run past SETTLE_SECONDS converges', async () => {
    // Arrange: `invite-sync emulator --post-delay-ms 12000` as a child process; the client as deployed (10 s timeout)
    const child = spawn(process.execPath, ['bin/invite-sync.js', 'emulator', '--port', '0', '--post-delay-ms', '12000'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const dynamo = localDynamoClient();
    let api: LosantClient | undefined;
    try {
      const until = Date.now() + 20_000;
      while (!/listening on (http:\/\/\S+)\n/.test(out) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      const url = /listening on (http:\/\/\S+)\n/.exec(out)?.[1];
      if (!url) throw new Error(`the emulator did not start: ${out}`);
      const tableName = uniqueTableName('late12');
      await createTableIfMissing(dynamo, tableName);
      const store = new DynamoStateStore({ tableName, client: dynamo });
      const config = parseSyncConfig({ concurrency: 20, targets: [{ name: 'eng', instanceId: INSTANCE, orgId: ORG, rules: [{ when: {}, role: 'edit' }] }] });
      api = new LosantClient({ baseUrl: url, token: DEFAULT_TOKEN, connections: config.concurrency });
      expect(LOSANT_REQUEST_TIMEOUT_MS).toBeLessThan(12_000);
      const deps = { api, store, clock: { now: () => Date.now() }, log: memoryLog() };
      await ingestHrEvent(deps, { id: 'late12', type: 'roster.snapshot', occurredAt: new Date(Date.now() - 1000).toISOString(), source: 'default', people: emails.map((email) => toPerson({ email })) }, { targets: config.targets });
      const stats = async () => (await (await fetch(`${url}/_emulator/stats`)).json()) as { duplicateInvites: number; requests: { method: string; route: string; count: number }[] };
      const posts = async () => (await stats()).requests.filter((r) => r.method === 'POST' && r.route === '/instances/:instanceId/orgs/:orgId/invites').reduce((n, r) => n + r.count, 0);
      const listed = async () => (await api!.listPending({ instanceId: INSTANCE, orgId: ORG })).map((i) => i.email);

      // Act: run 1 (every POST outlives the client's timeout), wait for the late effects, run 2 past SETTLE_SECONDS
      const first = await runSync(deps, config, { mode: 'apply', trigger: 'cli', deadline: Date.now() + 60_000 });
      const ledgerAfterFirst = await store.getLedger({ instanceId: INSTANCE, orgId: ORG });
      const landBy = Date.now() + 17_000;
      while ((await listed()).length < 20 && Date.now() < landBy) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 200));
      const postsInFirst = await posts();
      const clock = { now: () => Date.now() + SETTLE_MS + 60_000 };
      const second = await runSync({ ...deps, clock }, config, { mode: 'apply', trigger: 'cli', deadline: clock.now() + 60_000 });
      const third = await runSync({ ...deps, clock }, config, { mode: 'plan', trigger: 'cli', deadline: clock.now() + 60_000 });

      // Assess: run 1 — each email POSTed once; those not found by the lookup are `ambiguous` failures, none counted done twice
      const t1 = first.targets[0]!;
      expect(postsInFirst).toBe(20);
      expect(t1.failed).toBeGreaterThan(0);
      expect(t1.done.invite + t1.failed).toBe(20);
      expect(new Set(t1.failures?.map((f) => f.reason))).toEqual(new Set(['ambiguous']));
      // the intent is left for each ambiguous email (the next run claims the late invite with it)
      const ambiguous = new Set(t1.failures?.map((f) => f.email));
      expect(ledgerAfterFirst.filter((e) => ambiguous.has(e.email)).map((e) => e.state)).toEqual([...ambiguous].map(() => 'intent'));
      // run 2 adopts the late invites: no POST, no failure; run 3 has nothing left to do
      const t2 = second.targets[0]!;
      expect(t2).toMatchObject({ failed: 0, done: { invite: 0 }, complete: true });
      expect(await posts()).toBe(20);
      expect(third.targets[0]!.planned).toEqual({ invite: 0, renew: 0, fixRole: 0, revoke: 0, remove: 0 });
      expect((await stats()).duplicateInvites).toBe(0);
      expect((await listed()).sort()).toEqual([...emails].sort());
    } finally {
      await api?.close();
      dynamo.destroy();
      child.kill('SIGTERM');
    }
  }, 60_000);
});
