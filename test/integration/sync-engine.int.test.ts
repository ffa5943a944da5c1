// Sync engine end to end: real emulator over HTTP + DynamoDB Local + the real use cases.
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { INSTANCE, ORG, person, startHarness, type Harness } from '../helpers/sync-harness.ts';
import { ingestHrEvent } from '../../functions/sync/ingest.ts';
import { approveRun, runSync } from '../../functions/sync/reconcile.ts';
import { toPerson } from '../../functions/sync/people.ts';

const target = { instanceId: INSTANCE, orgId: ORG };
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const emails = (n: number, prefix = 'p') => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com`);

describe('Function: runSync (apply)', () => {
  it('invites every missing person once, then a converged run sends 0 POSTs and writes nothing per person', async () => {
    // Arrange
    h = await startHarness();
    await h.roster(emails(20).map((e) => person(e)));

    // Act
    const first = await h.apply();
    const postsAfterFirst = h.posts();
    h.store.resetStats();
    const second = await h.apply();

    // Assert
    expect(first.targets[0]!.done.invite).toBe(20);
    expect(first.complete).toBe(true);
    expect(postsAfterFirst).toBe(20);
    expect(h.emulator.invites(INSTANCE, ORG)).toHaveLength(20);
    expect(h.emulator.stats().duplicateInvites).toBe(0);
    expect(second.targets[0]!.planned).toEqual({ invite: 0, renew: 0, fixRole: 0, revoke: 0, remove: 0 });
    expect(second.targets[0]!.skipped.alreadyPending).toBe(20);
    expect(h.posts()).toBe(20);
    // lease acquire + lease release + run record
    expect(h.store.stats().writes).toBeLessThanOrEqual(3);
  });

  it('never re-invites a member who accepted', async () => {
    h = await startHarness();
    await h.roster(emails(3).map((e) => person(e)));
    await h.apply();
    h.emulator.acceptInvite(INSTANCE, ORG, 'p1@example.com');

    const again = await h.apply();

    expect(again.targets[0]!.done.invite).toBe(0);
    expect(again.targets[0]!.skipped.alreadyMember).toBe(1);
    expect(h.posts()).toBe(3);
  });

  it('does not re-send an invite an admin revoked by hand, until a re-hire or --force', async () => {
    h = await startHarness();
    await h.roster([person('gone@example.com'), person('stay@example.com')]);
    await h.apply();
    h.emulator.revokeInviteByEmail(INSTANCE, ORG, 'gone@example.com');

    // settleMs default keeps a fresh invite as "invitedRecently"; look past it with a later clock
    const later = { now: () => Date.now() + 60 * 60 * 1000 };
    const quiet = await runSync({ ...h.deps, clock: later }, h.config, { mode: 'apply', trigger: 'cli', deadline: later.now() + 60_000 });
    expect(quiet.targets[0]!.skipped.removedOutsideSync).toBe(1);
    expect(quiet.targets[0]!.done.invite).toBe(0);

    const forced = await runSync({ ...h.deps, clock: later }, h.config, { mode: 'apply', trigger: 'cli', deadline: later.now() + 60_000, force: true });
    expect(forced.targets[0]!.done.invite).toBe(1);
    expect(h.emulator.invites(INSTANCE, ORG).filter((i) => i.email === 'gone@example.com')).toHaveLength(1);
  });

  it('renews an expired invite it created, once per run, up to the renewal limit', async () => {
    h = await startHarness({ config: { policy: { maxRenewals: 1 } } });
    await h.roster([person('slow@example.com')]);
    await h.apply();
    const inv = h.emulator.invites(INSTANCE, ORG)[0]!;
    // the invite ages past its 7 days
    h.emulator.revokeInviteByEmail(INSTANCE, ORG, 'slow@example.com');
    h.emulator.addInvite(INSTANCE, ORG, { email: 'slow@example.com', role: inv.role, inviteDate: inv.inviteDate, hasExpired: true });
    const ledger = await h.store.getLedger(target);
    const newId = h.emulator.invites(INSTANCE, ORG)[0]!.id;
    await h.store.putLedgerEntries(target, [{ ...ledger[0]!, inviteId: newId }]);

    const renewed = await h.apply();
    expect(renewed.targets[0]!.done.renew).toBe(1);
    expect(h.emulator.invites(INSTANCE, ORG)[0]!.hasExpired).toBe(false);
    expect(h.posts()).toBe(1);

    // expire again: the limit (1) is reached
    const again = h.emulator.invites(INSTANCE, ORG)[0]!;
    h.emulator.revokeInviteByEmail(INSTANCE, ORG, 'slow@example.com');
    const re = h.emulator.addInvite(INSTANCE, ORG, { email: 'slow@example.com', role: again.role, inviteDate: again.inviteDate, hasExpired: true });
    const l2 = await h.store.getLedger(target);
    await h.store.putLedgerEntries(target, [{ ...l2[0]!, inviteId: re.id }]);
    const exhausted = await h.apply();
    expect(exhausted.targets[0]!.done.renew).toBe(0);
    expect(exhausted.targets[0]!.skipped.renewalsExhausted).toBe(1);
  });

  it('with revokeLeft and fixRole: revokes its own invite of someone who left and fixes a role, never touching invites it did not create', async () => {
    h = await startHarness({ config: { policy: { revokeLeft: true, fixRole: true } } });
    h.emulator.addInvite(INSTANCE, ORG, { email: 'by-hand@example.com', role: 'view' });
    await h.roster([person('leaver@example.com'), person('mover@example.com'), person('by-hand@example.com', { department: 'Sales' })]);
    await h.apply();
    // the leaver leaves; the mover's rules now give another role
    await h.roster([person('mover@example.com', { department: 'Sales' })], new Date(Date.now() + 1000).toISOString());

    const r = await h.apply();

    expect(r.targets[0]!.done).toEqual({ invite: 0, renew: 0, fixRole: 1, revoke: 1, remove: 0 });
    const left = h.emulator.invites(INSTANCE, ORG);
    expect(left.map((i) => i.email).sort()).toEqual(['by-hand@example.com', 'mover@example.com']);
    expect(left.find((i) => i.email === 'mover@example.com')!.role).toBe('view');
    expect(r.targets[0]!.skipped.notOurs).toBe(1);
    const ledger = await h.store.getLedger(target);
    expect(ledger.find((e) => e.email === 'leaver@example.com')!.state).toBe('revoked');
  });

  it('two concurrent applies on one target send one POST per missing email', async () => {
    h = await startHarness({ emulator: { latencyMs: 5 } });
    await h.roster(emails(40).map((e) => person(e)));

    const [a, b] = await Promise.all([h.apply({ waitForLeaseMs: 30_000 }), h.apply({ waitForLeaseMs: 30_000 })]);

    expect(a.targets[0]!.done.invite + b.targets[0]!.done.invite).toBe(40);
    expect(h.posts()).toBe(40);
    expect(h.emulator.stats().duplicateInvites).toBe(0);
  });

  it('a 403 on members fails the target: it is never read as "no members"', async () => {
    h = await startHarness({
      emulator: {
        seed: {
          tokens: [{ token: 'emulator-token', scopes: ['instanceOrgInvites.*'] }],
          instances: [{ id: INSTANCE, orgs: [{ id: ORG, invites: [], members: [{ email: 'member@example.com', role: 'view' }] }] }],
        },
      },
    });
    await h.roster([person('member@example.com'), person('new@example.com')]);

    const r = await h.apply();

    expect(r.targets[0]!.error?.code).toBe('forbidden');
    expect(r.complete).toBe(false);
    expect(h.posts()).toBe(0);
  });

  it('a busy lease without --wait reports leaseBusy and sends nothing', async () => {
    h = await startHarness();
    await h.roster(emails(2).map((e) => person(e)));
    const lease = await h.store.acquireLease(target, 'someone-else', 120);
    expect(lease).not.toBeNull();

    const r = await h.apply();

    expect(r.targets[0]!.error?.code).toBe('leaseBusy');
    expect(h.posts()).toBe(0);
  });

  it('a change that lands while a run holds the lease is applied before the lease is released', async () => {
    // 250 ms per Losant answer: the run takes at least three answers (pending, members, POSTs), so an
    // event 100 ms in lands while the lease is held, however fast the machine is
    h = await startHarness({ emulator: { latencyMs: 250 } });
    await h.roster(emails(10).map((e) => person(e)));
    const running = h.apply();
    // while it runs, HR hires someone
    await new Promise((r) => setTimeout(r, 100));
    await ingestHrEvent(
      h.deps,
      { id: randomUUID(), type: 'person.upserted', occurredAt: new Date().toISOString(), source: 'default', person: toPerson(person('late@example.com')) },
      { targets: h.config.targets },
    );
    const r = await running;

    expect(r.targets[0]!.done.invite).toBe(11);
    expect(h.emulator.invites(INSTANCE, ORG).map((i) => i.email)).toContain('late@example.com');
  });

  it('resolves a lost POST answer by lookup without a duplicate', async () => {
    h = await startHarness({ emulator: { lostResponseRate: 1, faultSeed: 7 } });
    await h.roster(emails(5).map((e) => person(e)));

    const r = await h.apply();

    expect(r.targets[0]!.done.invite).toBe(5);
    expect(h.emulator.invites(INSTANCE, ORG)).toHaveLength(5);
    expect(h.emulator.stats().duplicateInvites).toBe(0);
    const ledger = await h.store.getLedger(target);
    expect(ledger.every((e) => e.state === 'sent' && e.inviteId)).toBe(true);
  });

  it('blocks a spike with maxInvitesPerRun, and an approval releases exactly that plan', async () => {
    h = await startHarness({ config: { limits: { maxInvitesPerRun: 5 } } });
    await h.roster(emails(8).map((e) => person(e)));

    const blocked = await h.apply();
    expect(blocked.targets[0]!.blocked).toBe('maxInvitesPerRun');
    expect(h.posts()).toBe(0);

    await approveRun(h.store, blocked.runId);
    // the plan changes (one more person): the approval does not cover it
    await h.roster([...emails(8), 'extra@example.com'].map((e) => person(e)));
    const changed = await h.apply();
    expect(changed.targets[0]!.blocked).toBe('maxInvitesPerRun');
    expect(h.posts()).toBe(0);

    // back to the approved plan: it proceeds, once
    await h.roster(emails(8).map((e) => person(e)), new Date(Date.now() + 1000).toISOString());
    const released = await h.apply();
    expect(released.targets[0]!.blocked).toBeNull();
    expect(released.targets[0]!.done.invite).toBe(8);
    expect(h.posts()).toBe(8);
  });

  it('blocks by maxChangeFraction once the org is big enough', async () => {
    h = await startHarness({ config: { limits: { minSizeForFraction: 4, maxChangeFraction: 0.5 } } });
    for (const e of emails(4, 'm')) h.emulator.addInvite(INSTANCE, ORG, { email: e, role: 'view' });
    await h.roster([...emails(4, 'm'), ...emails(3, 'n')].map((e) => person(e)));

    const r = await h.apply();

    expect(r.targets[0]!.blocked).toBe('maxChangeFraction');
    expect(h.posts()).toBe(0);
  });

  it('does not brake the rerun of a crashed run: invites it already intended are its remainder, not a spike', async () => {
    h = await startHarness({ config: { limits: { minSizeForFraction: 4, maxChangeFraction: 0.5 } } });
    const all = emails(10);
    // the crashed run invited 4 people and had written intents for the other 6 before it died, an hour ago
    // (its end is long past SETTLE_SECONDS: its intents no longer settle)
    for (const e of all.slice(0, 4)) h.emulator.addInvite(INSTANCE, ORG, { email: e, role: 'edit', inviteDate: new Date(Date.now() - 3_600_000 - 1000).toISOString() });
    const at = new Date(Date.now() - 3_600_000).toISOString();
    await h.store.putLedgerEntries(target, all.slice(4).map((email) => ({ email, state: 'intent' as const, role: 'edit' as const, updatedAt: at, renewals: 0, runId: 'r-crashed' })));
    await h.roster(all.map((e) => person(e)));

    const rerun = await h.apply();
    expect(rerun.targets[0]!.blocked).toBeNull();
    expect(rerun.targets[0]!.done.invite).toBe(6);

    // the same 6 without intents would be a spike (6 > 0.5 × 4)
    const fresh = await startHarness({ config: { limits: { minSizeForFraction: 4, maxChangeFraction: 0.5 } } });
    try {
      for (const e of all.slice(0, 4)) fresh.emulator.addInvite(INSTANCE, ORG, { email: e, role: 'edit' });
      await fresh.roster(all.map((e) => person(e)));
      expect((await fresh.apply()).targets[0]!.blocked).toBe('maxChangeFraction');
    } finally {
      await fresh.close();
    }
  });

  it('applies a multi-part snapshot only when every part has arrived', async () => {
    h = await startHarness();
    const at = new Date().toISOString();
    const part = (n: number, list: string[]) =>
      ingestHrEvent(
        h!.deps,
        { id: `snap-${n}`, type: 'roster.snapshot', occurredAt: at, source: 'hr', snapshotId: 's1', part: n, parts: 2, people: list.map((e) => toPerson(person(e))) },
        { targets: h!.config.targets },
      );

    const first = await part(1, ['a@example.com', 'b@example.com']);
    expect(first.status).toBe('partial');
    expect(await h.store.listPeople()).toHaveLength(0);

    const second = await part(2, ['c@example.com']);
    expect(second.status).toBe('applied');
    expect((await h.store.listPeople()).map((p) => p.email).sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
  });

  it('holds back an empty snapshot (brake emptySnapshot) and keeps the stored people', async () => {
    h = await startHarness();
    await h.roster(emails(3).map((e) => person(e)));

    const r = await ingestHrEvent(h.deps, { id: 'empty-1', type: 'roster.snapshot', occurredAt: new Date(Date.now() + 1000).toISOString(), source: 'default', people: [] }, { targets: h.config.targets });

    expect(r.status).toBe('blocked');
    expect(r.blocked).toBe('emptySnapshot');
    expect((await h.store.listPeople()).filter((p) => !p.leftSource)).toHaveLength(3);
  });

  it('ignores an HR event older than the last one applied for that person', async () => {
    h = await startHarness();
    const now = Date.now();
    const ev = (id: string, at: number, status: 'active' | 'terminated') => {
      const base = { id, occurredAt: new Date(at).toISOString(), source: 'default' };
      const p = toPerson({ email: 'x@example.com', department: 'Engineering', status });
      const event =
        status === 'active'
          ? { ...base, type: 'person.upserted' as const, person: p }
          : { ...base, type: 'person.terminated' as const, person: { ...p, status: 'terminated' as const } };
      return ingestHrEvent(h!.deps, event, { targets: h!.config.targets });
    };
    await ev('e2', now, 'terminated');
    const stale = await ev('e1', now - 1000, 'active');
    const dup = await ev('e2', now, 'terminated');

    expect(stale.status).toBe('stale');
    expect(dup.status).toBe('duplicate');
    const r = await h.apply();
    expect(r.targets[0]!.desired).toBe(0);
    expect(h.posts()).toBe(0);
  });
});
