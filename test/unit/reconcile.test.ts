// test --> reconcileTarget / runSync on MemoryStateStore + the real LosantClient against the emulator
// (in-process HTTP on 127.0.0.1, no DynamoDB): lease, dirty rounds, brakes and approvals, crash repair.
// One clock drives the store, the emulator, the client and the use case; it starts at the real now.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ID, DEFAULT_TOKEN, startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { parseSyncConfig, type SyncConfig } from '../../functions/config/sync-config.schema.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { approveRun, reconcileTarget, runSync, type ReconcileOptions, type SyncDeps } from '../../functions/sync/reconcile.ts';
import type { Log } from '../../functions/sync/ports.ts';
import type { LedgerEntry, Person, TargetRef } from '../../functions/sync/types.ts';
import { MemoryStateStore } from '../helpers/memory-store.ts';
import { SETTLE_MS } from '../../functions/sync/ownership.ts';

const target: TargetRef = { instanceId: DEFAULT_ID, orgId: DEFAULT_ID };
const quiet: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

interface World {
  clock: { ms: number };
  store: MemoryStateStore;
  emulator: RunningEmulator;
  config: SyncConfig;
  deps: SyncDeps;
  /** stores `emails` as source `default`'s people (department Engineering → role edit) */
  roster(emails: string[]): Promise<void>;
  reconcile(opts?: Partial<ReconcileOptions>): ReturnType<typeof reconcileTarget>;
  /** POSTs to the invites collection so far */
  posts(): number;
}

const open: { emulator: RunningEmulator; api: LosantClient }[] = [];

afterEach(async () => {
  for (const { api, emulator } of open.splice(0)) {
    await api.close();
    await emulator.close();
  }
});

/** What a world may change: the real clock instead of the settable one, a POST's late effect, the client's answer budget. */
interface WorldOptions {
  realClock?: boolean;
  postDelayMs?: number;
  maxAnswerBytesInFlight?: number;
}

async function world(limits: Record<string, number> = {}, opts: WorldOptions = {}): Promise<World> {
  const clock = { ms: Date.now() };
  const now = opts.realClock ? () => Date.now() : () => clock.ms;
  const store = new MemoryStateStore({ now });
  const emulator = await startEmulator({ port: 0, now, ...(opts.postDelayMs !== undefined ? { postDelayMs: opts.postDelayMs } : {}) });
  const api = new LosantClient({
    baseUrl: emulator.url,
    token: DEFAULT_TOKEN,
    now,
    ...(opts.maxAnswerBytesInFlight !== undefined ? { maxAnswerBytesInFlight: opts.maxAnswerBytesInFlight } : {}),
  });
  open.push({ emulator, api });
  const config = parseSyncConfig({
    targets: [{ name: 'eng', ...target, rules: [{ when: { department: 'Engineering' }, role: 'edit' }] }],
    limits,
  });
  const deps: SyncDeps = { api, store, clock: { now }, log: quiet, sleep: async (ms) => void (clock.ms += ms) };
  let runs = 0;
  return {
    clock,
    store,
    emulator,
    config,
    deps,
    async roster(emails) {
      const people: Person[] = emails.map((email) => ({ email, status: 'active', attributes: { department: 'Engineering' } }));
      await store.replaceSource('default', people, new Date(clock.ms - 1000).toISOString());
    },
    reconcile(opts = {}) {
      runs += 1;
      return reconcileTarget(deps, config, config.targets[0]!, { mode: 'apply', runId: `r-${runs}`, owner: `owner-${runs}`, deadline: clock.ms + 60_000, ...opts });
    },
    posts() {
      return emulator
        .stats()
        .requests.filter((r) => r.method === 'POST' && r.route === '/instances/:instanceId/orgs/:orgId/invites')
        .reduce((n, r) => n + r.count, 0);
    },
  };
}

