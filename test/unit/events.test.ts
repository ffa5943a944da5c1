// unit: HR event document --> HrEvent (functions/sync/events.ts), against the JSON fixtures
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_PEOPLE_PER_EVENT, parseHrEvent } from '../../functions/sync/events.ts';
import { InputError } from '../../functions/sync/errors.ts';
import { inputError } from '../helpers/errors.ts';
import { daysAgo, fixture as readFixture } from '../helpers/fixtures.ts';

const fixture = (name: string): Record<string, unknown> => readFixture(`events/${name}`);


describe('Function: parseHrEvent', () => {
  it('returns a person.upserted event with the person as a domain Person and occurredAt in UTC', () => {
    // Act
    const event = parseHrEvent(fixture('person-upserted.json'));

    // Assert
    expect(event.type).toBe('person.upserted');
    if (event.type !== 'person.upserted') return;
    expect(event.occurredAt).toBe(`${daysAgo(34)}T07:15:00.000Z`);
    expect(event.source).toBe('workday');
    expect(event.person).toEqual({
      email: 'priya.natarajan@example.com',
      employeeId: 'E2001',
      status: 'active',
      attributes: {
        firstName: 'Priya', lastName: 'Natarajan', department: 'Engineering', title: 'Software Engineer II',
        employeeType: 'employee', location: 'Bengaluru', fte: '1',
      },
    });
  });

  it('returns a person.terminated event whose person is terminated', () => {
    const event = parseHrEvent(fixture('person-terminated.json'));
    expect(event.type === 'person.terminated' && event.person).toEqual({
      email: 'linus.torvalds@example.com', employeeId: 'E1010', status: 'terminated', attributes: {},
    });
  });

  it('returns person.terminated as terminated even when the body says active', () => {
    const doc = { ...fixture('person-terminated.json'), person: { email: 'x@y.io', status: 'active' } };
    const event = parseHrEvent(doc);
    expect(event.type === 'person.terminated' && event.person.status).toBe('terminated');
  });

  it('returns a roster.snapshot with every person normalised', () => {
    // Act
    const event = parseHrEvent(fixture('roster-snapshot.json'));

    // Assert
    expect(event.type).toBe('roster.snapshot');
    if (event.type !== 'roster.snapshot') return;
    expect(event.people.map((p) => p.email)).toContain('lena.schmidt@xn--mller-kva.de');
    expect(event.people.find((p) => p.employeeId === 'E1010')?.status).toBe('terminated');
    expect(event.parts).toBeUndefined();
  });

  it('returns both parts of a multi-part snapshot with snapshotId, part and parts', () => {
    const one = parseHrEvent(fixture('roster-snapshot-part-1-of-2.json'));
    const two = parseHrEvent(fixture('roster-snapshot-part-2-of-2.json'));
    expect([one, two].map((e) => (e.type === 'roster.snapshot' ? [e.snapshotId, e.part, e.parts] : null))).toEqual([
      [`snap-${daysAgo(31)}`, 1, 2],
      [`snap-${daysAgo(31)}`, 2, 2],
    ]);
  });

  it('returns source "default" when the event names none', () => {
    const { source: _source, ...doc } = fixture('person-upserted.json');
    expect(parseHrEvent(doc).source).toBe('default');
  });

  it('throws InputError naming person.email for an invalid address', () => {
    // Act
    const err = inputError(() => parseHrEvent(fixture('invalid-person-email.json')));

    // Assert
    expect(err.message).toBe('person.email: invalid email');
    expect(err.issues).toEqual([{ path: 'person.email', message: 'invalid email' }]);
  });

  it('throws InputError naming both indexes of a duplicate person in a snapshot', () => {
    // Act
    const err = inputError(() => parseHrEvent(fixture('invalid-snapshot-duplicate.json')));

    // Assert
    expect(err.message).toBe('people.2: same person as people.0 (employeeId)');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown top-level key', { extra: true }, 'extra: unknown field'],
    ['an unknown type', { type: 'person.hired' }, 'type: must be one of person.upserted, person.terminated, roster.snapshot'],
    ['a missing id', { id: undefined }, 'id: required'],
    ['an empty id', { id: '' }, 'id: must not be empty'],
    ['an id over 256 characters', { id: 'x'.repeat(257) }, 'id: longer than 256 characters'],
    ['a time without a zone', { occurredAt: '2024-05-02T09:15:00' }, 'occurredAt: must be an ISO date-time with a time zone'],
    ['a date only', { occurredAt: '2024-05-02' }, 'occurredAt: must be an ISO date-time with a time zone'],
    ['a bad source', { source: 'work day' }, 'source: must be 1-64 characters of A-Z a-z 0-9 . _ -'],
    ['people on a person event', { people: [] }, 'people: unknown field'],
    ['a missing person', { person: undefined }, 'person: must be an object'],
  ])('throws InputError for %s', (_what, change, message) => {
    // Arrange
    const doc = { ...fixture('person-upserted.json'), ...change };

    // Act / Assert
    expect(inputError(() => parseHrEvent(doc)).message).toBe(message);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['parts > 1 without snapshotId', { parts: 2, part: 1, snapshotId: undefined }, 'snapshotId: required when parts > 1'],
    ['parts > 1 without part', { parts: 3, part: undefined }, 'part: required when parts > 1'],
    ['part beyond parts', { part: 3 }, 'part: must be between 1 and parts (2)'],
    ['part 0', { part: 0 }, 'part: must be a whole number from 1 to 1000'],
    ['part without parts', { parts: undefined, snapshotId: undefined }, 'parts: required when part is given'],
    ['people that are not an array', { people: { a: 1 } }, 'people: must be an array'],
    ['a bad person', { people: [{ email: 'ok@x.io' }, { email: 'bad' }] }, 'people.1.email: invalid email'],
  ])('throws InputError for a snapshot with %s', (_what, change, message) => {
    const doc = { ...fixture('roster-snapshot-part-1-of-2.json'), ...change };
    expect(inputError(() => parseHrEvent(doc)).message).toBe(message);
  });

  it(`throws InputError for more than ${MAX_PEOPLE_PER_EVENT} people in one event`, () => {
    // Arrange
    const people = Array.from({ length: MAX_PEOPLE_PER_EVENT + 1 }, (_, i) => ({ email: `p${i}@example.com` }));

    // Act / Assert
    expect(() => parseHrEvent({ ...fixture('roster-snapshot.json'), people })).toThrow(/people: more than 10000/);
  });

  it(`returns a snapshot of exactly ${MAX_PEOPLE_PER_EVENT} people`, () => {
    const people = Array.from({ length: MAX_PEOPLE_PER_EVENT }, (_, i) => ({ email: `p${i}@example.com`, employeeId: `E${i}` }));
    const event = parseHrEvent({ ...fixture('roster-snapshot.json'), people });
    expect(event.type === 'roster.snapshot' && event.people.length).toBe(MAX_PEOPLE_PER_EVENT);
  });

  it('returns an event or throws InputError for any JSON value, nothing else', () => {
    const base = fixture('roster-snapshot.json');
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ type: fc.constantFrom('person.upserted', 'roster.snapshot'), id: fc.string(), occurredAt: fc.string(), person: fc.jsonValue(), people: fc.array(fc.jsonValue()) }, { requiredKeys: [] }).map((r) => ({ ...base, ...r }))), (doc) => {
        try {
          const event = parseHrEvent(doc);
          expect(typeof event.id).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(InputError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
