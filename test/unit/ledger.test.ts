// unit: ledger states and transitions (functions/sync/ledger.ts)
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  claimedEntry, claimedInvite, failedEntry, intentEntry, intentStatus, isBrakedRemainder, isManaged, learntEntry, ourInviteId,
  revokedEntry, sentEntry as sentAfter, unlistedVerdict, type IntentClock, type LedgerStamp,
} from '../../functions/sync/ledger.ts';
import { ABANDON_AFTER_MS, CLOCK_SKEW_MS, SETTLE_MS, SETTLE_SECONDS } from '../../functions/sync/ownership.ts';
import { ApiError } from '../../functions/sync/errors.ts';
import type { LedgerEntry } from '../../functions/sync/types.ts';
import { action, DAY, hexId, iso, ledgerEntry, pendingInvite, sentEntry } from '../helpers/builders.ts';

const NOW = Date.parse('2030-03-01T12:00:00.000Z');
const STAMP: LedgerStamp = { runId: 'run-2', at: iso(NOW) };
const EVENT_AT = iso(NOW - 30 * DAY);
const SETTLE = 10 * 60 * 1000;

describe('Function: ourInviteId', () => {
  it('returns the invite id of a sent entry only', () => {
    // Arrange
    const inv = pendingInvite('a@example.com', { inviteDate: iso(NOW - DAY) });
    const states = (['intent', 'sent', 'failed', 'revoked'] as const).map((state) => ({ ...sentEntry(inv), state }));

    // Act
    const ids = [undefined, ...states].map((e) => ourInviteId(e));

    // Assess
    expect(ids).toEqual([undefined, undefined, inv.id, undefined, undefined]);
  });
});

describe('Function: isBrakedRemainder', () => {
  it('returns true only for an invite whose entry is an intent that is not abandoned', () => {
    // Arrange: run-1 ended a day ago (settled), run-old ended 8 days + settle ago (abandoned)
    const clock: IntentClock = { now: NOW, leaseMs: 120_000, ends: new Map([['run-1', NOW - DAY], ['run-old', NOW - 8 * DAY - SETTLE_MS]]) };
    const intent = ledgerEntry('a@example.com', { state: 'intent', updatedAt: iso(NOW - DAY - 60_000) });
    const abandoned = ledgerEntry('a@example.com', { state: 'intent', runId: 'run-old', updatedAt: iso(NOW - 9 * DAY) });
    const sent = { ...intent, state: 'sent' as const };

    // Act / Assess
    expect(isBrakedRemainder(action('a@example.com'), intent, clock)).toBe(true);
    expect(isBrakedRemainder(action('a@example.com'), abandoned, clock)).toBe(false);
    expect(isBrakedRemainder(action('a@example.com'), sent, clock)).toBe(false);
    expect(isBrakedRemainder(action('a@example.com'), undefined, clock)).toBe(false);
    expect(isBrakedRemainder(action('a@example.com', { kind: 'renew', inviteId: hexId(1) }), intent, clock)).toBe(false);
  });
});

