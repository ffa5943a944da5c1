// unit: steadyStateAfter (functions/sync/steady-state.ts)
import { describe, expect, it } from 'vitest';
import { steadyStateAfter } from '../../functions/sync/steady-state.ts';
import { emptySkipCounts, SKIP_REASONS, type Action, type PendingInvite, type SkipReason } from '../../functions/sync/types.ts';

const NOW = Date.parse('2031-03-01T00:00:00.000Z');
const DAY = 24 * 3_600_000;
const inv = (id: string, email: string, ageDays: number, over: Partial<PendingInvite> = {}): PendingInvite => ({
  id,
  email,
  role: 'view',
  inviteDate: new Date(NOW - ageDays * DAY).toISOString(),
  hasExpired: false,
  ttl: (30 - ageDays) * DAY,
  ...over,
});
const people = (over: Partial<Record<SkipReason, string[]>>): Record<SkipReason, string[]> =>
  ({ ...Object.fromEntries(SKIP_REASONS.map((r) => [r, []])), ...over }) as Record<SkipReason, string[]>;

describe('Function: steadyStateAfter', () => {
  it('returns pending after the plan: new invites added, revoked ones gone, resent ones kept', () => {
    // Arrange
    const pending = [inv('1', 'a@example.com', 1), inv('2', 'b@example.com', 1), inv('3', 'c@example.com', 40, { hasExpired: true, ttl: 0 })];
    const actions: Action[] = [
      { kind: 'invite', email: 'new@example.com', role: 'view' },
      { kind: 'revoke', email: 'b@example.com', role: 'view', inviteId: '2' },
      { kind: 'renew', email: 'c@example.com', role: 'view', inviteId: '3' },
    ];

    // Act
    const s = steadyStateAfter({ plan: { actions, members: 4, skipped: emptySkipCounts() }, skippedPeople: people({}), pending, now: NOW });

    // Assess
    expect(s).toEqual({ members: 4, pending: 3, expiringWithin7Days: 0, renewalsExhausted: 0, waitingOver7Days: 0 });
  });

  it('returns invites running out within 7 days the plan does not resend, and people waiting over 7 days', () => {
    // Arrange
    const pending = [
      inv('1', 'soon@example.com', 25),
      inv('2', 'fresh@example.com', 2),
      inv('3', 'resent@example.com', 26),
      inv('4', 'done@example.com', 60, { hasExpired: true, ttl: 0 }),
    ];
    const actions: Action[] = [{ kind: 'fixRole', email: 'resent@example.com', role: 'edit', inviteId: '3' }];
    const skipped = { ...emptySkipCounts(), alreadyPending: 2, renewalsExhausted: 1 };

    // Act
    const s = steadyStateAfter({
      plan: { actions, members: 0, skipped },
      skippedPeople: people({ alreadyPending: ['soon@example.com', 'fresh@example.com'], renewalsExhausted: ['done@example.com'] }),
      pending,
      now: NOW,
    });

    // Assess
    expect([s.pending, s.expiringWithin7Days, s.renewalsExhausted, s.waitingOver7Days]).toEqual([4, 1, 1, 2]);
    expect(s.seats).toBeUndefined();
  });

  it('counts a desired person waiting on a hand-made invite (notOurs) over 7 days, and not a fresh one', () => {
    // Arrange
    const pending = [inv('1', 'hand@example.com', 8), inv('2', 'handfresh@example.com', 3)];

    // Act
    const s = steadyStateAfter({
      plan: { actions: [], members: 0, skipped: { ...emptySkipCounts(), notOurs: 2 } },
      skippedPeople: people({ notOurs: ['hand@example.com', 'handfresh@example.com'] }),
      pending,
      now: NOW,
    });

    // Assess
    expect(s.waitingOver7Days).toBe(1);
  });
});
