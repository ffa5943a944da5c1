// unit: ledger states and transitions (functions/sync/ledger.ts)
import { describe, expect, it } from 'vitest';
import {
  adoptListedInvites, failedEntry, intentEntry, isBrakedRemainder, ourInviteId, revokedEntry, sentEntry as sentAfter, unlistedVerdict,
  type LedgerStamp,
} from '../../functions/sync/ledger.ts';
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
  it('returns true only for an invite whose entry is an intent', () => {
    // Arrange
    const intent = ledgerEntry('a@example.com', { state: 'intent', updatedAt: iso(NOW - DAY) });
    const sent = { ...intent, state: 'sent' as const };

    // Act / Assess
    expect(isBrakedRemainder(action('a@example.com'), intent)).toBe(true);
    expect(isBrakedRemainder(action('a@example.com'), sent)).toBe(false);
    expect(isBrakedRemainder(action('a@example.com'), undefined)).toBe(false);
    expect(isBrakedRemainder(action('a@example.com', { kind: 'renew', inviteId: hexId(1) }), intent)).toBe(false);
  });
});

describe('Function: unlistedVerdict', () => {
  const sentAt = (ms: number, over: Partial<LedgerEntry> = {}): LedgerEntry =>
    ledgerEntry('a@example.com', { state: 'sent', inviteId: hexId(1), updatedAt: iso(ms), invitedAt: iso(ms), personEventAt: EVENT_AT, ...over });

  it('returns invite when the ledger has no sent entry', () => {
    // Arrange
    const others = (['intent', 'failed', 'revoked'] as const).map((state) => ledgerEntry('a@example.com', { state, updatedAt: iso(NOW) }));

    // Act
    const verdicts = [undefined, ...others].map((e) => unlistedVerdict(e, EVENT_AT, NOW, { settleMs: SETTLE }));

    // Assess
    expect(verdicts).toEqual(['invite', 'invite', 'invite', 'invite']);
  });

  it('returns invitedRecently within settleMs of our invite, counting from updatedAt when invitedAt is missing', () => {
    // Arrange
    const recent = sentAt(NOW - SETTLE + 1);
    const { invitedAt: _, ...noInvitedAt } = sentAt(NOW - SETTLE + 1);

    // Act / Assess
    expect(unlistedVerdict(recent, EVENT_AT, NOW, { settleMs: SETTLE })).toBe('invitedRecently');
    expect(unlistedVerdict(noInvitedAt, EVENT_AT, NOW, { settleMs: SETTLE })).toBe('invitedRecently');
    expect(unlistedVerdict(sentAt(NOW - SETTLE), EVENT_AT, NOW, { settleMs: SETTLE })).toBe('removedOutsideSync');
  });

  it('returns removedOutsideSync for a settled invite without a newer HR event, invite with one or with force', () => {
    // Arrange
    const entry = sentAt(NOW - DAY);

    // Act / Assess
    expect(unlistedVerdict(entry, EVENT_AT, NOW, { settleMs: SETTLE })).toBe('removedOutsideSync');
    expect(unlistedVerdict(entry, iso(NOW - 2 * DAY), NOW, { settleMs: SETTLE })).toBe('invite');
    expect(unlistedVerdict(entry, EVENT_AT, NOW, { settleMs: SETTLE, force: true })).toBe('invite');
  });

  it('returns invite for a sent entry that never recorded the HR event it answered', () => {
    const { personEventAt: _, ...entry } = sentAt(NOW - DAY);
    expect(unlistedVerdict(entry, EVENT_AT, NOW, { settleMs: SETTLE })).toBe('invite');
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

describe('Function: adoptListedInvites', () => {
  it('returns the intents whose invite Losant lists, now sent with that invite, and leaves the rest', () => {
    // Arrange
    const listed = pendingInvite('a@example.com', { inviteDate: iso(NOW - 1000) });
    const other = pendingInvite('c@example.com', { inviteDate: iso(NOW - 1000) });
    const ledger = new Map<string, LedgerEntry>([
      ['a@example.com', ledgerEntry('a@example.com', { state: 'intent', updatedAt: iso(NOW - 2000) })],
      ['b@example.com', ledgerEntry('b@example.com', { state: 'intent', updatedAt: iso(NOW - 2000) })],
      ['c@example.com', ledgerEntry('c@example.com', { state: 'failed', updatedAt: iso(NOW - 2000) })],
    ]);
    const newest = new Map([[listed.email, listed], [other.email, other]]);

    // Act
    const adopted = adoptListedInvites(ledger, newest, iso(NOW));

    // Assess
    expect(adopted).toEqual([{ ...ledgerEntry('a@example.com', { state: 'sent', updatedAt: iso(NOW) }), inviteId: listed.id, invitedAt: listed.inviteDate }]);
    expect(ledger.get('a@example.com')).toBe(adopted[0]);
    expect([ledger.get('b@example.com')?.state, ledger.get('c@example.com')?.state]).toEqual(['intent', 'failed']);
  });
});