describe('Function: intentStatus', () => {
  it('returns settling up to the run end + SETTLE_SECONDS, claiming for 7 days more, abandoned after', () => {
    // Arrange: SETTLE_SECONDS is 2 × the 10 s request timeout + 60 s
    const entry = ledgerEntry('a@example.com', { state: 'intent', updatedAt: iso(NOW - 3600_000) });
    const end = NOW - 1800_000;
    const at = (now: number) => intentStatus(entry, { now, leaseMs: 120_000, ends: new Map([['run-1', end]]) });

    // Act / Assess
    expect(SETTLE_SECONDS).toBe(80);
    expect([at(end), at(end + SETTLE_MS), at(end + SETTLE_MS + 1)]).toEqual(['settling', 'settling', 'claiming']);
    expect([at(end + SETTLE_MS + ABANDON_AFTER_MS), at(end + SETTLE_MS + ABANDON_AFTER_MS + 1)]).toEqual(['claiming', 'abandoned']);
  });

  it('returns unsent for an intent whose run never started its POST (no settling, no claim) until it is abandoned', () => {
    // Arrange: the run stopped at its deadline a moment ago
    const entry = { ...ledgerEntry('a@example.com', { state: 'intent', updatedAt: iso(NOW - 1000) }), unsent: true };
    const clock: IntentClock = { now: NOW, leaseMs: 120_000, ends: new Map([['run-1', NOW - 500]]) };
    const inWindow = pendingInvite('a@example.com', { inviteDate: iso(NOW - 800) });

    // Act / Assess
    expect(intentStatus(entry, clock)).toBe('unsent');
    expect(claimedInvite(entry, [inWindow], clock)).toBeUndefined();
    expect(isBrakedRemainder(action('a@example.com'), entry, clock)).toBe(true);
    expect(intentStatus(entry, { ...clock, now: NOW + SETTLE_MS + ABANDON_AFTER_MS })).toBe('abandoned');
  });

  it('returns an end of the newest intent + the lease for a run nothing else knows', () => {
    const entry = ledgerEntry('a@example.com', { state: 'intent', updatedAt: iso(NOW - 200_000) });
    expect(intentStatus(entry, { now: NOW, leaseMs: 120_000 })).toBe('settling');
    expect(intentStatus(entry, { now: NOW, leaseMs: 100_000 })).toBe('claiming');
  });
});

describe('Function: claimedInvite', () => {
  it('returns the newest invite dated in [intent − 60 s, run end + settle] of a claiming intent, and nothing else', () => {
    // Arrange: the intent was written 2 h ago, its run ended 1 h ago
    const written = NOW - 2 * 3600_000;
    const end = NOW - 3600_000;
    const clock: IntentClock = { now: NOW, leaseMs: 120_000, ends: new Map([['run-1', end]]) };
    const entry = ledgerEntry('a@example.com', { state: 'intent', updatedAt: iso(written) });
    const at = (ms: number) => pendingInvite('a@example.com', { inviteDate: iso(ms) });
    const early = at(written - CLOCK_SKEW_MS);
    const late = at(end + SETTLE_MS);
    const before = at(written - CLOCK_SKEW_MS - 1);
    const byHand = at(end + SETTLE_MS + 1);

    // Act / Assess
    expect(claimedInvite(entry, [early], clock)).toBe(early);
    expect(claimedInvite(entry, [early, late, byHand], clock)).toBe(late);
    expect(claimedInvite(entry, [before, byHand], clock)).toBeUndefined();
    expect(claimedInvite(entry, [early], { ...clock, now: end + 1000 })).toBeUndefined();
    expect(claimedInvite(entry, [early], { ...clock, now: end + SETTLE_MS + ABANDON_AFTER_MS + 1 })).toBeUndefined();
    expect(claimedInvite({ ...entry, state: 'sent' }, [early], clock)).toBeUndefined();
  });

  it('returns a sent entry of that invite from claimedEntry', () => {
    const entry = ledgerEntry('a@example.com', { state: 'intent', updatedAt: iso(NOW - DAY) });
    const inv = pendingInvite('a@example.com', { inviteDate: iso(NOW - DAY) });
    expect(claimedEntry(entry, inv, iso(NOW))).toEqual({ ...entry, state: 'sent', inviteId: inv.id, invitedAt: inv.inviteDate, updatedAt: iso(NOW) });
  });
});

