// store tests --> describeStoreContract: the StateStore ports' contract, one suite for every implementation
// (DynamoStateStore on DynamoDB Local in test/integration, MemoryStateStore in test/unit).
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { InputError, StateError } from '../../functions/sync/errors.ts';
import type { RunRecord, StateStore } from '../../functions/sync/ports.ts';
import { emptyActionCounts, emptySkipCounts } from '../../functions/sync/types.ts';
import type { LedgerEntry, Person, TargetRef } from '../../functions/sync/types.ts';

/** A store as the contract drives it: the port, plus call counters. */
export interface ContractStore extends StateStore {
  stats(): { reads: number; writes: number };
  resetStats(): void;
}

export interface StoreUnderTest {
  store: ContractStore;
  /** the held-back snapshot record as stored, or undefined (the port has no reader for it) */
  blockedSnapshot(source: string, snapshotId: string): Promise<{ code: string; expiresAt: number } | undefined>;
}

/** Builds a store on the given clock (epoch ms). Stores built by one factory may share data: tests use unique ids. */
export type MakeStore = (options: { now: () => number; writeConcurrency?: number }) => StoreUnderTest;

/** A whole second near the real now: the clock the contract starts every store at (nothing here ages). */
export const T0 = Math.floor(Date.now() / 1000) * 1000;
export const iso = (offsetSeconds: number): string => new Date(T0 + offsetSeconds * 1000).toISOString();
export const uniqueId = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;
export const newTarget = (): TargetRef => ({
  instanceId: randomUUID().replaceAll('-', '').slice(0, 24),
  orgId: randomUUID().replaceAll('-', '').slice(0, 24),
});
export const person = (n: number, extra: Partial<Person> = {}): Person => ({
  email: `person${n}@example.com`,
  employeeId: `E${n}`,
  status: 'active',
  attributes: { department: n % 2 ? 'sales' : 'eng' },
  ...extra,
});
export const ledgerEntry = (n: number, extra: Partial<LedgerEntry> = {}): LedgerEntry => ({
  email: `user${String(n).padStart(3, '0')}@example.com`,
  state: 'sent',
  role: 'view',
  inviteId: `575ec8687ae143cd83dc${String(n).padStart(4, '0')}`,
  updatedAt: iso(n),
  invitedAt: iso(n),
  renewals: n % 3,
  runId: 'run-1',
  personEventAt: iso(0),
  ...extra,
});

async function peopleOf(store: StateStore, source: string) {
  return (await store.listPeople()).filter((p) => p.source === source).sort((a, b) => a.identity.localeCompare(b.identity));
}

/**
 * Registers the StateStore contract's describe/it blocks for one implementation.
 * @example describeStoreContract('MemoryStateStore', ({ now }) => { const store = new MemoryStateStore({ now }); … })
 */
