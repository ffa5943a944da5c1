// unit: the seat rule (functions/sync/seats.ts) on plans made by the real planner
import { describe, expect, it } from 'vitest';
import { allotSeats, compareSeatRank, cutToSeats, freeSeats, seatsUsed, type SeatInput } from '../../functions/sync/seats.ts';
import { planTarget } from '../../functions/sync/planner.ts';
import { hashPlan } from '../../functions/sync/plan-hash.ts';
import type { LedgerEntry, Member, PendingInvite, Policy, Rule, StoredPerson } from '../../functions/sync/types.ts';
import { DAY, iso, member, pendingInvite, sentEntry, storedPerson } from '../helpers/builders.ts';

const NOW = Date.parse('2031-05-04T09:00:00.000Z');
const POLICY: Policy = { renewExpired: true, maxRenewals: 3, revokeLeft: true, fixRole: true };
/** rule 1: Engineering edits; rule 2: everyone else views */
const RULES: Rule[] = [
  { when: { department: 'Engineering' }, role: 'edit' },
  { when: {}, role: 'view' },
];

const eng = (email: string, daysAgo: number): StoredPerson => storedPerson(email, { lastEventAt: iso(NOW - daysAgo * DAY) });
const sales = (email: string, daysAgo: number): StoredPerson =>
  storedPerson(email, { lastEventAt: iso(NOW - daysAgo * DAY), attributes: { department: 'Sales' } });

function seatInput(
  people: StoredPerson[],
  opts: { limit?: number; reserve?: number; members?: Member[]; pending?: PendingInvite[]; ledger?: LedgerEntry[]; explain?: boolean } = {},
): SeatInput {
  const members = opts.members ?? [];
  const pending = opts.pending ?? [];
  const plan = planTarget({ rules: RULES, people, pending, members, ledger: opts.ledger ?? [], policy: POLICY, now: NOW, ...(opts.explain ? { explain: true } : {}) });
  return { plan, memberLimit: opts.limit, reserveSeats: opts.reserve ?? 0, members, pending, people, rules: RULES };
}

const emailsOf = (input: SeatInput, kind?: string) =>
  cutToSeats(input).plan.actions.filter((a) => kind === undefined || a.kind === kind).map((a) => a.email);