describe('Function: unlistedVerdict', () => {
  const sentAt = (ms: number, over: Partial<LedgerEntry> = {}): LedgerEntry =>
    ledgerEntry('a@example.com', { state: 'sent', inviteId: hexId(1), updatedAt: iso(ms), invitedAt: iso(ms), personEventAt: EVENT_AT, ...over });

  it('returns invite when the ledger has no sent or member entry', () => {
    // Arrange
    const others = (['intent', 'failed', 'revoked'] as const).map((state) => ledgerEntry('a@example.com', { state, updatedAt: iso(NOW) }));

    // Act
    const verdicts = [undefined, ...others].map((e) => unlistedVerdict(e, NOW, { settleMs: SETTLE }));

    // Assess
    expect(verdicts).toEqual(['invite', 'invite', 'invite', 'invite']);
  });

  it('returns invitedRecently within settleMs of our invite, counting from updatedAt when invitedAt is missing', () => {
    // Arrange
    const recent = sentAt(NOW - SETTLE + 1);
    const { invitedAt: _, ...noInvitedAt } = sentAt(NOW - SETTLE + 1);

    // Act / Assess
    expect(unlistedVerdict(recent, NOW, { settleMs: SETTLE })).toBe('invitedRecently');
    expect(unlistedVerdict(noInvitedAt, NOW, { settleMs: SETTLE })).toBe('invitedRecently');
    expect(unlistedVerdict(sentAt(NOW - SETTLE), NOW, { settleMs: SETTLE })).toBe('removedOutsideSync');
  });

  it('returns removedOutsideSync for a revoked invite or removed member, invite after a re-hire or with force', () => {
    // Arrange
    const entry = sentAt(NOW - DAY);
    const member = ledgerEntry('a@example.com', { state: 'member', updatedAt: iso(NOW - DAY) });

    // Act / Assess
    expect(unlistedVerdict(entry, NOW, { settleMs: SETTLE })).toBe('removedOutsideSync');
    expect(unlistedVerdict(member, NOW, { settleMs: SETTLE })).toBe('removedOutsideSync');
    expect(unlistedVerdict({ ...entry, departedAt: iso(NOW - 3600_000) }, NOW, { settleMs: SETTLE })).toBe('invite');
    expect(unlistedVerdict({ ...member, departedAt: iso(NOW - 3600_000) }, NOW, { settleMs: SETTLE })).toBe('invite');
    expect(unlistedVerdict(entry, NOW, { settleMs: SETTLE, force: true })).toBe('invite');
  });

  it('returns removedOutsideSync for a sent entry that never recorded the HR event it answered (an attribute change alone never re-invites)', () => {
    const { personEventAt: _, ...entry } = sentAt(NOW - DAY);
    expect(unlistedVerdict(entry, NOW, { settleMs: SETTLE })).toBe('removedOutsideSync');
  });
});

