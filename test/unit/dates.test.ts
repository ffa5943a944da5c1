// unit: start and end dates (sync/dates.ts, pure): local midnight per IANA zone, the checks, and what a run sees
import { describe, expect, it } from 'vitest';
import { applyDates, dateIssues, localMidnight, upcomingStarts } from '../../functions/sync/dates.ts';
import { parseRoster } from '../../functions/sync/roster.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import type { Person } from '../../functions/sync/types.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2030-03-01T00:00:00Z');
const S = { startDateField: 'startDate', endDateField: 'endDate', timeZoneField: 'tz', timeZone: 'UTC' };
const p = (email: string, attributes: Record<string, string>): Person => ({ email, status: 'active', attributes });

describe('Function: localMidnight', () => {
  it('returns 00:00 local of the date in Asia/Tokyo, America/Los_Angeles (summer and winter) and UTC', () => {
    expect(new Date(localMidnight('2030-01-15', 'Asia/Tokyo')!).toISOString()).toBe('2030-01-14T15:00:00.000Z');
    expect(new Date(localMidnight('2030-01-15', 'America/Los_Angeles')!).toISOString()).toBe('2030-01-15T08:00:00.000Z');
    expect(new Date(localMidnight('2030-07-15', 'America/Los_Angeles')!).toISOString()).toBe('2030-07-15T07:00:00.000Z');
    expect(new Date(localMidnight('2030-07-15', 'UTC')!).toISOString()).toBe('2030-07-15T00:00:00.000Z');
    expect(localMidnight('2030-02-30', 'UTC')).toBeUndefined();
    expect(localMidnight('15.01.2030', 'UTC')).toBeUndefined();
  });
});

describe('Function: dateIssues', () => {
  it('names the field of a bad date, an unknown zone, a start over 400 days ahead and an end before the start', () => {
    expect(dateIssues(p('a@x.io', { startDate: '2030-13-01' }), S, NOW)).toEqual([{ path: 'startDate', message: 'must be a date YYYY-MM-DD (got "2030-13-01")' }]);
    expect(dateIssues(p('a@x.io', { startDate: '2030-03-02', tz: 'Mars/Olympus' }), S, NOW).map((i) => i.path)).toEqual(['tz']);
    expect(dateIssues(p('a@x.io', { startDate: new Date(NOW + 401 * DAY).toISOString().slice(0, 10) }), S, NOW)).toEqual([{ path: 'startDate', message: 'more than 400 days ahead' }]);
    expect(dateIssues(p('a@x.io', { startDate: new Date(NOW + 399 * DAY).toISOString().slice(0, 10) }), S, NOW)).toEqual([]);
    expect(dateIssues(p('a@x.io', { startDate: '2030-03-10', endDate: '2030-03-09' }), S, NOW)).toEqual([{ path: 'endDate', message: 'before startDate' }]);
    expect(dateIssues(p('a@x.io', { startDate: 'soon' }), { timeZone: 'UTC' }, NOW)).toEqual([]);
    expect(dateIssues({ ...p('a@x.io', { startDate: 'soon' }), status: 'terminated' }, S, NOW)).toEqual([]);
  });

  it('makes a roster row with a bad date a bad row naming the line and field', () => {
    const csv = 'email,startDate\nok@x.io,2030-03-05\nbad@x.io,2030-3-5\n';
    const r = parseRoster(csv, 'csv', { maxBadRows: 5, check: (person) => dateIssues(person, S, NOW) });
    expect(r.people.map((x) => x.email)).toEqual(['ok@x.io']);
    expect(r.badRows).toEqual([{ line: 3, field: 'startDate', message: 'must be a date YYYY-MM-DD (got "2030-3-5")' }]);
  });
});

describe('Function: applyDates', () => {
  it('leaves out people before their local start, counts people after the local end of their end date as left', () => {
    // Arrange: NOW is 2030-03-01T00:00Z = 09:00 in Tokyo, 16:00 the day before in Los Angeles
    const people = [
      p('tokyo@x.io', { startDate: '2030-03-01', tz: 'Asia/Tokyo' }),
      p('la@x.io', { startDate: '2030-03-01', tz: 'America/Los_Angeles' }),
      p('ended@x.io', { endDate: '2030-02-28' }),
      p('ends-today@x.io', { endDate: '2030-03-01' }),
      p('plain@x.io', {}),
    ];

    // Act
    const { people: seen, notStarted } = applyDates(people, S, NOW);

    // Assert
    expect(seen.map((x) => [x.email, (x as { leftSource?: boolean }).leftSource ?? false])).toEqual([
      ['tokyo@x.io', false],
      ['ended@x.io', true],
      ['ends-today@x.io', false],
      ['plain@x.io', false],
    ]);
    expect(notStarted.map((n) => [n.person.email, new Date(n.startsAt).toISOString()])).toEqual([['la@x.io', '2030-03-01T08:00:00.000Z']]);
    expect(upcomingStarts(people, S, NOW, 50)).toEqual([{ email: 'la@x.io', startsAt: '2030-03-01T08:00:00.000Z' }]);
  });

  it('reads timeZone (default UTC) and people from the config, refusing an unknown zone', () => {
    const target = { name: 'eng', instanceId: 'a'.repeat(24), orgId: 'b'.repeat(24), rules: [{ when: {}, role: 'view' }] };
    expect(parseSyncConfig({ targets: [target] })).toMatchObject({ timeZone: 'UTC', people: {} });
    expect(parseSyncConfig({ targets: [target], timeZone: 'Asia/Tokyo', people: { startDateField: 'startDate' } })).toMatchObject({ timeZone: 'Asia/Tokyo', people: { startDateField: 'startDate' } });
    expect(() => parseSyncConfig({ targets: [target], timeZone: 'Nowhere/City' })).toThrow(/timeZone: must be an IANA time zone/);
  });
});
