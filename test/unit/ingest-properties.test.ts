// unit (fast-check): ingestHrEvent on MemoryStateStore (held to the DynamoDB store's contract) --> delivery order
// does not matter: random HR event sequences delivered shuffled, with duplicates, store what in-order delivery stores
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ingestHrEvent } from '../../functions/sync/ingest.ts';
import type { HrEvent } from '../../functions/sync/events.ts';
import type { Person, StoredPerson, Target } from '../../functions/sync/types.ts';
import { MemoryStateStore } from '../helpers/memory-store.ts';
import { memoryLog } from '../helpers/sync-harness.ts';

/** A whole minute near the real now: every event lies in the past (nothing here ages). */
const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const TARGETS: Target[] = [{ name: 't', instanceId: 'i'.repeat(24), orgId: 'o'.repeat(24), rules: [{ when: {}, role: 'view' }] }];
/** Four people, each with one employeeId and one email of their own (no two people share an email) */
const PEOPLE = [0, 1, 2, 3];

interface Draft {
  kind: 'upsert' | 'terminate' | 'snapshot';
  source: 'hr' | 'crm';
  who: number;
  withId: boolean;
  dept: 'eng' | 'ops';
  /** a snapshot's rows: who, with their id or by email alone, active or not */
  rows: { who: number; withId: boolean; active: boolean; dept: 'eng' | 'ops' }[];
}

const row = fc.record({ who: fc.constantFrom(...PEOPLE), withId: fc.boolean(), active: fc.boolean(), dept: fc.constantFrom<'eng' | 'ops'>('eng', 'ops') });
const draft = (snapshots: boolean): fc.Arbitrary<Draft> =>
  fc.record({
    kind: snapshots ? fc.constantFrom<Draft['kind']>('upsert', 'upsert', 'terminate', 'snapshot') : fc.constantFrom<Draft['kind']>('upsert', 'upsert', 'terminate'),
    source: fc.constantFrom<Draft['source']>('hr', 'crm'),
    who: fc.constantFrom(...PEOPLE),
    withId: fc.boolean(),
    dept: fc.constantFrom<'eng' | 'ops'>('eng', 'ops'),
    rows: fc.uniqueArray(row, { selector: (r) => r.who, maxLength: 4 }),
  });

const personOf = (who: number, withId: boolean, status: Person['status'], dept: string): Person => ({
  email: `p${who}@example.com`,
  ...(withId ? { employeeId: `E${who}` } : {}),
  status,
  attributes: { dept },
});

/** Drafts as HR events, each with its own id and its own occurredAt (one second apart, oldest first). */
function toEvents(drafts: Draft[]): HrEvent[] {
  return drafts.map((d, i): HrEvent => {
    const base = { id: `evt-${i}`, occurredAt: new Date(NOW - (drafts.length - i) * 1000).toISOString(), source: d.source };
    if (d.kind === 'snapshot') return { ...base, type: 'roster.snapshot', people: d.rows.map((r) => personOf(r.who, r.withId, r.active ? 'active' : 'terminated', r.dept)) };
    if (d.kind === 'upsert') return { ...base, type: 'person.upserted', person: personOf(d.who, d.withId, 'active', d.dept) };
    return { ...base, type: 'person.terminated', person: { ...personOf(d.who, d.withId, 'terminated', d.dept), status: 'terminated' } };
  });
}

async function ingestAll(events: readonly HrEvent[]): Promise<StoredPerson[]> {
  const store = new MemoryStateStore({ now: () => NOW });
  const deps = { store, clock: { now: () => NOW }, log: memoryLog() };
  // force: an empty snapshot is applied (the brake is not what this property is about)
  for (const event of events) await ingestHrEvent(deps, event, { targets: TARGETS, force: true });
  return store.listPeople();
}

/** Everything stored about each person, in a stable order. */
const full = (people: StoredPerson[]) =>
  people.map((p) => ({ source: p.source, identity: p.identity, email: p.email, employeeId: p.employeeId, status: p.status, attributes: p.attributes, lastEventAt: p.lastEventAt, leftSource: p.leftSource }));

/** Who counts: the active, still-listed people of each source and what is known of them. */
const counting = (people: StoredPerson[]) =>
  people.filter((p) => p.status === 'active' && !p.leftSource).map((p) => ({ source: p.source, identity: p.identity, email: p.email, employeeId: p.employeeId, attributes: p.attributes }));

/** The events shuffled, some delivered twice (a redelivery carries the same id). */
const deliveries = (events: HrEvent[]) =>
  fc.shuffledSubarray(events).chain((again) => {
    const all = [...events, ...again];
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
  });

describe('Function: ingestHrEvent (order of delivery)', () => {
  it('stores for person events shuffled, with duplicates, exactly what in-order delivery stores', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(draft(false), { minLength: 1, maxLength: 10 }).map(toEvents).chain((events) => fc.tuple(fc.constant(events), deliveries(events))),
        async ([events, delivered]) => {
          // Act
          const inOrder = await ingestAll(events);
          const shuffled = await ingestAll(delivered);

          // Assess
          expect(full(shuffled)).toEqual(full(inOrder));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('leaves the same people counting for events and snapshots shuffled, with duplicates, as in-order delivery', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(draft(true), { minLength: 1, maxLength: 10 }).map(toEvents).chain((events) => fc.tuple(fc.constant(events), deliveries(events))),
        async ([events, delivered]) => {
          // Act
          const inOrder = await ingestAll(events);
          const shuffled = await ingestAll(delivered);

          // Assess
          expect(counting(shuffled)).toEqual(counting(inOrder));
        },
      ),
      { numRuns: 300 },
    );
  });
});