describe('Function: learntEntry', () => {
  const hr = { personEventAt: EVENT_AT, desired: true };

  it('returns a member entry once (with the HR person\'s event), a departure once, and the entry without it on return', () => {
    // Arrange
    const sent = ledgerEntry('a@example.com', { state: 'sent', inviteId: hexId(1), updatedAt: iso(NOW - DAY) });

    // Act
    const member = learntEntry('a@example.com', sent, { ...hr, member: 'view' }, STAMP)!;
    const departed = learntEntry('a@example.com', member, { member: 'view', desired: false }, STAMP)!;

    // Assess
    // the member accepted our invite: the entry keeps which one (offboard.ts removes only those)
    expect(member).toEqual({ email: 'a@example.com', state: 'member', role: 'view', updatedAt: iso(NOW), renewals: 0, runId: 'run-2', personEventAt: EVENT_AT, inviteId: hexId(1) });
    expect(learntEntry('a@example.com', member, { ...hr, member: 'view' }, STAMP)).toBeUndefined();
    expect(departed).toEqual({ ...member, departedAt: iso(NOW) });
    expect(learntEntry('a@example.com', departed, { member: 'view', desired: false }, STAMP)).toBeUndefined();
    expect(learntEntry('a@example.com', departed, { ...hr, member: 'view' }, STAMP)).toEqual(member);
    expect(learntEntry('a@example.com', departed, { ...hr, desired: false }, STAMP)).toBeUndefined();
  });

  it('returns a departure for a sent entry, never for a revoked one or a member no HR person ever spoke for', () => {
    const sent = ledgerEntry('a@example.com', { state: 'sent', updatedAt: iso(NOW - DAY) });
    const admin = learntEntry('admin@example.com', undefined, { member: 'admin', desired: false }, STAMP)!;
    expect(learntEntry('a@example.com', sent, { desired: false }, STAMP)).toEqual({ ...sent, departedAt: iso(NOW) });
    expect(learntEntry('a@example.com', { ...sent, state: 'revoked' }, { desired: false }, STAMP)).toBeUndefined();
    expect(learntEntry('admin@example.com', admin, { member: 'admin', desired: false }, STAMP)).toBeUndefined();
    expect(learntEntry('admin@example.com', admin, { ...hr, member: 'admin' }, STAMP)).toEqual({ ...admin, personEventAt: EVENT_AT });
  });

  it('returns a departure with the keys of { ...prev, departedAt } in the same order, an own __proto__ key kept as a key', () => {
    // Arrange: sent entries with any of the optional fields, in any order (as the store parses them)
    const optional = fc.record(
      { inviteId: fc.constant(hexId(1)), invitedAt: fc.constant(iso(NOW - DAY)), personEventAt: fc.constant(EVENT_AT), adopted: fc.boolean(), unsent: fc.boolean(), error: fc.string(), departedAt: fc.constant(undefined) },
      { requiredKeys: [] },
    );
    const entries = fc.tuple(optional, fc.boolean()).map(([extra, first]): LedgerEntry => {
      const base = { email: 'a@example.com', state: 'sent' as const, role: 'view' as const, updatedAt: iso(NOW - DAY), renewals: 0, runId: 'r0' };
      return first ? { ...extra, ...base } : { ...base, ...extra };
    });
    const withProto = JSON.parse('{"email":"a@example.com","state":"sent","role":"view","__proto__":{"departedAt":"x"},"updatedAt":"u","renewals":0,"runId":"r0"}') as LedgerEntry;

    // Act + Assess
    fc.assert(
      fc.property(entries, (prev) => {
        const departed = learntEntry('a@example.com', prev, { desired: false }, STAMP)!;
        expect(JSON.stringify(departed)).toBe(JSON.stringify({ ...prev, departedAt: iso(NOW) }));
        expect(Object.getPrototypeOf(departed)).toBe(Object.prototype);
      }),
    );
    const departed = learntEntry('a@example.com', withProto, { desired: false }, STAMP)!;
    expect(Object.keys(departed)).toEqual([...Object.keys(withProto), 'departedAt']);
    expect(Object.getPrototypeOf(departed)).toBe(Object.prototype);
  });

  it('returns isManaged only for sent entries, adopted ones only with manageAdopted', () => {
    const sent = ledgerEntry('a@example.com', { state: 'sent', updatedAt: iso(NOW) });
    expect([isManaged(sent, false), isManaged({ ...sent, adopted: true }, false), isManaged({ ...sent, adopted: true }, true), isManaged(undefined, true)]).toEqual([true, false, true, false]);
  });
});

describe('Function: intentEntry', () => {
  it('returns an intent of this run that carries renewals and the answered HR event forward', () => {
    // Arrange
    const prev = ledgerEntry('a@example.com', { state: 'revoked', updatedAt: iso(NOW - DAY), renewals: 2, personEventAt: EVENT_AT, inviteId: hexId(1), error: 'x' });

    // Act
    const entry = intentEntry(action('a@example.com', { role: 'view' }), prev, STAMP);

    // Assess
    expect(entry).toEqual({ email: 'a@example.com', state: 'intent', role: 'view', updatedAt: iso(NOW), renewals: 2, runId: 'run-2', personEventAt: EVENT_AT });
  });

  it('returns the action\'s HR event over the previous one, and none when neither has one', () => {
    // Arrange
    const newer = iso(NOW - DAY);

    // Act / Assess
    expect(intentEntry(action('a@example.com', { personEventAt: newer }), undefined, STAMP).personEventAt).toBe(newer);
    expect(intentEntry(action('a@example.com'), undefined, STAMP)).not.toHaveProperty('personEventAt');
  });
});

