// unit: the plan renderers (cli/render/plan.ts) and the --json object (cli/report.ts)
import { describe, expect, it } from 'vitest';
import pc from 'picocolors';
import { formatWhen, planSummary, renderActions, renderPlan, renderSkipped, steadyStateLine } from '../../cli/render/plan.ts';
import { toJson } from '../../cli/report.ts';
import { emptyActionCounts, emptySkipCounts, SKIP_REASONS, type ReportedAction, type RunReport, type SkipReason } from '../../functions/sync/types.ts';

const ID = 'a'.repeat(24);
const ACTIONS: ReportedAction[] = [
  { kind: 'fixRole', email: 'bob@example.com', role: 'edit', fromRole: 'view', inviteId: '1'.repeat(24), rule: { index: 1, when: { department: 'Engineering' } } },
  { kind: 'invite', email: 'alice@example.com', role: 'edit', rule: { index: 2, when: { department: 'Engineering' } } },
  { kind: 'renew', email: 'carol@example.com', role: 'view', inviteId: '2'.repeat(24), renewals: 1, rule: { index: 3, when: {} } },
  { kind: 'revoke', email: 'dave@example.com', role: 'view', inviteId: '3'.repeat(24), reason: 'leftRoster' },
];
const skippedPeople = (over: Partial<Record<SkipReason, string[]>> = {}): Record<SkipReason, string[]> =>
  ({ ...Object.fromEntries(SKIP_REASONS.map((r) => [r, []])), ...over }) as Record<SkipReason, string[]>;

function report(mode: 'plan' | 'apply', actions: ReportedAction[] = ACTIONS): RunReport {
  return {
    mode,
    runId: 'r-1',
    complete: true,
    targets: [
      {
        name: 'eng',
        instanceId: ID,
        orgId: ID,
        desired: 3,
        pending: 3,
        members: 2,
        planned: { invite: 1, renew: 1, fixRole: 1, revoke: 1, remove: 0 },
        done: emptyActionCounts(),
        failed: 0,
        skipped: { ...emptySkipCounts(), alreadyMember: 2 },
        blocked: null,
        complete: true,
        planHash: 'f'.repeat(64),
        detail: {
          actions,
          steadyState: { members: 2, pending: 3, expiringWithin7Days: 1, renewalsExhausted: 1, waitingOver7Days: 0 },
          skippedPeople: skippedPeople({ alreadyMember: ['m1@example.com', 'm2@example.com'] }),
        },
      },
    ],
  };
}

describe('Function: renderActions', () => {
  it('returns one aligned line per change, added first, then role changes, renewals, revocations', () => {
    // Act
    const lines = renderActions(ACTIONS, 'plan', { maxRenewals: 3 });

    // Assess
    expect(lines).toEqual([
      '  + invite  alice@example.com  edit         rule 2 {department: Engineering}',
      '  ~ role    bob@example.com    view → edit  rule 1 {department: Engineering}',
      '  ↻ renew   carol@example.com  view         (2 of 3)  rule 3 {}',
      '  - revoke  dave@example.com   view         left the roster',
    ]);
  });

  it('returns each result in apply (a missing one is not started), and colours the symbols when asked', () => {
    // Arrange
    const actions: ReportedAction[] = [
      { kind: 'invite', email: 'a@example.com', role: 'view', result: 'done' },
      { kind: 'invite', email: 'b@example.com', role: 'view', result: 'failed', error: 'badRequest: Validation' },
      { kind: 'invite', email: 'c@example.com', role: 'view' },
    ];

    // Act
    const lines = renderActions(actions, 'apply', { maxRenewals: 3 });
    const coloured = renderActions(actions.slice(0, 1), 'apply', { maxRenewals: 3, colors: pc.createColors(true) });

    // Assess
    expect(lines.map((l) => l.trimEnd().split('  ').at(-1))).toEqual(['done', 'failed: badRequest: Validation', 'not started']);
    expect(coloured[0]).toContain('\u001b[32m+\u001b[39m invite');
  });

  it('returns at most `limit` lines per kind and says how many more, unless full', () => {
    // Arrange
    const many: ReportedAction[] = Array.from({ length: 5 }, (_, i) => ({ kind: 'invite', email: `p${i}@example.com`, role: 'view' }));

    // Act
    const short = renderActions(many, 'plan', { maxRenewals: 3, limit: 2 });
    const full = renderActions(many, 'plan', { maxRenewals: 3, limit: 2, full: true });

    // Assess
    expect(short).toHaveLength(3);
    expect(short[2]).toBe('  … and 3 more invites (--full shows all)');
    expect(full).toHaveLength(5);
  });

  it('returns revocations by a skip rule and by no rule with their reason', () => {
    // Act
    const lines = renderActions(
      [
        { kind: 'revoke', email: 'x@example.com', role: 'view', reason: 'skipRule', rule: { index: 2, when: { employeeType: 'contractor' } } },
        { kind: 'revoke', email: 'y@example.com', role: 'view', reason: 'noRule' },
      ],
      'plan',
      { maxRenewals: 3 },
    );

    // Assess
    expect(lines).toEqual(['  - revoke  x@example.com  view  rule 2 {employeeType: contractor} skips them', '  - revoke  y@example.com  view  no rule matches them']);
  });
});