const emails = (n: number, prefix = 'p'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com`);
const invitedEmails = (w: World): string[] => w.emulator.invites(target.instanceId, target.orgId).map((i) => i.email).sort();

describe('Function: reconcileTarget (lease)', () => {
  it('returns leaseBusy and sends nothing while another owner holds the lease', async () => {
    // Prepare
    const w = await world();
    await w.roster(emails(3));
    const other = await w.store.acquireLease(target, 'someone-else', 120);

    // Act
    const report = await w.reconcile();

    // Assess
    expect(other).not.toBeNull();
    expect(report.error?.code).toBe('leaseBusy');
    expect(report.complete).toBe(false);
    expect(w.posts()).toBe(0);
    expect(await w.store.acquireLease(target, 'third', 60)).toBeNull();
  });

  it('waits out a busy lease until it expires, then reconciles and lets the lease go', async () => {
    // Prepare: the other holder's lease runs 30 s more; this run may wait 60 s
    const w = await world();
    await w.roster(emails(3));
    await w.store.acquireLease(target, 'crashed-holder', 30);
    const startedAt = w.clock.ms;

    // Act
    const report = await w.reconcile({ waitForLeaseMs: 60_000, deadline: startedAt + 120_000 });

    // Assess
    expect(report.error).toBeUndefined();
    expect(report.complete).toBe(true);
    expect(report.done.invite).toBe(3);
    expect(w.clock.ms - startedAt).toBeGreaterThan(30_000);
    expect(w.clock.ms - startedAt).toBeLessThan(60_000);
    expect(await w.store.acquireLease(target, 'next', 60)).not.toBeNull();
  });

  it('gives up at the end of the wait when the holder keeps the lease', async () => {
    const w = await world();
    await w.roster(emails(2));
    await w.store.acquireLease(target, 'long-holder', 600);
    const startedAt = w.clock.ms;

    const report = await w.reconcile({ waitForLeaseMs: 5_000 });

    expect(report.error?.code).toBe('leaseBusy');
    expect(w.clock.ms - startedAt).toBeGreaterThanOrEqual(5_000);
    expect(w.posts()).toBe(0);
  });

  it('takes no lease in plan mode and writes nothing', async () => {
    const w = await world();
    await w.roster(emails(4));
    await w.store.acquireLease(target, 'someone-else', 120);
    w.store.resetStats();

    const report = await w.reconcile({ mode: 'plan' });

    expect(report.complete).toBe(true);
    expect(report.planned.invite).toBe(4);
    expect(w.posts()).toBe(0);
    expect(w.store.stats().writes).toBe(0);
  });
});

describe('Function: reconcileTarget (dirty rounds)', () => {
  it('reconciles once more when a change lands while it holds the lease, then releases', async () => {
    // Prepare: HR hires someone just as the run is about to let go
    const w = await world();
    await w.roster(emails(3));
    w.store.beforeNext('releaseLease', async () => {
      await w.store.applyPersonEvent('default', { email: 'late@example.com', status: 'active', attributes: { department: 'Engineering' } }, new Date(w.clock.ms).toISOString());
      await w.store.markDirty([target]);
    });

    // Act
    const report = await w.reconcile();

    // Assess
    expect(report.complete).toBe(true);
    expect(report.done.invite).toBe(4);
    expect(report.planned.invite).toBe(4);
    expect(invitedEmails(w)).toEqual(['late@example.com', ...emails(3)].sort());
    expect(w.emulator.stats().duplicateInvites).toBe(0);
    expect(await w.store.acquireLease(target, 'next', 60)).not.toBeNull();
  });

  it('stops reconciling after five rounds of changes landing, and lets the lease go once they stop', async () => {
    // Prepare: a change lands before each of the first six releases (five in the loop, one after it)
    const w = await world();
    await w.roster(emails(1));
    let changes = 0;
    const landChange = async (): Promise<void> => {
      changes += 1;
      await w.store.markDirty([target]);
      if (changes < 6) w.store.beforeNext('releaseLease', landChange);
    };
    w.store.beforeNext('releaseLease', landChange);
    const listed = () => w.emulator.stats().requests.filter((r) => r.method === 'GET' && r.route.endsWith('/members')).reduce((n, r) => n + r.count, 0);

    // Act
    const report = await w.reconcile();

    // Assess
    expect(report.complete).toBe(true);
    expect(report.done.invite).toBe(1);
    expect(listed()).toBe(5);
    expect(changes).toBe(6);
    expect(await w.store.acquireLease(target, 'next', 60)).not.toBeNull();
  });
});

describe('Function: reconcileTarget (brakes and approvals)', () => {
  it('blocks a spike, and an approval of that run releases exactly that plan, once', async () => {
    // Prepare: 4 members; 6 newcomers are more than half the org
    const w = await world({ minSizeForFraction: 4, maxChangeFraction: 0.5 });
    for (const email of emails(4, 'm')) {
      w.emulator.addInvite(target.instanceId, target.orgId, { email, role: 'edit' });
      w.emulator.acceptInvite(target.instanceId, target.orgId, email);
    }
    await w.roster([...emails(4, 'm'), ...emails(6)]);
    const run = (runId: string) => runSync(w.deps, w.config, { mode: 'apply', trigger: 'cli', deadline: w.clock.ms + 60_000, runId });

    // Act
    const blocked = await run('r-blocked');
    const approval = await approveRun(w.store, 'r-blocked');
    const released = await run('r-released');

    // Assess
    expect(blocked.targets[0]).toMatchObject({ blocked: 'maxChangeFraction', complete: false });
    expect(blocked.targets[0]!.done.invite).toBe(0);
    expect(approval.approved).toEqual(['eng']);
    expect(released.targets[0]).toMatchObject({ blocked: null, complete: true });
    expect(released.targets[0]!.done.invite).toBe(6);
    expect(w.posts()).toBe(6);
    expect(await w.store.takeApproval(target, blocked.targets[0]!.planHash!)).toBe(false);
  });

  it('blocks emptyDesired when nobody is desired while our invites are out, however small the org, and an approval releases it', async () => {
    // Prepare: two invites of ours; then the roster matches nobody (revokeLeft would revoke both)
    const w = await world();
    w.config.policy.revokeLeft = true;
    await w.roster(emails(2));
    await w.reconcile();
    await w.store.replaceSource('default', emails(2).map((email) => ({ email, status: 'active', attributes: { department: 'Sales' } })), new Date(w.clock.ms).toISOString());
    const run = (runId: string) => runSync(w.deps, w.config, { mode: 'apply', trigger: 'cli', deadline: w.clock.ms + 60_000, runId });

    // Act
    const blocked = await run('r-empty');
    const approval = await approveRun(w.store, 'r-empty');
    const released = await run('r-empty-released');

    // Assess
    expect(blocked.targets[0]).toMatchObject({ desired: 0, blocked: 'emptyDesired', planned: { revoke: 2 }, done: { revoke: 0 } });
    expect(approval.approved).toEqual(['eng']);
    expect(released.targets[0]).toMatchObject({ blocked: null, done: { revoke: 2 } });
    expect(invitedEmails(w)).toEqual([]);
  });

  it('keeps blocking a changed plan: the approval is bound to the plan hash', async () => {
    const w = await world({ minSizeForFraction: 4, maxChangeFraction: 0.5 });
    for (const email of emails(4, 'm')) {
      w.emulator.addInvite(target.instanceId, target.orgId, { email, role: 'edit' });
      w.emulator.acceptInvite(target.instanceId, target.orgId, email);
    }
    await w.roster([...emails(4, 'm'), ...emails(6)]);
    const first = await w.reconcile();
    await w.store.putApproval(target, first.planHash!, 'r-1');

    await w.roster([...emails(4, 'm'), ...emails(7)]);
    const changed = await w.reconcile();

    expect(first.blocked).toBe('maxChangeFraction');
    expect(changed.blocked).toBe('maxChangeFraction');
    expect(changed.planHash).not.toBe(first.planHash);
    expect(w.posts()).toBe(0);
    expect(await w.store.takeApproval(target, first.planHash!)).toBe(true);
  });
});

describe('Function: reconcileTarget (crash repair and remainder)', () => {
  const intent = (email: string, at: number): LedgerEntry => ({ email, state: 'intent', role: 'edit', updatedAt: new Date(at).toISOString(), renewals: 0, runId: 'r-crashed' });
  const iso = (ms: number): string => new Date(ms).toISOString();

  /** run r-crashed takes the lease (120 s), writes intents for `emails` 1 s later and dies; returns when it started */
  async function crashedRun(w: World, emails: string[]): Promise<number> {
    const started = w.clock.ms;
    await w.store.acquireLease(target, 'r-crashed:1', 120);
    await w.store.putLedgerEntries(target, emails.map((email) => intent(email, started + 1000)));
    return started;
  }

  it('adopts the invites a crashed run created but never recorded, without a second POST, once its lease ran out and settled', async () => {
    // Prepare: the crashed run wrote 3 intents and its POSTs landed 2 s after it started; their answers were lost
    const w = await world();
    const all = emails(5);
    const started = await crashedRun(w, all.slice(0, 3));
    const landed = all.slice(0, 3).map((email) => w.emulator.addInvite(target.instanceId, target.orgId, { email, role: 'edit', inviteDate: iso(started + 2000) }));
    await w.roster(all);
    w.clock.ms = started + 120_000 + SETTLE_MS + 1000;

    // Act
    const report = await w.reconcile();

    // Assess
    const ledger = new Map((await w.store.getLedger(target)).map((e) => [e.email, e]));
    expect(report.complete).toBe(true);
    expect(report.done.invite).toBe(2);
    expect(w.posts()).toBe(2);
    expect(w.emulator.stats().duplicateInvites).toBe(0);
    for (const inv of landed) expect(ledger.get(inv.email)).toMatchObject({ state: 'sent', inviteId: inv.id, invitedAt: inv.inviteDate });
    expect([...ledger.values()].every((e) => e.state === 'sent' && e.inviteId)).toBe(true);
  });

  it('neither POSTs nor adopts for a crashed run\'s intents until SETTLE_SECONDS after its lease ran out (skip settling)', async () => {
    // Prepare: the lease of the crashed run ran out 10 s ago
    const w = await world();
    const all = emails(3);
    const started = await crashedRun(w, all);
    w.emulator.addInvite(target.instanceId, target.orgId, { email: all[0]!, role: 'edit', inviteDate: iso(started + 2000) });
    await w.roster(all);
    w.clock.ms = started + 130_000;

    // Act
    const report = await w.reconcile();

    // Assess
    expect(report).toMatchObject({ complete: true, planned: { invite: 0 }, skipped: { settling: 3 } });
    expect(w.posts()).toBe(0);
    expect((await w.store.getLedger(target)).map((e) => e.state)).toEqual(['intent', 'intent', 'intent']);
  });

  it('never claims (nor later revokes) an invite an admin made by hand after a crashed run ended and settled', async () => {
    // Prepare: an intent left by the crashed run; a day later an admin invites that person by hand; then they leave
    const w = await world();
    w.config.policy.revokeLeft = true;
    const [jane] = emails(1);
    const started = await crashedRun(w, [jane!]);
    w.clock.ms = started + 86_400_000;
    const byHand = w.emulator.addInvite(target.instanceId, target.orgId, { email: jane!, role: 'view', inviteDate: iso(w.clock.ms) });
    await w.roster([]);

    // Act
    const report = await w.reconcile();

    // Assess
    expect(report).toMatchObject({ complete: true, planned: { revoke: 0 }, skipped: { notOurs: 1 } });
    expect(w.emulator.invites(target.instanceId, target.orgId).map((i) => i.id)).toEqual([byHand.id]);
    expect((await w.store.getLedger(target))[0]).toMatchObject({ state: 'intent' });
  });

  it('does not brake the remainder of a crashed run, but does brake the same invites without intents, nor one abandoned', async () => {
    // Prepare: 4 invited before the crash, intents for the other 6
    const limits = { minSizeForFraction: 4, maxChangeFraction: 0.5 };
    const w = await world(limits);
    const all = emails(10);
    const started = await crashedRun(w, all.slice(4));
    for (const email of all.slice(0, 4)) w.emulator.addInvite(target.instanceId, target.orgId, { email, role: 'edit', inviteDate: iso(started - 1000) });
    await w.roster(all);
    w.clock.ms = started + 120_000 + SETTLE_MS + 1000;

    // Act
    const rerun = await w.reconcile();

    // Assess
    expect(rerun.blocked).toBeNull();
    expect(rerun.done.invite).toBe(6);
    expect(invitedEmails(w)).toEqual([...all].sort());

    // the same 6 without intents are a spike (6 > 0.5 × 4)
    const fresh = await world(limits);
    for (const email of all.slice(0, 4)) fresh.emulator.addInvite(target.instanceId, target.orgId, { email, role: 'edit' });
    await fresh.roster(all);
    expect((await fresh.reconcile()).blocked).toBe('maxChangeFraction');

    // and so are they once their intents are abandoned (their run ended more than settle + 7 days ago)
    const late = await world(limits);
    const lateStart = await crashedRun(late, all.slice(4));
    for (const email of all.slice(0, 4)) late.emulator.addInvite(target.instanceId, target.orgId, { email, role: 'edit', inviteDate: iso(lateStart - 1000) });
    await late.roster(all);
    late.clock.ms = lateStart + 120_000 + SETTLE_MS + 8 * 86_400_000;
    expect((await late.reconcile()).blocked).toBe('maxChangeFraction');
  });
});

describe('Function: reconcileTarget (holders, stop, stored actions)', () => {
  it('takes over at once a lease whose holder is gone, and names a live holder and the expiry when busy', async () => {
    // Prepare: a lease for 10 minutes, held by pid 999 on host build-7
    const w = await world();
    await w.roster(emails(3));
    await w.store.acquireLease(target, 'r-crashed:1', 600, { holder: { host: 'build-7', pid: 999, processStart: 'linux:5' } });
    const me = { host: 'build-7', pid: 1000, processStart: 'linux:6' };

    // Act
    const busy = await reconcileTarget({ ...w.deps, holder: me, holderGone: () => false }, w.config, w.config.targets[0]!, {
      mode: 'apply', runId: 'r-a', owner: 'r-a:1', deadline: w.clock.ms + 60_000,
    });
    const taken = await reconcileTarget({ ...w.deps, holder: me, holderGone: (h) => h.pid === 999 }, w.config, w.config.targets[0]!, {
      mode: 'apply', runId: 'r-b', owner: 'r-b:1', deadline: w.clock.ms + 60_000,
    });

    // Assess
    expect(busy.error?.code).toBe('leaseBusy');
    expect(busy.error?.message).toContain('pid 999 on host build-7');
    expect(busy.error?.message).toContain(new Date(w.clock.ms + 600_000).toISOString());
    expect(taken).toMatchObject({ complete: true, done: { invite: 3 } });
    expect(await w.store.readLease(target)).toBeNull();
  });

  it('writes every intent of the plan before its first POST, and stops starting actions once asked', async () => {
    // Prepare: 250 invites (three intent batches; the second is slow to write), one action at a time
    const w = await world({ maxChangesPerRun: 1000 });
    await w.roster(emails(250));
    w.config.concurrency = 1;
    w.store.beforeNext('putLedgerEntries', () => w.store.beforeNext('putLedgerEntries', () => new Promise((r) => setTimeout(r, 300))));
    const stop = new AbortController();

    // Act: the stop comes as the first action ends
    const report = await w.reconcile({ stop: stop.signal, onProgress: () => stop.abort() });
    const ledger = await w.store.getLedger(target);

    // Assess
    expect(w.posts()).toBe(1);
    expect(ledger).toHaveLength(250);
    expect(ledger.filter((e) => e.state === 'intent')).toHaveLength(249);
    expect(report.error?.code).toBe('interrupted');
    expect(report.done.invite).toBe(1);
    expect(await w.store.readLease(target)).toBeNull();
  });

  it('starts no action after startActionsBy, lets the one started finish, and leaves the rest unsent for a rerun at once', async () => {
    // Prepare: 6 invites, one at a time; the clock passes startActionsBy as the first action ends, the deadline is far
    const w = await world();
    await w.roster(emails(6));
    w.config.concurrency = 1;
    const startBy = w.clock.ms + 1_000;

    // Act
    const report = await w.reconcile({ startActionsBy: startBy, onProgress: () => void (w.clock.ms = startBy) });
    const ledger = await w.store.getLedger(target);
    const rerun = await w.reconcile();

    // Assess: stopped for the deadline with 5 left, unsent (not settling), so the rerun invites them at once
    expect(report.error?.code).toBe('deadline');
    expect(report.done.invite).toBe(1);
    expect(ledger.filter((e) => e.state === 'intent' && e.unsent === true)).toHaveLength(5);
    expect(rerun.complete).toBe(true);
    expect(rerun.done.invite).toBe(5);
    expect(w.posts()).toBe(6);
    expect(invitedEmails(w)).toEqual(emails(6).sort());
  });

  it('marks an invite whose POST waited past the deadline unsent (not settling), so the rerun sends it at once', async () => {
    // Prepare: real clock; each POST takes 1 s; the answer budget lets one POST be on its way at a time; 2 at a
    // time, and the run has 0.6 s: the first POST is sent and cut off by the deadline, the second waits for it until then
    const w = await world({}, { realClock: true, postDelayMs: 1000, maxAnswerBytesInFlight: 1 });
    await w.roster(emails(4));
    w.config.concurrency = 2;

    // Act
    const report = await w.reconcile({ deadline: Date.now() + 600 });
    const ledger = await w.store.getLedger(target);
    await new Promise((r) => setTimeout(r, 600)); // the first POST's late effect lands
    const rerun = await w.reconcile({ deadline: Date.now() + 30_000 });

    // Assess: p0 was sent (its intent settles, then claims the invite); p1 never left, like p2 and p3, which were never started
    expect(report.error?.code).toBe('deadline');
    expect(report.done.invite).toBe(0);
    const intents = new Map(ledger.filter((e) => e.state === 'intent').map((e) => [e.email, e.unsent === true]));
    expect([...intents.entries()].sort()).toEqual([['p0@example.com', false], ['p1@example.com', true], ['p2@example.com', true], ['p3@example.com', true]]);
    expect(rerun.complete).toBe(true);
    expect(rerun.done.invite).toBe(3);
    expect(w.posts()).toBe(4);
    expect(w.emulator.stats().duplicateInvites).toBe(0);
    expect(invitedEmails(w)).toEqual(emails(4).sort());
  });

  it('stores each action of a run with how it ended, and the run in the list of recent runs', async () => {
    const w = await world();
    await w.roster(emails(4));

    const report = await runSync(w.deps, w.config, { mode: 'apply', trigger: 'cli', deadline: w.clock.ms + 60_000 });
    const actions = await w.store.getRunActions(report.runId);
    const [listed] = await w.store.listRuns({ limit: 1, target: 'eng' });

    expect(actions.map((a) => [a.target, a.kind, a.email, a.result])).toEqual(emails(4).map((e) => ['eng', 'invite', e, 'done']));
    expect(listed?.runId).toBe(report.runId);
  });
});

describe('Function: runSync (changes over limits.windowMinutes)', () => {
  const run = (w: World) => runSync(w.deps, w.config, { mode: 'apply', trigger: 'scim', deadline: w.clock.ms + 60_000 });

  it('blocks a small run when the runs of the last hour already made the most changes a run may make', async () => {
    // Prepare: at most 4 changes; three one-person runs (as SCIM sends them) within the window
    const w = await world({ maxChangesPerRun: 4 });
    for (const [i, email] of emails(4).entries()) {
      await w.roster(emails(i + 1));
      w.clock.ms += 5 * 60_000;
      const r = await run(w);
      // Assess each: the first four pass (1 + 1 + 1 + 1 = 4 changes)
      expect(r.targets[0]?.blocked, email).toBeNull();
    }
    // Act: a fifth person 25 minutes after the first run
    await w.roster(emails(5));
    w.clock.ms += 5 * 60_000;
    const fifth = await run(w);
    // Assess: 4 recent + 1 planned > 4
    expect(fifth.targets[0]?.blocked).toBe('maxInvitesPerRun');
    expect(w.posts()).toBe(4);
    // Act: once the first runs have left the window, the same plan goes out
    w.clock.ms += 60 * 60_000;
    const later = await run(w);
    expect(later.targets[0]?.blocked).toBeNull();
    expect(later.targets[0]?.done.invite).toBe(1);
    expect(w.posts()).toBe(5);
  });

  it('counts nothing with windowMinutes 0', async () => {
    const w = await world({ maxChangesPerRun: 1, windowMinutes: 0 });
    for (let i = 1; i <= 3; i++) {
      await w.roster(emails(i));
      w.clock.ms += 60_000;
      expect((await run(w)).targets[0]?.blocked).toBeNull();
    }
    expect(w.posts()).toBe(3);
  });
});