describe('Function: cutToSeats', () => {
  it('returns the plan unchanged and no seats when the org has no member limit', () => {
    // Arrange
    const input = seatInput([eng('a@example.com', 1), eng('b@example.com', 2)]);

    // Act
    const out = cutToSeats(input);

    // Assert
    expect(out.plan).toBe(input.plan);
    expect(out.seats).toBeUndefined();
    expect(out.plan.actions).toHaveLength(2);
  });

  it('returns every invite when the free seats suffice, and the seats used once they are sent', () => {
    // Arrange: limit 5, 1 member + 1 unexpired pending + 1 expired (not counted) → 3 free for 2 invites
    const members = [member('m@example.com')];
    const pending = [pendingInvite('p@example.com', { inviteDate: iso(NOW - DAY) }), pendingInvite('old@example.com', { inviteDate: iso(NOW - 9 * DAY), hasExpired: true })];
    const input = seatInput([eng('a@example.com', 1), eng('b@example.com', 2)], { limit: 5, members, pending });

    // Act
    const out = cutToSeats(input);

    // Assert
    expect(out.plan.actions.map((a) => a.email)).toEqual(['a@example.com', 'b@example.com']);
    expect(out.plan.skipped.noSeat).toBe(0);
    expect(out.seats).toEqual({ limit: 5, reserve: 0, used: 4, free: 1, noSeat: 0 });
  });

  it('gives the seats to the earlier rule first, whatever the event times', () => {
    // Arrange: one free seat; the Sales person (rule 2) has the older event
    const input = seatInput([sales('early@example.com', 30), eng('late@example.com', 1)], { limit: 1 });

    // Act
    const kept = emailsOf(input);

    // Assert
    expect(kept).toEqual(['late@example.com']);
  });

  it('gives the seats within one rule to the older HR event first, then by email', () => {
    // Arrange: two free seats, four Engineering people
    const input = seatInput([eng('d@example.com', 1), eng('c@example.com', 5), eng('b@example.com', 3), eng('a@example.com', 3)], { limit: 2 });

    // Act
    const out = cutToSeats(input);

    // Assert: c (5 days) first, then a and b tie on 3 days → a by email
    expect(out.plan.actions.map((a) => a.email)).toEqual(['a@example.com', 'c@example.com']);
    expect(out.plan.skipped.noSeat).toBe(2);
    expect(out.seats).toMatchObject({ used: 2, free: 0, noSeat: 2 });
  });

  it('gives the seats within one rule to the earlier start date first (people.startDateField), then people without one by HR event', () => {
    // Arrange: two free seats; the two with the oldest HR events started last or have no start date
    const started = (email: string, daysAgo: number, startDate?: string): StoredPerson =>
      storedPerson(email, { lastEventAt: iso(NOW - daysAgo * DAY), attributes: { department: 'Engineering', ...(startDate ? { startDate } : {}) } });
    const people = [started('x@example.com', 40, '2031-05-03'), started('y@example.com', 1, '2031-04-01'), started('z@example.com', 2, '2031-04-20'), started('w@example.com', 50)];
    const input = { ...seatInput(people, { limit: 2 }), dates: { startDateField: 'startDate', timeZone: 'UTC' } };

    // Act
    const out = cutToSeats(input);
    const withoutDates = cutToSeats({ ...input, dates: undefined });

    // Assert: y (April 1) and z (April 20) start first; x and w, with older HR events, wait
    expect(out.plan.actions.map((a) => a.email)).toEqual(['y@example.com', 'z@example.com']);
    expect(withoutDates.plan.actions.map((a) => a.email)).toEqual(['w@example.com', 'x@example.com']);
  });

  it('keeps limits.reserveSeats free', () => {
    // Arrange: limit 4, 1 member, reserve 2 → 1 free seat for 3 invites
    const input = seatInput([eng('a@example.com', 3), eng('b@example.com', 2), eng('c@example.com', 1)], { limit: 4, reserve: 2, members: [member('m@example.com')] });

    // Act
    const out = cutToSeats(input);

    // Assert
    expect(out.plan.actions.map((a) => a.email)).toEqual(['a@example.com']);
    expect(out.seats).toEqual({ limit: 4, reserve: 2, used: 2, free: 0, noSeat: 2 });
  });

  it('counts a renewal as taking a seat (its expired invite did not count)', () => {
    // Arrange: our expired invite for r@ (a renewal), a new hire n@ with an older event, limit 2 with 1 member
    const expired = pendingInvite('r@example.com', { inviteDate: iso(NOW - 10 * DAY), hasExpired: true, role: 'edit' });
    const input = seatInput([eng('r@example.com', 20), eng('n@example.com', 40)], {
      limit: 2,
      members: [member('m@example.com')],
      pending: [expired],
      ledger: [sentEntry(expired)],
    });
    expect(input.plan.actions.map((a) => a.kind).sort()).toEqual(['invite', 'renew']);

    // Act
    const out = cutToSeats(input);

    // Assert: one seat; the new hire's older event wins it, the renewal is cut
    expect(out.plan.actions.map((a) => `${a.kind} ${a.email}`)).toEqual(['invite n@example.com']);
    expect(out.plan.skipped.noSeat).toBe(1);
  });

  it('cuts everything when the org is already over its limit, and reports 0 free (never negative)', () => {
    // Arrange: limit 1, 2 members already
    const input = seatInput([eng('a@example.com', 1)], { limit: 1, members: [member('m1@example.com'), member('m2@example.com')] });

    // Act
    const out = cutToSeats(input);

    // Assert
    expect(out.plan.actions).toEqual([]);
    expect(out.seats).toEqual({ limit: 1, reserve: 0, used: 2, free: 0, noSeat: 1 });
  });

  it('keeps revocations and role fixes (no seat needed), and counts a revoked unexpired invite as freed once the plan ran', () => {
    // Arrange: limit 2; our unexpired invite of a leaver (revoked), our invite with a wrong role (fixRole); a new hire
    const leaver = pendingInvite('gone@example.com', { inviteDate: iso(NOW - DAY), role: 'view' });
    const wrong = pendingInvite('w@example.com', { inviteDate: iso(NOW - DAY), role: 'view' });
    const input = seatInput([eng('w@example.com', 10), eng('new@example.com', 1)], {
      limit: 2,
      pending: [leaver, wrong],
      ledger: [sentEntry(leaver), sentEntry(wrong)],
    });

    // Act
    const out = cutToSeats(input);

    // Assert: no free seat for the invite now (the revoke may land after the POST); after the plan one seat is free
    expect(out.plan.actions.map((a) => `${a.kind} ${a.email}`)).toEqual(['fixRole w@example.com', 'revoke gone@example.com']);
    expect(out.seats).toEqual({ limit: 2, reserve: 0, used: 1, free: 1, noSeat: 1 });
  });

  it('lists the cut people under skippedPeople.noSeat when explained, and rehashes the kept actions', () => {
    // Arrange
    const input = seatInput([eng('a@example.com', 3), eng('b@example.com', 2), eng('c@example.com', 1)], { limit: 1, explain: true });

    // Act
    const out = cutToSeats(input);

    // Assert
    expect(out.plan.skippedPeople?.noSeat).toEqual(['b@example.com', 'c@example.com']);
    expect(out.plan.hash).toBe(hashPlan(out.plan.actions));
    expect(out.plan.hash).not.toBe(input.plan.hash);
    expect(input.plan.actions).toHaveLength(3);
  });

  it('gives the same seats whatever order the people come in', () => {
    // Arrange
    const people = [eng('a@example.com', 2), sales('b@example.com', 9), eng('c@example.com', 2), sales('d@example.com', 1), eng('e@example.com', 7)];

    // Act
    const forward = emailsOf(seatInput(people, { limit: 3 }));
    const backward = emailsOf(seatInput([...people].reverse(), { limit: 3 }));

    // Assert
    expect(forward).toEqual(['a@example.com', 'c@example.com', 'e@example.com']);
    expect(backward).toEqual(forward);
  });
});