export function describeStoreContract(implementation: string, make: MakeStore): void {
  /** A store with its own settable clock, starting at T0. */
  const makeStore = (options: { writeConcurrency?: number } = {}) => {
    const clock = { ms: T0 };
    const built = make({ now: () => clock.ms, ...options });
    return { ...built, clock };
  };

  describe(`Contract: ${implementation} recordDelivery / hasDelivery`, () => {
    it('returns true once, then false, and hasDelivery sees the id', async () => {
      // Prepare
      const { store } = makeStore();
      const delivery = { source: 'hr', id: uniqueId('msg') };

      // Act
      const before = await store.hasDelivery(delivery);
      const first = await store.recordDelivery(delivery, 3600);
      const second = await store.recordDelivery(delivery, 3600);

      // Assess
      expect(before).toBe(false);
      expect(first).toBe(true);
      expect(second).toBe(false);
      expect(await store.hasDelivery(delivery)).toBe(true);
    });

    it('keeps one id of two sources apart: each is recorded once, neither hides the other', async () => {
      // Prepare
      const { store } = makeStore();
      const id = uniqueId('shared');

      // Act
      const first = await store.recordDelivery({ source: 'hr-a', id }, 3600);
      const otherBefore = await store.hasDelivery({ source: 'hr-b', id });
      const other = await store.recordDelivery({ source: 'hr-b', id }, 3600);

      // Assess
      expect(first).toBe(true);
      expect(otherBefore).toBe(false);
      expect(other).toBe(true);
      expect(await store.hasDelivery({ source: 'hr-a', id })).toBe(true);
      expect(await store.hasDelivery({ source: 'hr-b', id })).toBe(true);
    });

    it('returns true for exactly one of five concurrent records of the same id', async () => {
      const { store } = makeStore();
      const delivery = { source: 'hr', id: uniqueId('race') };

      const outcomes = await Promise.all(Array.from({ length: 5 }, () => store.recordDelivery(delivery, 3600)));

      expect(outcomes.filter(Boolean)).toHaveLength(1);
    });

    it('returns false from hasDelivery once the delivery expired, and records it anew', async () => {
      const { store, clock } = makeStore();
      const delivery = { source: 'hr', id: uniqueId('old') };
      await store.recordDelivery(delivery, 60);

      clock.ms += 61_000;

      expect(await store.hasDelivery(delivery)).toBe(false);
      expect(await store.recordDelivery(delivery, 60)).toBe(true);
      expect(await store.hasDelivery(delivery)).toBe(true);
    });
  });

  describe(`Contract: ${implementation} applyPersonEvent`, () => {
    it('returns applied for a new or newer event and stores the person with their identity', async () => {
      // Prepare
      const { store } = makeStore();
      const source = uniqueId('hr');

      // Act
      const created = await store.applyPersonEvent(source, person(1), iso(10));
      const updated = await store.applyPersonEvent(source, person(1, { attributes: { department: 'ops' } }), iso(20));
      const byEmail = await store.applyPersonEvent(source, { email: 'noid@example.com', status: 'active', attributes: {} }, iso(5));

      // Assess
      expect([created, updated, byEmail]).toEqual(['applied', 'applied', 'applied']);
      expect(await peopleOf(store, source)).toEqual([
        { email: 'noid@example.com', status: 'active', attributes: {}, identity: 'email:noid@example.com', source, lastEventAt: iso(5), leftSource: false },
        { email: 'person1@example.com', employeeId: 'E1', status: 'active', attributes: { department: 'ops' }, identity: 'emp:E1', source, lastEventAt: iso(20), leftSource: false },
      ]);
    });

    it('returns stale for an older or equally old event and changes nothing', async () => {
      const { store } = makeStore();
      const source = uniqueId('hr');
      await store.applyPersonEvent(source, person(2), iso(100));
      const before = await peopleOf(store, source);

      const older = await store.applyPersonEvent(source, person(2, { attributes: { department: 'legal' } }), iso(50));
      const same = await store.applyPersonEvent(source, person(2, { email: 'changed@example.com' }), iso(100));

      expect([older, same]).toEqual(['stale', 'stale']);
      expect(await peopleOf(store, source)).toEqual(before);
    });

    it('returns stale for an older upsert after a termination: the person stays terminated', async () => {
      const { store } = makeStore();
      const source = uniqueId('hr');
      await store.applyPersonEvent(source, person(3), iso(10));
      await store.applyPersonEvent(source, person(3, { status: 'terminated' }), iso(30));

      const late = await store.applyPersonEvent(source, person(3), iso(20));

      expect(late).toBe('stale');
      const [stored] = await peopleOf(store, source);
      expect(stored?.status).toBe('terminated');
      expect(stored?.lastEventAt).toBe(iso(30));
    });

    it('compares times by instant, not by how the ISO text is written', async () => {
      const { store } = makeStore();
      const source = uniqueId('hr');
      const withMillis = new Date(T0 + 10_500).toISOString();
      await store.applyPersonEvent(source, person(4), withMillis);

      // the same second without its fraction is earlier as an instant, though later as text
      const outcome = await store.applyPersonEvent(source, person(4, { status: 'terminated' }), withMillis.replace(/\.\d{3}Z$/, 'Z'));

      expect(outcome).toBe('stale');
    });

    it('throws a StateError for an occurredAt that is not an ISO time, and stores nothing', async () => {
      const { store } = makeStore();
      const source = uniqueId('hr');

      await expect(store.applyPersonEvent(source, person(5), 'yesterday')).rejects.toBeInstanceOf(StateError);
      expect(await peopleOf(store, source)).toEqual([]);
    });
  });

  describe(`Contract: ${implementation} applyPersonEvent identity`, () => {
    it('terminates the active person with that email when a termination names the email alone', async () => {
      // Prepare
      const { store } = makeStore();
      const source = uniqueId('hr');
      await store.applyPersonEvent(source, person(1), iso(1));

      // Act
      const outcome = await store.applyPersonEvent(source, { email: 'person1@example.com', status: 'terminated', attributes: {} }, iso(2));

      // Assess
      expect(outcome).toBe('applied');
      expect(await peopleOf(store, source)).toEqual([
        expect.objectContaining({ identity: 'emp:E1', employeeId: 'E1', email: 'person1@example.com', status: 'terminated', lastEventAt: iso(2) }),
      ]);
    });

    it('merges a person stored by email into one record when an upsert adds their employeeId, in either order', async () => {
      // Prepare
      const inOrder = makeStore().store;
      const reversed = makeStore().store;
      const source = uniqueId('hr');
      const byEmail: Person = { email: 'person7@example.com', status: 'active', attributes: { team: 'a' } };
      const withId = person(7, { attributes: { team: 'b' } });

      // Act
      await inOrder.applyPersonEvent(source, byEmail, iso(1));
      const merged = await inOrder.applyPersonEvent(source, withId, iso(2));
      await reversed.applyPersonEvent(source, withId, iso(2));
      const late = await reversed.applyPersonEvent(source, byEmail, iso(1));

      // Assess
      const expected = [expect.objectContaining({ identity: 'emp:E7', employeeId: 'E7', attributes: { team: 'b' }, lastEventAt: iso(2) })];
      expect(merged).toBe('applied');
      expect(late).toBe('stale');
      expect(await peopleOf(inOrder, source)).toEqual(expected);
      expect(await peopleOf(reversed, source)).toEqual(expected);
    });

    it('joins an email-only record under an id from an older event, keeping the newer fields', async () => {
      // Prepare
      const { store } = makeStore();
      const source = uniqueId('hr');
      await store.applyPersonEvent(source, { email: 'person8@example.com', status: 'active', attributes: { team: 'new' } }, iso(5));

      // Act
      const outcome = await store.applyPersonEvent(source, person(8, { attributes: { team: 'old' } }), iso(1));

      // Assess
      expect(outcome).toBe('applied');
      expect(await peopleOf(store, source)).toEqual([expect.objectContaining({ identity: 'emp:E8', attributes: { team: 'new' }, lastEventAt: iso(5) })]);
    });

    it('throws InputError naming person.email for a second active person with one email, and changes nothing', async () => {
      // Prepare
      const { store } = makeStore();
      const source = uniqueId('hr');
      await store.applyPersonEvent(source, person(1), iso(1));
      const before = await peopleOf(store, source);

      // Act
      const error: unknown = await store.applyPersonEvent(source, person(2, { email: 'person1@example.com' }), iso(2)).catch((e: unknown) => e);
      const rehired = await store.applyPersonEvent(source, person(2, { email: 'person1@example.com', status: 'terminated' }), iso(3));

      // Assess
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).issues[0]?.path).toBe('person.email');
      expect((error as InputError).message).not.toContain('person1@example.com');
      expect(rehired).toBe('applied');
      expect((await peopleOf(store, source)).filter((p) => p.identity === 'emp:E1')).toEqual(before);
    });

    it('returns stale for an event older than the source\'s last snapshot, which stamps its time on every person it lists', async () => {
      // Prepare
      const { store } = makeStore();
      const source = uniqueId('hr');
      await store.applyPersonEvent(source, person(1), iso(1));
      await store.replaceSource(source, [person(1)], iso(10));

      // Act
      const older = await store.applyPersonEvent(source, person(1, { status: 'terminated' }), iso(5));
      const unknown = await store.applyPersonEvent(source, person(2), iso(5));
      const newer = await store.applyPersonEvent(source, person(1, { attributes: { department: 'ops' } }), iso(11));

      // Assess
      expect(older).toBe('stale');
      expect(unknown).toBe('stale');
      expect(newer).toBe('applied');
      expect(await peopleOf(store, source)).toEqual([
        expect.objectContaining({ identity: 'emp:E1', status: 'active', attributes: { department: 'ops' }, lastEventAt: iso(11) }),
        // kept as the snapshot left them: stored, then not listed (what in-order delivery leaves)
        expect.objectContaining({ identity: 'emp:E2', status: 'active', leftSource: true, lastEventAt: iso(10) }),
      ]);
    });
  });

  describe(`Contract: ${implementation} noteSourceDelivery / listSourceDeliveries`, () => {
    it('keeps the latest delivery time per source with one write each; an earlier time changes nothing', async () => {
      // Prepare
      const { store } = makeStore();
      const a = uniqueId('src-a');
      const b = uniqueId('src-b');

      // Act
      store.resetStats();
      await store.noteSourceDelivery?.(a, iso(10));
      const writes = store.stats().writes;
      await store.noteSourceDelivery?.(a, iso(30));
      await store.noteSourceDelivery?.(a, iso(20));
      await store.noteSourceDelivery?.(b, iso(5));
      const listed = ((await store.listSourceDeliveries?.()) ?? []).filter((d) => d.source === a || d.source === b);

      // Assess
      expect(writes).toBe(1);
      expect(listed.sort((x, y) => (x.source < y.source ? -1 : 1))).toEqual([
        { source: a, lastDeliveryAt: iso(30) },
        { source: b, lastDeliveryAt: iso(5) },
      ]);
    });
  });

  describe(`Contract: ${implementation} previewReplaceSource`, () => {
    it('returns changes (changed upserts + leaves) and active people without writing; an older snapshot changes nothing', async () => {
      // Prepare
      const { store } = makeStore();
      const source = uniqueId('preview');
      await store.replaceSource(source, [person(1), person(2), person(3), person(4)], iso(10));

      // Act
      store.resetStats();
      const preview = await store.previewReplaceSource?.(source, [person(1), person(2, { attributes: { department: 'ops' } }), person(5)], iso(20));
      const writes = store.stats().writes;
      const older = await store.previewReplaceSource?.(source, [], iso(5));

      // Assess: person 2 changed, 5 is new, 3 and 4 leave
      expect(preview).toEqual({ changes: 4, active: 4 });
      expect(writes).toBe(0);
      expect(older).toEqual({ changes: 0, active: 4 });
      expect((await peopleOf(store, source)).filter((p) => !p.leftSource)).toHaveLength(4);
    });
  });

  describe(`Contract: ${implementation} replaceSource`, () => {
    it('returns upserted for new people, then unchanged with one write (the source\'s snapshot time) for the same list', async () => {
      // Prepare
      const { store } = makeStore({ writeConcurrency: 3 });
      const source = uniqueId('roster');
      const people = Array.from({ length: 12 }, (_, i) => person(i));
      const first = await store.replaceSource(source, people, iso(10));

      // Act
      store.resetStats();
      const second = await store.replaceSource(source, people.map((p) => structuredClone(p)).reverse(), iso(20));

      // Assess
      expect(first).toEqual({ upserted: 12, left: 0, unchanged: 0, stale: 0 });
      expect(second).toEqual({ upserted: 0, left: 0, unchanged: 12, stale: 0 });
      expect(store.stats().writes).toBe(1);
      expect(store.stats().reads).toBeGreaterThan(0);
      expect(await peopleOf(store, source)).toHaveLength(12);
    });

    it('marks people the list lacks as left, once, and clears the mark when they come back', async () => {
      const { store } = makeStore();
      const source = uniqueId('roster');
      await store.replaceSource(source, [person(1), person(2), person(3)], iso(10));

      const dropped = await store.replaceSource(source, [person(1), person(3)], iso(20));
      const again = await store.replaceSource(source, [person(1), person(3)], iso(30));
      const leftNow = (await peopleOf(store, source)).find((p) => p.identity === 'emp:E2');
      const back = await store.replaceSource(source, [person(1), person(2), person(3)], iso(40));

      expect(dropped).toEqual({ upserted: 0, left: 1, unchanged: 2, stale: 0 });
      expect(again).toEqual({ upserted: 0, left: 0, unchanged: 2, stale: 0 });
      // marked left at 20; the snapshot at 30 stamps its time on every person of the source
      expect(leftNow).toMatchObject({ leftSource: true, lastEventAt: iso(30) });
      expect(back).toEqual({ upserted: 1, left: 0, unchanged: 2, stale: 0 });
      expect((await peopleOf(store, source)).every((p) => p.leftSource === false)).toBe(true);
    });

    it('matches a listed row without employeeId to the stored person with that email, and folds email-only records into a listed id', async () => {
      // Prepare
      const { store } = makeStore();
      const source = uniqueId('roster');
      await store.replaceSource(source, [person(1), { email: 'person2@example.com', status: 'active', attributes: { department: 'eng' } }], iso(10));

      // Act
      const again = await store.replaceSource(source, [{ ...person(1), employeeId: undefined } as Person, person(2)], iso(20));

      // Assess
      expect(again).toEqual({ upserted: 1, left: 0, unchanged: 1, stale: 0 });
      expect((await peopleOf(store, source)).map((p) => [p.identity, p.employeeId, p.leftSource])).toEqual([
        ['emp:E1', 'E1', false],
        ['emp:E2', 'E2', false],
      ]);
    });

    it('returns stale for people changed by a newer event and leaves them as they are', async () => {
      const { store } = makeStore();
      const source = uniqueId('roster');
      await store.replaceSource(source, [person(1), person(2)], iso(10));
      await store.applyPersonEvent(source, person(1, { status: 'terminated' }), iso(50));
      await store.applyPersonEvent(source, person(2, { attributes: { department: 'ops' } }), iso(50));

      const result = await store.replaceSource(source, [person(1)], iso(40));

      expect(result).toEqual({ upserted: 0, left: 0, unchanged: 0, stale: 2 });
      const stored = await peopleOf(store, source);
      expect(stored.map((p) => [p.identity, p.status, p.leftSource])).toEqual([
        ['emp:E1', 'terminated', false],
        ['emp:E2', 'active', false],
      ]);
    });

    it('returns upserted for changed people and touches only the given source', async () => {
      const { store } = makeStore();
      const source = uniqueId('roster');
      const other = `${source}#x`;
      await store.replaceSource(source, [person(1)], iso(10));
      await store.replaceSource(other, [person(9)], iso(10));

      const result = await store.replaceSource(source, [person(1, { attributes: { department: 'ops' } })], iso(20));

      expect(result).toEqual({ upserted: 1, left: 0, unchanged: 0, stale: 0 });
      expect((await peopleOf(store, source))[0]?.attributes).toEqual({ department: 'ops' });
      expect(await peopleOf(store, other)).toMatchObject([{ identity: 'emp:E9', leftSource: false }]);
    });

    it('stores list attributes (a SCIM user\'s groups) and compares them element by element', async () => {
      const { store } = makeStore();
      const source = uniqueId('scim');
      const withGroups = (groups: string[]) => person(1, { attributes: { department: 'ops', groups } });
      await store.replaceSource(source, [withGroups(['Losant-Admins', 'All'])], iso(10));

      expect((await peopleOf(store, source))[0]?.attributes).toEqual({ department: 'ops', groups: ['Losant-Admins', 'All'] });
      expect(await store.replaceSource(source, [withGroups(['Losant-Admins', 'All'])], iso(20))).toEqual({ upserted: 0, left: 0, unchanged: 1, stale: 0 });
      expect(await store.replaceSource(source, [withGroups(['All'])], iso(30))).toEqual({ upserted: 1, left: 0, unchanged: 0, stale: 0 });
      expect((await peopleOf(store, source))[0]?.attributes).toEqual({ department: 'ops', groups: ['All'] });
    });
  });

  describe(`Contract: ${implementation} putSnapshotPart / readSnapshot / deleteSnapshot`, () => {
    it('returns complete only when every part is stored, counting a repeated part once', async () => {
      // Prepare
      const { store } = makeStore();
      const source = uniqueId('hr');
      const snapshotId = uniqueId('snap');

      // Act
      const r2 = await store.putSnapshotPart(source, snapshotId, 2, 3, [person(2)]);
      const r1 = await store.putSnapshotPart(source, snapshotId, 1, 3, [person(1), person(11)]);
      const r1again = await store.putSnapshotPart(source, snapshotId, 1, 3, [person(1), person(11)]);
      const incomplete: unknown = await store.readSnapshot(source, snapshotId).catch((e: unknown) => e);
      const r3 = await store.putSnapshotPart(source, snapshotId, 3, 3, [person(3)]);

      // Assess
      expect([r2, r1, r1again]).toEqual([
        { received: 1, parts: 3, complete: false },
        { received: 2, parts: 3, complete: false },
        { received: 2, parts: 3, complete: false },
      ]);
      expect(incomplete).toBeInstanceOf(StateError);
      expect(r3).toEqual({ received: 3, parts: 3, complete: true });
      expect(await store.readSnapshot(source, snapshotId)).toEqual([person(1), person(11), person(2), person(3)]);
    });

    it('removes every part on deleteSnapshot', async () => {
      const { store } = makeStore();
      const source = uniqueId('hr');
      const snapshotId = uniqueId('snap');
      for (let part = 1; part <= 30; part += 1) await store.putSnapshotPart(source, snapshotId, part, 30, [person(part)]);
      expect(await store.readSnapshot(source, snapshotId)).toHaveLength(30);

      await store.deleteSnapshot(source, snapshotId);

      await expect(store.readSnapshot(source, snapshotId)).rejects.toThrow(/incomplete \(0 of/);
      expect(await store.putSnapshotPart(source, snapshotId, 1, 30, [])).toMatchObject({ received: 1, complete: false });
    });

    it('throws InputError for a part number outside 1..parts', async () => {
      const { store } = makeStore();

      await expect(store.putSnapshotPart('hr', 's', 0, 2, [])).rejects.toBeInstanceOf(InputError);
      await expect(store.putSnapshotPart('hr', 's', 3, 2, [])).rejects.toBeInstanceOf(InputError);
    });
  });

  describe(`Contract: ${implementation} putLedgerEntries / getLedger`, () => {
    it('returns all 60 entries written, whatever the case of the target ids', async () => {
      // Prepare
      const { store } = makeStore();
      const target = newTarget();
      const entries = Array.from({ length: 60 }, (_, i) => ledgerEntry(i));
      entries[7] = { email: 'intent@example.com', state: 'intent', role: 'admin', updatedAt: iso(1), renewals: 0, runId: 'run-2' };

      // Act
      await store.putLedgerEntries(target, entries);
      const ledger = await store.getLedger({ instanceId: target.instanceId.toUpperCase(), orgId: target.orgId.toUpperCase() });

      // Assess
      const byEmail = (a: LedgerEntry, b: LedgerEntry) => a.email.localeCompare(b.email);
      expect(ledger.sort(byEmail)).toEqual([...entries].sort(byEmail));
      expect(await store.getLedger(newTarget())).toEqual([]);
    });

    it('keeps the last of duplicate emails and overwrites earlier states', async () => {
      const { store } = makeStore();
      const target = newTarget();
      await store.putLedgerEntries(target, [ledgerEntry(1, { state: 'intent' })]);

      await store.putLedgerEntries(target, [ledgerEntry(1, { state: 'failed', error: 'badRequest' }), ledgerEntry(1, { state: 'sent' })]);

      expect(await store.getLedger(target)).toEqual([ledgerEntry(1, { state: 'sent' })]);
    });
  });

  describe(`Contract: ${implementation} acquireLease / renewLease / releaseLease / markDirty`, () => {
    it('returns a lease to exactly one of five owners racing for it', async () => {
      const { store } = makeStore();
      const target = newTarget();

      const leases = await Promise.all(Array.from({ length: 5 }, (_, i) => store.acquireLease(target, `owner-${i}`, 60)));

      const winners = leases.filter((l) => l !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatchObject({ target, seenSeq: 0, expiresAt: T0 + 60_000 });
    });

    it('returns the lease again to its holder and null to another owner while it runs', async () => {
      const { store } = makeStore();
      const target = newTarget();
      await store.acquireLease(target, 'a', 60);

      expect(await store.acquireLease(target, 'a', 60)).not.toBeNull();
      expect(await store.acquireLease(target, 'b', 60)).toBeNull();
    });

    it('lets another owner take an expired lease; the old holder then finds it lost', async () => {
      // Prepare
      const { store, clock } = makeStore();
      const target = newTarget();
      const old = await store.acquireLease(target, 'a', 30);
      clock.ms += 31_000;

      // Act
      const taken = await store.acquireLease(target, 'b', 30);

      // Assess
      expect(old).not.toBeNull();
      expect(taken?.owner).toBe('b');
      if (!old || !taken) return;
      expect(await store.renewLease(old, 30)).toBe(false);
      expect(await store.releaseLease(old)).toBe('lost');
      expect(await store.renewLease(taken, 60)).toBe(true);
      expect(taken.expiresAt).toBe(clock.ms + 60_000);
      expect(await store.releaseLease(taken)).toBe('released');
    });

    it('renews an expired lease nobody took, and returns lost for a second release', async () => {
      const { store, clock } = makeStore();
      const target = newTarget();
      const lease = await store.acquireLease(target, 'a', 30);
      if (!lease) throw new Error('lease expected');
      clock.ms += 31_000;

      const renewed = await store.renewLease(lease, 30);
      const blocked = await store.acquireLease(target, 'b', 30);
      const first = await store.releaseLease(lease);
      const second = await store.releaseLease(lease);

      expect(renewed).toBe(true);
      expect(lease.expiresAt).toBe(clock.ms + 30_000);
      expect(blocked).toBeNull();
      expect([first, second]).toEqual(['released', 'lost']);
    });

    it('returns dirty after markDirty, keeps the lease, then released on the second call', async () => {
      // Prepare
      const { store } = makeStore();
      const target = newTarget();
      const lease = await store.acquireLease(target, 'a', 60);
      if (!lease) throw new Error('lease expected');

      // Act
      await store.markDirty([target, { ...target }, newTarget()]);
      const first = await store.releaseLease(lease);
      const blocked = await store.acquireLease(target, 'b', 60);
      const second = await store.releaseLease(lease);

      // Assess
      expect(first).toBe('dirty');
      expect(lease.seenSeq).toBe(1);
      expect(blocked).toBeNull();
      expect(second).toBe('released');
      expect(await store.acquireLease(target, 'b', 60)).toMatchObject({ owner: 'b', seenSeq: 1 });
    });

    it('records the holder and the time of the last renewal, and readLease shows them until release', async () => {
      // Prepare
      const { store, clock } = makeStore();
      const target = newTarget();
      const holder = { host: 'build-7', pid: 4242, processStart: 'linux:12345' };
      const lease = await store.acquireLease(target, 'a', 60, { holder });
      if (!lease) throw new Error('lease expected');

      // Act
      const first = await store.readLease(target);
      clock.ms += 5_000;
      await store.renewLease(lease, 60);
      const renewed = await store.readLease(target);
      await store.releaseLease(lease);

      // Assess
      expect(first).toEqual({ owner: 'a', expiresAt: T0 + 60_000, renewedAt: T0, holder, seq: 0 });
      expect(renewed).toMatchObject({ renewedAt: T0 + 5_000, expiresAt: T0 + 65_000, holder });
      expect(await store.readLease(target)).toBeNull();
      expect(await store.readLease(newTarget())).toBeNull();
    });

    it('hands an unexpired lease to an owner replacing the holder it names, and to nobody else', async () => {
      const { store } = makeStore();
      const target = newTarget();
      const dead = await store.acquireLease(target, 'dead', 600, { holder: { host: 'h', pid: 1 } });

      const wrongName = await store.acquireLease(target, 'b', 60, { replacing: 'someone-else' });
      const taken = await store.acquireLease(target, 'c', 60, { replacing: 'dead', holder: { host: 'h', pid: 2 } });

      expect(dead).not.toBeNull();
      expect(wrongName).toBeNull();
      expect(taken).toMatchObject({ owner: 'c' });
      expect(await store.readLease(target)).toMatchObject({ owner: 'c', holder: { host: 'h', pid: 2 } });
      if (dead) expect(await store.releaseLease(dead)).toBe('lost');
    });

    it('force-releases the lease of the owner shown, once, and adds 1 to the change counter', async () => {
      // Prepare
      const { store } = makeStore();
      const target = newTarget();
      const lease = await store.acquireLease(target, 'crashed', 600);
      if (!lease) throw new Error('lease expected');

      // Act
      const wrongOwner = await store.forceReleaseLease(target, 'someone-else');
      const first = await store.forceReleaseLease(target, 'crashed');
      const second = await store.forceReleaseLease(target, 'crashed');

      // Assess
      expect([wrongOwner, first, second]).toEqual([false, true, false]);
      expect(await store.readLease(target)).toBeNull();
      expect(await store.releaseLease(lease)).toBe('lost');
      expect(await store.acquireLease(target, 'next', 60)).toMatchObject({ owner: 'next', seenSeq: 1 });
    });

    it('returns from leaseEnds the holder\'s expiry, and the ends of leases taken over or unlocked (a run\'s end)', async () => {
      // Prepare: r-a holds 30 s and renews once at +10 s; it dies; r-b takes the lease after it ran out; r-b is unlocked
      const { store, clock } = makeStore();
      const target = newTarget();
      const untouched = newTarget();
      const a = await store.acquireLease(target, 'r-a:1', 30);
      clock.ms += 10_000;
      if (!a || !(await store.renewLease(a, 30))) throw new Error('lease expected');
      const held = await store.leaseEnds(target);
      clock.ms += 31_000;

      // Act
      await store.acquireLease(target, 'r-b:1', 30);
      const afterTakeover = await store.leaseEnds(target);
      clock.ms += 5_000;
      await store.forceReleaseLease(target, 'r-b:1');
      const afterUnlock = await store.leaseEnds(target);

      // Assess
      expect(held).toEqual({ holder: { owner: 'r-a:1', expiresAt: T0 + 40_000 }, ended: [] });
      expect(afterTakeover).toEqual({ holder: { owner: 'r-b:1', expiresAt: T0 + 71_000 }, ended: [{ owner: 'r-a:1', endedAt: T0 + 40_000 }] });
      expect(afterUnlock.holder).toBeUndefined();
      expect([...afterUnlock.ended].sort((x, y) => x.endedAt - y.endedAt)).toEqual([
        { owner: 'r-a:1', endedAt: T0 + 40_000 },
        { owner: 'r-b:1', endedAt: T0 + 46_000 },
      ]);
      expect(await store.leaseEnds(untouched)).toEqual({ ended: [] });
      expect(await store.acquireLease(target, 'r-c:1', 30)).toMatchObject({ owner: 'r-c:1', seenSeq: 1 });
    });

    it('reads a lease item the landed version wrote (owner, leaseExpiresAt, seq only) and records its end on takeover', async () => {
      const { store, clock } = makeStore();
      const target = newTarget();
      await store.acquireLease(target, 'r-old:5a5a5a5a', 30);
      clock.ms += 31_000;
      const taken = await store.acquireLease(target, 'r-new:1', 30);
      expect(taken).toMatchObject({ owner: 'r-new:1' });
      expect((await store.leaseEnds(target)).ended).toEqual([{ owner: 'r-old:5a5a5a5a', endedAt: T0 + 30_000 }]);
    });

    it('returns the change counter markDirty created for a target never leased', async () => {
      const { store } = makeStore();
      const target = newTarget();

      await store.markDirty([target]);
      await store.markDirty([target]);

      expect(await store.acquireLease(target, 'a', 60)).toMatchObject({ seenSeq: 2 });
    });
  });

  describe(`Contract: ${implementation} putRun / getRun`, () => {
    const run = (runId: string): RunRecord => ({
      mode: 'apply',
      runId,
      complete: false,
      trigger: 'schedule',
      startedAt: iso(0),
      finishedAt: iso(9),
      targets: [
        {
          name: 'main',
          instanceId: '575ec8687ae143cd83dc4a97',
          orgId: '575ec8687ae143cd83dc4a98',
          desired: 10,
          pending: 2,
          members: 5,
          planned: { ...emptyActionCounts(), invite: 3 },
          done: { ...emptyActionCounts(), invite: 2 },
          failed: 1,
          skipped: { ...emptySkipCounts(), alreadyMember: 5 },
          blocked: null,
          complete: false,
          error: { code: 'deadline', message: 'ran out of time' },
          planHash: 'abc',
        },
      ],
    });

    it('returns the run that was put, and null for an unknown id', async () => {
      const { store } = makeStore();
      const runId = uniqueId('run');

      await store.putRun(run(runId), 3600);

      expect(await store.getRun(runId)).toEqual(run(runId));
      expect(await store.getRun(uniqueId('none'))).toBeNull();
    });

    it('keeps each target\'s failures and warnings, at most 100 of each with the count of the rest', async () => {
      // Arrange
      const { store } = makeStore();
      const runId = uniqueId('run');
      const failures = Array.from({ length: 130 }, (_, i) => ({ email: `p${i}@example.com`, reason: 'ambiguous' as const }));
      const warnings = [{ code: 'missingScope' as const, scope: 'instanceOrgMember.delete' }];
      const base = run(runId);
      const full: RunRecord = { ...base, targets: [{ ...base.targets[0]!, failures, warnings }] };

      // Act
      await store.putRun(full, 3600);
      const got = await store.getRun(runId);
      const listed = (await store.listRuns({ limit: 50 })).find((r) => r.runId === runId);

      // Assess
      expect(got?.targets[0]?.failures).toEqual(failures.slice(0, 100));
      expect(got?.targets[0]?.failuresOmitted).toBe(30);
      expect(got?.targets[0]?.warnings).toEqual(warnings);
      expect(got?.targets[0]?.warningsOmitted).toBeUndefined();
      expect(listed?.targets[0]?.failures).toHaveLength(100);
    });

    it('lists recent runs newest first, of one target when asked, at most limit', async () => {
      // Prepare: three runs of a target only this test uses, one of another, put out of order
      const { store } = makeStore();
      const name = uniqueId('t');
      const other = uniqueId('t');
      const at = (runId: string, offset: number, target: string): RunRecord => ({
        ...run(runId),
        startedAt: iso(offset),
        targets: [{ ...run(runId).targets[0]!, name: target }],
      });
      const [r1, r2, r3, r4] = [uniqueId('r1'), uniqueId('r2'), uniqueId('r3'), uniqueId('r4')];
      await store.putRun(at(r2, -200, name), 3600);
      await store.putRun(at(r1, -300, name), 3600);
      await store.putRun(at(r4, -150, other), 3600);
      await store.putRun(at(r3, -100, name), 3600);

      // Act
      const all = await store.listRuns({ limit: 10, target: name });
      const two = await store.listRuns({ limit: 2, target: name });
      const unfiltered = await store.listRuns({ limit: 50 });

      // Assess
      expect(all.map((r) => r.runId)).toEqual([r3, r2, r1]);
      expect(two.map((r) => r.runId)).toEqual([r3, r2]);
      expect(all[0]).toEqual(at(r3, -100, name));
      expect(unfiltered.map((r) => r.runId)).toEqual(expect.arrayContaining([r1, r2, r3, r4]));
    });

    it('returns a run\'s actions as put, across several stored chunks, and [] for a run without any', async () => {
      const { store } = makeStore();
      const runId = uniqueId('run');
      const actions = Array.from({ length: 520 }, (_, i) => ({
        target: 'main',
        kind: i % 2 ? ('invite' as const) : ('revoke' as const),
        email: `user${i}@example.com`,
        role: 'view' as const,
        ...(i % 2 ? {} : { inviteId: `inv-${i}`, reason: 'leftRoster' as const }),
        result: i % 3 ? ('done' as const) : ('failed' as const),
        ...(i % 3 ? {} : { error: 'badRequest: refused' }),
      }));

      await store.putRunActions(runId, actions, 3600);

      expect(await store.getRunActions(runId)).toEqual(actions);
      expect(await store.getRunActions(uniqueId('none'))).toEqual([]);
    });
  });

  describe(`Contract: ${implementation} putApproval / takeApproval`, () => {
    it('returns true once for an approval, then false', async () => {
      const { store } = makeStore();
      const target = newTarget();
      await store.putApproval(target, 'hash-1', 'run-1');

      const outcomes = await Promise.all([store.takeApproval(target, 'hash-1'), store.takeApproval(target, 'hash-1')]);

      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await store.takeApproval(target, 'hash-1')).toBe(false);
      expect(await store.takeApproval(target, 'other-hash')).toBe(false);
    });

    it('returns false for an approval older than 7 days', async () => {
      const { store, clock } = makeStore();
      const target = newTarget();
      await store.putApproval(target, 'hash-2', 'run-1');

      clock.ms += 7 * 86_400_000 + 1000;

      expect(await store.takeApproval(target, 'hash-2')).toBe(false);
    });
  });

  describe(`Contract: ${implementation} putBlockedSnapshot`, () => {
    it('records the snapshot with its brake code for 30 days', async () => {
      const { store, blockedSnapshot } = makeStore();
      const source = uniqueId('hr');

      await store.putBlockedSnapshot?.(source, 'snap-1', 'emptySnapshot');
      const stored = await blockedSnapshot(source, 'snap-1');

      expect(stored?.code).toBe('emptySnapshot');
      expect(stored?.expiresAt).toBe(T0 / 1000 + 30 * 86_400);
    });

    it('returns the held snapshot with its run id and occurredAt once from takeBlockedSnapshot, then null', async () => {
      // Prepare
      const { store } = makeStore();
      const source = uniqueId('hr');
      await store.putBlockedSnapshot?.(source, 'snap-2', 'emptySnapshot', { runId: 'r-9', occurredAt: iso(-60), eventId: 'evt-9' });

      // Act
      const first = await store.takeBlockedSnapshot?.(source, 'snap-2');
      const second = await store.takeBlockedSnapshot?.(source, 'snap-2');

      // Assess
      expect(first).toEqual({ source, snapshotId: 'snap-2', code: 'emptySnapshot', runId: 'r-9', occurredAt: iso(-60), eventId: 'evt-9' });
      expect(second).toBeNull();
    });

    it('returns null from takeBlockedSnapshot once the held snapshot expired (30 days)', async () => {
      const { store, clock } = makeStore();
      const source = uniqueId('hr');
      await store.putBlockedSnapshot?.(source, 'snap-3', 'emptySnapshot', { runId: 'r-1', occurredAt: iso(0) });

      clock.ms += 30 * 86_400_000 + 1000;

      expect(await store.takeBlockedSnapshot?.(source, 'snap-3')).toBeNull();
    });
  });
}