describe('Function: sentEntry', () => {
  it('returns sent with Losant\'s id and inviteDate after an invite, renewals unchanged', () => {
    // Arrange
    const prev = ledgerEntry('a@example.com', { state: 'intent', updatedAt: iso(NOW - 1000), renewals: 1 });

    // Act
    const entry = sentAfter(action('a@example.com'), prev, { id: hexId(7), inviteDate: iso(NOW - 500) }, STAMP);

    // Assess
    expect(entry).toMatchObject({ state: 'sent', inviteId: hexId(7), invitedAt: iso(NOW - 500), renewals: 1, updatedAt: iso(NOW), runId: 'run-2' });
  });

  it('returns one more renewal after a renew, the same after a fixRole', () => {
    // Arrange
    const inv = pendingInvite('a@example.com', { inviteDate: iso(NOW - 9 * DAY) });
    const prev = sentEntry(inv, { renewals: 2 });
    const answered = { id: inv.id, inviteDate: iso(NOW) };

    // Act
    const renewed = sentAfter(action('a@example.com', { kind: 'renew', inviteId: inv.id }), prev, answered, STAMP);
    const fixed = sentAfter(action('a@example.com', { kind: 'fixRole', inviteId: inv.id, role: 'view' }), prev, answered, STAMP);

    // Assess
    expect([renewed.renewals, fixed.renewals]).toEqual([3, 2]);
    expect(fixed.role).toBe('view');
  });

  it('returns an adopted sent entry with one renewal after an adopting renew, and keeps adopted on later renewals', () => {
    // Arrange: a hand-made expired invite, with an old failed entry for the email
    const inv = pendingInvite('a@example.com', { inviteDate: iso(NOW - 40 * DAY), hasExpired: true });
    const prev = ledgerEntry('a@example.com', { state: 'failed', updatedAt: iso(NOW - 50 * DAY), renewals: 2 });
    const answered = { id: inv.id, inviteDate: iso(NOW) };

    // Act
    const adopted = sentAfter(action('a@example.com', { kind: 'renew', inviteId: inv.id, adopted: true, renewals: 0 }), prev, answered, STAMP);
    const again = sentAfter(action('a@example.com', { kind: 'renew', inviteId: inv.id }), adopted, answered, STAMP);

    // Assess
    expect(adopted).toMatchObject({ state: 'sent', inviteId: inv.id, renewals: 1, adopted: true });
    expect(again).toMatchObject({ renewals: 2, adopted: true });
  });

  it('returns the stamp\'s time as invitedAt when Losant gave no inviteDate', () => {
    expect(sentAfter(action('a@example.com'), undefined, { id: hexId(1), inviteDate: '' }, STAMP).invitedAt).toBe(iso(NOW));
  });
});

describe('Function: revokedEntry', () => {
  it('returns revoked with the revoked invite id', () => {
    // Arrange
    const inv = pendingInvite('a@example.com', { inviteDate: iso(NOW - DAY) });

    // Act
    const entry = revokedEntry(action('a@example.com', { kind: 'revoke', inviteId: inv.id }), sentEntry(inv), STAMP);

    // Assess
    expect(entry).toMatchObject({ state: 'revoked', inviteId: inv.id, runId: 'run-2' });
  });
});

describe('Function: failedEntry', () => {
  it('returns failed naming the kind, status and Losant type for a refused invite', () => {
    // Arrange
    const err = new ApiError('badRequest', 'no', { status: 400, apiType: 'Validation' });

    // Act
    const entry = failedEntry(action('a@example.com'), undefined, err, STAMP);

    // Assess
    expect(entry).toMatchObject({ state: 'failed', error: 'badRequest 400: Validation' });
  });

  it('returns undefined for a failure that is not a refusal, or an action that is not an invite', () => {
    // Arrange
    const refused = new ApiError('notFound', 'gone', { status: 404 });

    // Act / Assess
    expect(failedEntry(action('a@example.com'), undefined, refused, STAMP)?.error).toBe('notFound 404:');
    expect(failedEntry(action('a@example.com'), undefined, new ApiError('server', 'x', { status: 503 }), STAMP)).toBeUndefined();
    expect(failedEntry(action('a@example.com'), undefined, new ApiError('throttled', 'x'), STAMP)).toBeUndefined();
    expect(failedEntry(action('a@example.com', { kind: 'renew', inviteId: hexId(1) }), undefined, refused, STAMP)).toBeUndefined();
  });
});