describe('Function: allotSeats / compareSeatRank / seatsUsed / freeSeats', () => {
  it('returns the first `free` requests by rule, then start date, then time, then email', () => {
    // Arrange
    const requests = [
      { rule: 1, at: 0, email: 'x@example.com' },
      { rule: 0, at: 9, email: 'y@example.com' },
      { rule: 0, at: 9, email: 'a@example.com' },
      { rule: 0, at: Infinity, email: 'b@example.com' },
    ];

    // Act
    const chosen = allotSeats(requests, 2);

    // Assert
    expect([...chosen].sort()).toEqual([1, 2]);
    expect(compareSeatRank(requests[2]!, requests[1]!)).toBeLessThan(0);
    // a start date ranks before the event time, and a person without one comes after those with one
    expect(compareSeatRank({ rule: 0, start: 5, at: 9, email: 'y@example.com' }, { rule: 0, start: 6, at: 0, email: 'a@example.com' })).toBeLessThan(0);
    expect(compareSeatRank({ rule: 0, at: 0, email: 'a@example.com' }, { rule: 0, start: 6, at: 9, email: 'y@example.com' })).toBeGreaterThan(0);
    expect(compareSeatRank({ rule: 1, start: 0, at: 0, email: 'a@example.com' }, { rule: 0, at: 9, email: 'y@example.com' })).toBeGreaterThan(0);
    expect(allotSeats(requests, 0).size).toBe(0);
    expect(allotSeats(requests, 10).size).toBe(4);
  });

  it('counts members and unexpired invites only, and never returns negative free seats', () => {
    // Arrange
    const pending = [pendingInvite('a@example.com', { inviteDate: iso(NOW) }), pendingInvite('b@example.com', { inviteDate: iso(NOW - 8 * DAY), hasExpired: true })];

    // Act
    const used = seatsUsed([member('m@example.com')], pending);

    // Assert
    expect(used).toBe(2);
    expect(freeSeats({ limit: 10, used, reserve: 3 })).toBe(5);
    expect(freeSeats({ limit: 1, used, reserve: 0 })).toBe(0);
  });
});
