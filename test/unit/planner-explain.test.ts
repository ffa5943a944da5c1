// unit: planTarget with `explain` (functions/sync/planner.ts): rule attribution, fromRole, revoke reasons, skipped people
import { describe, expect, it } from 'vitest';
import { planTarget, type PlanInput } from '../../functions/sync/planner.ts';
import type { LedgerEntry, PendingInvite, Rule, StoredPerson } from '../../functions/sync/types.ts';

const NOW = Date.parse('2030-01-15T12:00:00.000Z');
const DAY = 24 * 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

const person = (email: string, attributes: Record<string, string>, over: Partial<StoredPerson> = {}): StoredPerson => ({
  email,
  identity: `email:${email}`,
  source: 'hr',
  status: 'active',
  lastEventAt: iso(NOW - 30 * DAY),
  attributes,
  ...over,
});
const invite = (id: string, email: string, over: Partial<PendingInvite> = {}): PendingInvite => ({
  id: id.padStart(24, '0'),
  email,
  role: 'view',
  inviteDate: iso(NOW - 2 * DAY),
  hasExpired: false,
  ...over,
});
const sent = (inv: PendingInvite, over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  email: inv.email,
  state: 'sent',
  role: inv.role,
  inviteId: inv.id,
  updatedAt: inv.inviteDate,
  invitedAt: inv.inviteDate,
  renewals: 0,
  runId: 'r-1',
  personEventAt: iso(NOW - 30 * DAY),
  ...over,
});

const RULES: Rule[] = [
  { when: { department: 'Engineering' }, role: 'edit' },
  { when: { department: 'Sales' }, role: 'skip' },
  { when: {}, role: 'view' },
];

function plan(over: Partial<PlanInput>) {
  return planTarget({
    rules: RULES,
    people: [],
    pending: [],
    members: [],
    ledger: [],
    policy: { renewExpired: true, maxRenewals: 3, revokeLeft: true, fixRole: true },
    now: NOW,
    ...over,
  });
}

describe('Function: planTarget (explain)', () => {
  it('returns each action with the 1-based rule that decided it and its when', () => {
    // Arrange
    const people = [person('eng@example.com', { department: 'Engineering' }), person('ops@example.com', { department: 'Ops' })];

    // Act
    const result = plan({ people, explain: true });

    // Assess
    expect(result.actions.map((a) => [a.email, a.role, a.rule])).toEqual([
      ['eng@example.com', 'edit', { index: 1, when: { department: 'Engineering' } }],
      ['ops@example.com', 'view', { index: 3, when: {} }],
    ]);
  });

  it('returns fixRole with the invite role it changes, and revokes with why', () => {
    // Arrange
    const fix = invite('a1', 'eng@example.com', { role: 'view' });
    const gone = invite('a2', 'gone@example.com');
    const sales = invite('a3', 'sales@example.com');
    const people = [person('eng@example.com', { department: 'Engineering' }), person('sales@example.com', { department: 'Sales' })];

    // Act
    const result = plan({ people, pending: [fix, gone, sales], ledger: [sent(fix), sent(gone), sent(sales)], explain: true });

    // Assess
    const byEmail = Object.fromEntries(result.actions.map((a) => [a.email, a]));
    expect(byEmail['eng@example.com']).toMatchObject({ kind: 'fixRole', role: 'edit', fromRole: 'view', rule: { index: 1 } });
    expect(byEmail['gone@example.com']).toMatchObject({ kind: 'revoke', reason: 'leftRoster' });
    expect(byEmail['gone@example.com']!.rule).toBeUndefined();
    expect(byEmail['sales@example.com']).toMatchObject({ kind: 'revoke', reason: 'skipRule', rule: { index: 2, when: { department: 'Sales' } } });
  });

  it('returns the emails behind every skip count, sorted', () => {
    // Arrange
    const waiting = [invite('b1', 'zed@example.com'), invite('b2', 'amy@example.com')];
    const people = [person('zed@example.com', {}), person('amy@example.com', {}), person('member@example.com', {})];

    // Act
    const result = plan({ people, pending: waiting, members: [{ email: 'member@example.com', role: 'view' }], explain: true });

    // Assess
    expect(result.skippedPeople?.alreadyPending).toEqual(['amy@example.com', 'zed@example.com']);
    expect(result.skippedPeople?.alreadyMember).toEqual(['member@example.com']);
    expect(result.skipped.alreadyPending).toBe(2);
  });

  it('returns the same actions and hash as without explain, and no extra fields without it', () => {
    // Arrange
    const fix = invite('c1', 'eng@example.com', { role: 'view' });
    const input = { people: [person('eng@example.com', { department: 'Engineering' }), person('new@example.com', {})], pending: [fix], ledger: [sent(fix)] };

    // Act
    const plain = plan(input);
    const explained = plan({ ...input, explain: true });

    // Assess
    expect(explained.hash).toBe(plain.hash);
    expect(explained.actions.map(({ kind, email, role, inviteId }) => ({ kind, email, role, inviteId }))).toEqual(
      plain.actions.map(({ kind, email, role, inviteId }) => ({ kind, email, role, inviteId })),
    );
    expect(plain.actions.some((a) => 'rule' in a || 'fromRole' in a)).toBe(false);
    expect(plain.skippedPeople).toBeUndefined();
  });
});