describe('Function: planSummary / steadyStateLine / formatWhen / renderSkipped', () => {
  it('returns the Terraform-style summary, leaving out kinds with none', () => {
    expect(planSummary({ invite: 3, renew: 1, fixRole: 1, revoke: 1, remove: 0 })).toBe('Plan: 3 to invite, 1 to renew, 1 role change, 1 to revoke.');
    expect(planSummary({ invite: 0, renew: 0, fixRole: 2, revoke: 0, remove: 0 })).toBe('Plan: 2 role changes.');
    expect(planSummary(emptyActionCounts())).toBe('No changes.');
  });

  it('returns the steady state, with seats only when the target has a seat limit', () => {
    const s = { members: 1, pending: 5, expiringWithin7Days: 2, renewalsExhausted: 1, waitingOver7Days: 3 };
    expect(steadyStateLine(s)).toBe('After: 1 member, 5 pending (2 expiring within 7 days, 1 with renewals exhausted), 3 waiting over 7 days.');
    expect(steadyStateLine({ ...s, seats: { used: 40, limit: 50 } })).toMatch(/, seats 40 \/ 50\.$/);
  });

  it('returns a when on one line, lists in brackets', () => {
    expect(formatWhen({ department: 'Eng*', title: ['*Manager*', 'Lead'] })).toBe('{department: Eng*, title: [*Manager*, Lead]}');
    expect(formatWhen({})).toBe('{}');
  });

  it('returns skipped people under their reason', () => {
    expect(renderSkipped(skippedPeople({ notOurs: ['z@example.com'] }), {})).toEqual(['  skipped notOurs (1):', '    z@example.com']);
  });
});

describe('Function: renderPlan', () => {
  it('returns per target its changes, the Plan line and the steady state; skipped people only when asked', () => {
    // Act
    const text = renderPlan(report('plan'), { maxRenewals: 3 });
    const withSkipped = renderPlan(report('plan'), { maxRenewals: 3, showSkipped: true });

    // Assess
    const lines = text.split('\n');
    expect(lines[0]).toBe('eng:');
    expect(lines[5]).toBe('Plan: 1 to invite, 1 to renew, 1 role change, 1 to revoke.');
    expect(lines[6]).toMatch(/^After: 2 members, 3 pending/);
    expect(text).not.toContain('skipped');
    expect(withSkipped).toContain('  skipped alreadyMember (2):\n    m1@example.com\n    m2@example.com');
  });
});

describe('Function: toJson', () => {
  it('returns the existing keys plus actions and steadyState; skippedPeople only with showSkipped; result per action in apply', () => {
    // Act
    const plan = JSON.parse(toJson(report('plan')));
    const apply = JSON.parse(toJson(report('apply'), { showSkipped: true }));

    // Assess
    const t = plan.targets[0];
    expect(Object.keys(t)).toEqual(['name', 'instanceId', 'orgId', 'desired', 'pending', 'members', 'planned', 'done', 'failed', 'skipped', 'blocked', 'complete', 'planHash', 'actions', 'steadyState']);
    expect(t.actions[0]).toEqual({ kind: 'fixRole', email: 'bob@example.com', role: 'edit', fromRole: 'view', inviteId: '1'.repeat(24), rule: { index: 1, when: { department: 'Engineering' } } });
    expect(t.actions[2]).toMatchObject({ kind: 'renew', renewals: 1 });
    expect(t.actions.every((a: object) => !('personEventAt' in a) && !('result' in a))).toBe(true);
    expect(apply.targets[0].actions.map((a: { result: string }) => a.result)).toEqual(['notStarted', 'notStarted', 'notStarted', 'notStarted']);
    expect(apply.targets[0].skippedPeople.alreadyMember).toEqual(['m1@example.com', 'm2@example.com']);
  });
});
