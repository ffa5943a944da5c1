// unit: checkBrakes (functions/sync/brakes.ts)
import { describe, expect, it } from 'vitest';
import { checkBrakes } from '../../functions/sync/brakes.ts';
import { emptySkipCounts, type Action, type ActionKind, type Limits, type Plan } from '../../functions/sync/types.ts';

const LIMITS: Limits = { maxChangesPerRun: 10, minSizeForFraction: 20, maxChangeFraction: 0.5, maxBadRows: 0 };

function planWith(kinds: ActionKind[], size: { pending: number; members: number }): Plan {
  const actions: Action[] = kinds.map((kind, i) => ({ kind, email: `p${i}@example.com`, role: 'view', ...(kind === 'invite' ? {} : { inviteId: i.toString(16).padStart(24, '0') }) }));
  return { actions, skipped: emptySkipCounts(), desired: actions.length, pending: size.pending, members: size.members, hash: 'h' };
}

describe('Function: checkBrakes', () => {
  it('returns null for a plan within every limit', () => {
    expect(checkBrakes(planWith(['invite', 'renew'], { pending: 30, members: 30 }), LIMITS)).toBeNull();
  });

  it('returns emptySnapshot first, whatever the plan', () => {
    expect(checkBrakes(planWith(Array<ActionKind>(50).fill('invite'), { pending: 0, members: 0 }), LIMITS, { emptySnapshot: true })).toBe('emptySnapshot');
  });

  it('returns maxInvitesPerRun when invites + renewals + role fixes + revokes exceed it', () => {
    // Arrange: 11 changes of mixed kinds in a large org
    const kinds: ActionKind[] = ['invite', 'invite', 'invite', 'renew', 'renew', 'renew', 'fixRole', 'fixRole', 'revoke', 'revoke', 'revoke'];

    // Act / Assert
    expect(checkBrakes(planWith(kinds, { pending: 500, members: 500 }), LIMITS)).toBe('maxInvitesPerRun');
    expect(checkBrakes(planWith(kinds.slice(1), { pending: 500, members: 500 }), LIMITS)).toBeNull();
  });

  it('returns maxChangeFraction when changes exceed the fraction of pending + members', () => {
    // 20 + 0 = 20 ≥ minSizeForFraction; 11 > 0.5 × 20
    const limits = { ...LIMITS, maxChangesPerRun: 100 };
    expect(checkBrakes(planWith(Array<ActionKind>(11).fill('invite'), { pending: 12, members: 8 }), limits)).toBe('maxChangeFraction');
    expect(checkBrakes(planWith(Array<ActionKind>(10).fill('invite'), { pending: 12, members: 8 }), limits)).toBeNull();
  });

  it('returns null for a large change to an org smaller than minSizeForFraction', () => {
    expect(checkBrakes(planWith(Array<ActionKind>(9).fill('invite'), { pending: 10, members: 9 }), LIMITS)).toBeNull();
  });

  it('returns maxChangeFraction for any change when the fraction is 0', () => {
    expect(checkBrakes(planWith(['revoke'], { pending: 25, members: 0 }), { ...LIMITS, maxChangeFraction: 0 })).toBe('maxChangeFraction');
  });
});
