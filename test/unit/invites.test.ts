// unit: the newest-invite rule (functions/sync/invites.ts)
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isNewerInvite, newestInvite, newestInviteByEmail, type DatedInvite } from '../../functions/sync/invites.ts';

const id = (n: number): string => n.toString(16).padStart(24, '0');
const at = (inviteDate: string, n: number): DatedInvite => ({ id: id(n), inviteDate });

describe('Function: isNewerInvite', () => {
  it('returns true for the later inviteDate, whatever the ids', () => {
    // Arrange
    const older = at('2024-05-01T00:00:00.000Z', 9);
    const newer = at('2024-05-02T00:00:00.000Z', 1);

    // Act / Assess
    expect(isNewerInvite(newer, older)).toBe(true);
    expect(isNewerInvite(older, newer)).toBe(false);
  });

  it('returns true for the later instant even when the strings sort the other way', () => {
    // Arrange: 09:00+02:00 is 07:00Z, earlier than 08:00Z, but sorts after it as a string
    const offset = at('2024-05-01T09:00:00+02:00', 9);
    const utc = at('2024-05-01T08:00:00.000Z', 1);

    // Act / Assess
    expect(isNewerInvite(utc, offset)).toBe(true);
    expect(isNewerInvite(offset, utc)).toBe(false);
  });

  it('returns true for the greater id when both dates are the same instant', () => {
    // Arrange: the same instant written two ways, and written the same way
    const a = at('2024-05-01T00:00:00Z', 1);
    const b = at('2024-05-01T00:00:00.000Z', 2);
    const c = at('2024-05-01T00:00:00Z', 3);

    // Act / Assess
    expect(isNewerInvite(b, a)).toBe(true);
    expect(isNewerInvite(a, b)).toBe(false);
    expect(isNewerInvite(c, a)).toBe(true);
    expect(isNewerInvite(a, c)).toBe(false);
  });

  it('returns true for a date that parses over one that does not', () => {
    // Arrange
    const bad = at('not a date', 9);
    const good = at('2024-05-01T00:00:00.000Z', 1);

    // Act / Assess
    expect(isNewerInvite(good, bad)).toBe(true);
    expect(isNewerInvite(bad, good)).toBe(false);
  });

  it('returns true for the greater id when neither date parses', () => {
    // Arrange
    const a = at('garbage', 1);
    const b = at('', 2);

    // Act / Assess
    expect(isNewerInvite(b, a)).toBe(true);
    expect(isNewerInvite(a, b)).toBe(false);
  });

  it('returns true for at most one order of any two different invites', () => {
    const dateArb = fc.oneof(
      fc.integer({ min: 0, max: 4 }).map((d) => `2024-05-0${d + 1}T00:00:00.000Z`),
      fc.constant('2024-05-01T00:00:00Z'),
      fc.constant('nope'),
    );
    fc.assert(
      fc.property(dateArb, dateArb, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), (da, db, ia, ib) => {
        const a = at(da, ia);
        const b = at(db, ib);
        const both = isNewerInvite(a, b) && isNewerInvite(b, a);
        const neither = !isNewerInvite(a, b) && !isNewerInvite(b, a);
        expect(both).toBe(false);
        // only an invite compared with itself (same id, same instant or both unparseable) is neither
        if (neither) expect(a.id).toBe(b.id);
      }),
    );
  });
});

describe('Function: newestInvite', () => {
  it('returns undefined for no invites', () => {
    expect(newestInvite([])).toBeUndefined();
  });

  it('returns the same invite whatever the order of the list', () => {
    // Arrange
    const list = [at('2024-05-01T00:00:00.000Z', 1), at('2024-05-03T00:00:00.000Z', 2), at('2024-05-03T00:00:00Z', 3), at('bad', 4)];

    // Act
    const picks = [list, [...list].reverse(), [list[2]!, list[0]!, list[3]!, list[1]!]].map((l) => newestInvite(l)?.id);

    // Assess
    expect(picks).toEqual([id(3), id(3), id(3)]);
  });
});

describe('Function: newestInviteByEmail', () => {
  it('returns the newest invite of each email', () => {
    // Arrange
    const list = [
      { ...at('2024-05-02T00:00:00.000Z', 1), email: 'a@example.com' },
      { ...at('2024-05-01T00:00:00.000Z', 2), email: 'a@example.com' },
      { ...at('bad', 3), email: 'b@example.com' },
    ];

    // Act
    const newest = newestInviteByEmail(list);

    // Assess
    expect([...newest].map(([email, inv]) => [email, inv.id])).toEqual([
      ['a@example.com', id(1)],
      ['b@example.com', id(3)],
    ]);
  });
});
