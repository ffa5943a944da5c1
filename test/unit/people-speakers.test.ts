// unit (fast-check): people.ts speakingPeople / speakersBySlot against the rule written out plainly
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { newerPerson, speakersBySlot, speakingPeople } from '../../functions/sync/people.ts';
import type { StoredPerson } from '../../functions/sync/types.ts';

/** The rule as its TSDoc states it: a record whose employeeId has a newer record is out; the newest per email speaks when active and listed. */
function reference(people: readonly StoredPerson[]): StoredPerson[] {
  const newestById = new Map<string, StoredPerson>();
  for (const p of people) {
    if (p.employeeId === undefined) continue;
    const seen = newestById.get(p.employeeId);
    if (seen === undefined || newerPerson(p, seen)) newestById.set(p.employeeId, p);
  }
  const newestByEmail = new Map<string, StoredPerson>();
  for (const p of people) {
    if (p.employeeId !== undefined && newestById.get(p.employeeId) !== p) continue;
    const seen = newestByEmail.get(p.email);
    if (seen === undefined || newerPerson(p, seen)) newestByEmail.set(p.email, p);
  }
  return [...newestByEmail.values()].filter((p) => p.status === 'active' && !p.leftSource);
}

const TIMES = ['2024-05-01T00:00:00.000Z', '2024-05-01T00:00:00Z', '2024-06-01T00:00:00.000Z', 'not a date', ''];
const peopleArb = fc
  .array(
    fc.record({
      email: fc.constantFrom('a@x.io', 'b@x.io', 'c@x.io', 'd@x.io'),
      employeeId: fc.option(fc.constantFrom('E1', 'E2', 'E3', 'E4', 'E5', 'E6'), { nil: undefined }),
      n: fc.nat(3),
      source: fc.constantFrom('hr', 'crm'),
      status: fc.constantFrom('active', 'active', 'terminated'),
      leftSource: fc.option(fc.boolean(), { nil: undefined }),
      lastEventAt: fc.constantFrom(...TIMES),
    }),
    { maxLength: 12 },
  )
  .map((list) =>
    list.map(({ employeeId, n, leftSource, status, ...p }): StoredPerson => ({
      ...p,
      status: status as StoredPerson['status'],
      identity: employeeId !== undefined ? `emp:${employeeId}` : `email:${p.email}#${n}`,
      attributes: {},
      ...(employeeId !== undefined ? { employeeId } : {}),
      ...(leftSource !== undefined ? { leftSource } : {}),
    })),
  );

describe('Function: speakingPeople', () => {
  it('gives the records the rule gives, in the same order, whether or not an employeeId repeats', () => {
    fc.assert(
      fc.property(peopleArb, (people) => {
        expect(speakingPeople(people)).toEqual(reference(people));
        // the same objects, not copies
        speakingPeople(people).forEach((p, i) => expect(p).toBe(reference(people)[i]));
      }),
      { numRuns: 2000 },
    );
  });

  it('lets the newer record of a repeated employeeId speak, not the older one under another email', () => {
    const older: StoredPerson = { email: 'old@x.io', employeeId: 'E1', identity: 'emp:E1', source: 'crm', status: 'active', attributes: {}, lastEventAt: '2024-05-01T00:00:00.000Z' };
    const newer: StoredPerson = { ...older, email: 'new@x.io', source: 'hr', lastEventAt: '2024-06-01T00:00:00.000Z' };
    expect(speakingPeople([older, newer])).toEqual([newer]);
    expect(speakingPeople([newer, older])).toEqual([newer]);
  });
});

describe('Function: speakersBySlot', () => {
  it('fills each slot with the record speakingPeople gives for its email, under any numbering of the emails', () => {
    const numbering = fc.shuffledSubarray([0, 1, 2, 3, 4, 5, 6, 7], { minLength: 4, maxLength: 4 });
    fc.assert(
      fc.property(peopleArb, numbering, (people, slotsOf) => {
        const emails = ['a@x.io', 'b@x.io', 'c@x.io', 'd@x.io'];
        const out = new Array<StoredPerson | undefined>(8);
        speakersBySlot(people, (email) => slotsOf[emails.indexOf(email)]!, out);
        const speakers = reference(people);
        emails.forEach((email, i) => expect(out[slotsOf[i]!]).toBe(speakers.find((p) => p.email === email)));
        expect(out.filter((p) => p !== undefined)).toHaveLength(speakers.length);
      }),
      { numRuns: 2000 },
    );
  });
});
