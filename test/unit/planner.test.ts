// unit: planTarget (functions/sync/planner.ts), every branch of the decision table
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTLE_MS, planTarget, type PlanInput } from '../../functions/sync/planner.ts';
import { hashPlan } from '../../functions/sync/plan-hash.ts';
import type { LedgerEntry, Member, PendingInvite, Policy, Rule, StoredPerson } from '../../functions/sync/types.ts';

const NOW = Date.parse('2024-06-01T12:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const EVENT_AT = iso(NOW - 30 * DAY);

const person = (email: string, over: Partial<StoredPerson> = {}): StoredPerson => ({
  email,
  identity: `email:${email}`,
  source: 'hr',
  status: 'active',
  lastEventAt: EVENT_AT,
  attributes: { department: 'Engineering' },
  ...over,
});

let nextId = 0x100;
const invite = (email: string, over: Partial<PendingInvite> = {}): PendingInvite => ({
  id: (nextId++).toString(16).padStart(24, '0'),
  email,
  role: 'edit',
  inviteDate: iso(NOW - DAY),
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
  runId: 'run-1',
  personEventAt: EVENT_AT,
  ...over,
});

const POLICY: Policy = { renewExpired: true, maxRenewals: 3, revokeLeft: false, fixRole: false };

function plan(over: Partial<PlanInput>) {
  return planTarget({
    rules: [{ when: { department: 'Engineering' }, role: 'edit' }, { when: { department: 'Sales' }, role: 'skip' }, { when: {}, role: 'view' }],
    people: [],
    pending: [],
    members: [],
    ledger: [],
    policy: POLICY,
    now: NOW,
    ...over,
  });
}

describe('Function: planTarget', () => {
  it('returns an invite for a desired person with nothing in Losant and no ledger entry', () => {
    // Act
    const result = plan({ people: [person('jane@example.com')] });

    // Assert
    expect(result.actions).toEqual([{ kind: 'invite', email: 'jane@example.com', role: 'edit', personEventAt: EVENT_AT }]);
    expect([result.desired, result.pending, result.members]).toEqual([1, 0, 0]);
    expect(result.hash).toBe(hashPlan(result.actions));
  });

  it('returns skipped.alreadyMember for a member, even one with a pending invite', () => {
    const inv = invite('jane@example.com', { role: 'view' });
    const result = plan({ people: [person('jane@example.com')], members: [{ email: 'jane@example.com', role: 'edit' }], pending: [inv], ledger: [sent(inv)], policy: { ...POLICY, fixRole: true } });
    expect([result.actions, result.skipped.alreadyMember]).toEqual([[], 1]);
  });

  it('returns skipped.alreadyPending for an unexpired invite with the rule\'s role, notOurs and roleMismatch for one not ours with another', () => {
    const same = plan({ people: [person('jane@example.com')], pending: [invite('jane@example.com', { role: 'edit' })] });
    const other = plan({ people: [person('jane@example.com')], pending: [invite('jane@example.com', { role: 'view' })] });
    expect([same.actions, same.skipped.alreadyPending, same.skipped.roleMismatch]).toEqual([[], 1, 0]);
    expect([other.actions, other.skipped.alreadyPending, other.skipped.notOurs, other.skipped.roleMismatch]).toEqual([[], 0, 1, 1]);
  });

  it('returns fixRole for our unexpired invite with another role when policy.fixRole', () => {
    // Arrange
    const inv = invite('jane@example.com', { role: 'view' });

    // Act
    const result = plan({ people: [person('jane@example.com')], pending: [inv], ledger: [sent(inv)], policy: { ...POLICY, fixRole: true } });

    // Assert
    expect(result.actions).toEqual([{ kind: 'fixRole', email: 'jane@example.com', role: 'edit', inviteId: inv.id, personEventAt: EVENT_AT }]);
  });

  it('returns no fixRole when the invite is not ours (notOurs, roleMismatch), adopted (alreadyPending) or fixRole is off', () => {
    const inv = invite('jane@example.com', { role: 'view' });
    const fix = { ...POLICY, fixRole: true };
    const notOurs = plan({ people: [person('jane@example.com')], pending: [inv], ledger: [sent(inv, { inviteId: 'ffffffffffffffffffffffff' })], policy: fix });
    const adopted = plan({ people: [person('jane@example.com')], pending: [inv], ledger: [sent(inv, { adopted: true })], policy: fix });
    const managed = plan({ people: [person('jane@example.com')], pending: [inv], ledger: [sent(inv, { adopted: true })], policy: { ...fix, manageAdopted: true } });
    const off = plan({ people: [person('jane@example.com')], pending: [inv], ledger: [sent(inv)] });
    expect([notOurs.actions, notOurs.skipped.notOurs, notOurs.skipped.roleMismatch]).toEqual([[], 1, 1]);
    expect([adopted.actions, adopted.skipped.alreadyPending, managed.actions.map((a) => a.kind)]).toEqual([[], 1, ['fixRole']]);
    expect([off.actions, off.skipped.alreadyPending]).toEqual([[], 1]);
  });

  it('returns fixRole on our invite when the email also has a newer unexpired invite that is not ours', () => {
    const ours = invite('jane@example.com', { role: 'view', inviteDate: iso(NOW - 2 * DAY) });
    const theirs = invite('jane@example.com', { role: 'view', inviteDate: iso(NOW - HOUR) });
    const result = plan({ people: [person('jane@example.com')], pending: [theirs, ours], ledger: [sent(ours)], policy: { ...POLICY, fixRole: true } });
    expect(result.actions.map((a) => [a.kind, a.inviteId])).toEqual([['fixRole', ours.id]]);
  });

  it('returns renew for our newest expired invite with renewals left', () => {
    // Arrange
    const older = invite('jane@example.com', { hasExpired: true, inviteDate: iso(NOW - 20 * DAY) });
    const newest = invite('jane@example.com', { hasExpired: true, inviteDate: iso(NOW - 9 * DAY) });

    // Act
    const result = plan({ people: [person('jane@example.com')], pending: [newest, older], ledger: [sent(newest, { renewals: 2 })] });

    // Assert
    expect(result.actions).toEqual([{ kind: 'renew', email: 'jane@example.com', role: 'edit', inviteId: newest.id, renewals: 2, personEventAt: EVENT_AT }]);
    expect(result.pending).toBe(1);
  });

  it('returns an adopting renew (role of the rule) when the newest expired invite is not ours, notOurs with adoptExpired off', () => {
    const ours = invite('jane@example.com', { hasExpired: true, inviteDate: iso(NOW - 20 * DAY) });
    const theirs = invite('jane@example.com', { hasExpired: true, inviteDate: iso(NOW - 9 * DAY), role: 'view' });
    const adopted = plan({ people: [person('jane@example.com')], pending: [ours, theirs], ledger: [sent(ours)] });
    const off = plan({ people: [person('jane@example.com')], pending: [ours, theirs], ledger: [sent(ours)], policy: { ...POLICY, adoptExpired: false } });
    const none = plan({ people: [person('jane@example.com')], pending: [theirs], policy: { ...POLICY, maxRenewals: 0 } });
    expect(adopted.actions).toEqual([{ kind: 'renew', email: 'jane@example.com', role: 'edit', inviteId: theirs.id, renewals: 0, personEventAt: EVENT_AT, adopted: true }]);
    expect([off.actions, off.skipped.notOurs, none.actions, none.skipped.notOurs]).toEqual([[], 1, [], 1]);
  });

  it('returns skipped.alreadyPending for our expired invite when renewExpired is off', () => {
    const inv = invite('jane@example.com', { hasExpired: true });
    const result = plan({ people: [person('jane@example.com')], pending: [inv], ledger: [sent(inv)], policy: { ...POLICY, renewExpired: false } });
    expect([result.actions, result.skipped.alreadyPending]).toEqual([[], 1]);
  });

  it('returns skipped.renewalsExhausted once renewals reach maxRenewals', () => {
    const inv = invite('jane@example.com', { hasExpired: true });
    const result = plan({ people: [person('jane@example.com')], pending: [inv], ledger: [sent(inv, { renewals: 3 })] });
    expect([result.actions, result.skipped.renewalsExhausted]).toEqual([[], 1]);
  });

  it.each(['intent', 'failed', 'revoked'] as const)('returns an invite when the ledger says %s and Losant lists nothing', (state) => {
    const entry = sent(invite('jane@example.com'), { state, invitedAt: iso(NOW - 60_000) });
    const result = plan({ people: [person('jane@example.com')], ledger: [entry] });
    expect(result.actions.map((a) => a.kind)).toEqual(['invite']);
  });

  it('returns skipped.invitedRecently for our invite sent less than settleMs ago that is not listed yet', () => {
    // Arrange
    const entry = sent(invite('jane@example.com'), { invitedAt: iso(NOW - DEFAULT_SETTLE_MS + 1000) });

    // Act
    const result = plan({ people: [person('jane@example.com')], ledger: [entry], force: true });

    // Assert
    expect([result.actions, result.skipped.invitedRecently]).toEqual([[], 1]);
  });

  it('returns skipped.invitedRecently judged by updatedAt when invitedAt is missing, and honours settleMs', () => {
    const { invitedAt: _i, ...entry } = sent(invite('jane@example.com'), { updatedAt: iso(NOW - 30_000) });
    const settled = plan({ people: [person('jane@example.com')], ledger: [entry], settleMs: 10_000 });
    const waiting = plan({ people: [person('jane@example.com')], ledger: [entry] });
    expect([settled.skipped.invitedRecently, waiting.skipped.invitedRecently]).toEqual([0, 1]);
  });

  it('returns skipped.removedOutsideSync for our settled invite that vanished with no newer HR event', () => {
    const entry = sent(invite('jane@example.com'), { personEventAt: EVENT_AT });
    const result = plan({ people: [person('jane@example.com')], ledger: [entry] });
    expect([result.actions, result.skipped.removedOutsideSync]).toEqual([[], 1]);
  });

  it('returns an invite for a vanished invite after a re-hire (departedAt) or with force, never for a newer HR event alone', () => {
    const entry = sent(invite('jane@example.com'), { personEventAt: EVENT_AT });
    const newer = plan({ people: [person('jane@example.com', { lastEventAt: iso(NOW - DAY), attributes: { department: 'Engineering', title: 'Lead' } })], ledger: [entry] });
    const rehired = plan({ people: [person('jane@example.com', { lastEventAt: iso(NOW - DAY) })], ledger: [{ ...entry, departedAt: iso(NOW - 2 * DAY) }] });
    const forced = plan({ people: [person('jane@example.com')], ledger: [entry], force: true });
    expect([newer.actions.map((a) => a.kind), newer.skipped.removedOutsideSync]).toEqual([[], 1]);
    expect([rehired.actions.map((a) => a.kind), forced.actions.map((a) => a.kind)]).toEqual([['invite'], ['invite']]);
  });

  it('returns skipped.removedOutsideSync for a member an admin removed, an invite after a re-hire', () => {
    const gone = { email: 'jane@example.com', state: 'member' as const, role: 'edit' as const, updatedAt: iso(NOW - 5 * DAY), renewals: 0, runId: 'run-1' };
    const kept = plan({ people: [person('jane@example.com')], ledger: [gone] });
    const back = plan({ people: [person('jane@example.com')], ledger: [{ ...gone, departedAt: iso(NOW - DAY) }] });
    expect([kept.actions, kept.skipped.removedOutsideSync, back.actions.map((a) => a.kind)]).toEqual([[], 1, ['invite']]);
  });

  it('returns nothing for terminated people, people who left the source and people a rule skips', () => {
    const result = plan({
      people: [
        person('gone@example.com', { status: 'terminated' }),
        person('left@example.com', { leftSource: true }),
        person('sales@example.com', { attributes: { department: 'Sales' } }),
      ],
    });
    expect([result.actions, result.desired]).toEqual([[], 0]);
  });

  it('returns revoke for our pending invites (expired or not) of emails no longer desired when revokeLeft', () => {
    // Arrange
    const left = invite('left@example.com', { role: 'view' });
    const skippedNow = invite('sales@example.com', { hasExpired: true });
    const theirs = invite('stranger@example.com');
    const people = [person('left@example.com', { leftSource: true }), person('sales@example.com', { attributes: { department: 'Sales' } })];
    const input = { people, pending: [theirs, skippedNow, left], ledger: [sent(left), sent(skippedNow)] };

    // Act
    const on = plan({ ...input, policy: { ...POLICY, revokeLeft: true } });
    const off = plan(input);

    // Assert
    expect(on.actions).toEqual([
      { kind: 'revoke', email: 'left@example.com', role: 'view', inviteId: left.id },
      { kind: 'revoke', email: 'sales@example.com', role: 'edit', inviteId: skippedNow.id },
    ]);
    expect(on.skipped.notOurs).toBe(1);
    expect([off.actions, off.skipped.notOurs]).toEqual([[], 0]);
  });

  it('returns one revoke (ours) and notOurs for the others when an undesired email has several invites', () => {
    const ours = invite('left@example.com');
    const other = invite('left@example.com', { hasExpired: true });
    const result = plan({ pending: [ours, other], ledger: [sent(ours)], policy: { ...POLICY, revokeLeft: true } });
    expect([result.actions.map((a) => a.inviteId), result.skipped.notOurs]).toEqual([[ours.id], 1]);
  });

  it('returns the newest person of two sources sharing an email as the one that decides', () => {
    const result = plan({
      people: [
        person('jane@example.com', { source: 'crm', attributes: { department: 'Sales' }, lastEventAt: iso(NOW - 2 * DAY) }),
        person('jane@example.com', { source: 'hr', attributes: { department: 'Ops' }, lastEventAt: iso(NOW - 3 * DAY) }),
      ],
    });
    expect([result.actions, result.desired]).toEqual([[], 0]);
  });

  it('returns actions sorted by kind then email, and counts distinct pending and member emails', () => {
    // Arrange
    const ours = invite('b@example.com', { role: 'view' });
    const input = {
      people: ['d', 'a', 'c', 'b'].map((n) => person(`${n}@example.com`)),
      pending: [ours, invite('z@example.com'), invite('z@example.com', { hasExpired: true })],
      members: [{ email: 'm@example.com', role: 'view' as const }],
      ledger: [sent(ours)],
      policy: { ...POLICY, fixRole: true },
    };

    // Act
    const result = plan(input);

    // Assert
    expect(result.actions.map((a) => `${a.kind}:${a.email}`)).toEqual(['fixRole:b@example.com', 'invite:a@example.com', 'invite:c@example.com', 'invite:d@example.com']);
    expect([result.desired, result.pending, result.members]).toEqual([4, 2, 1]);
  });

  it('plans 100 000 people against 80 000 pending and 20 000 members correctly (speed is measured in npm run bench)', () => {
    // Arrange
    const people: StoredPerson[] = [];
    const pending: PendingInvite[] = [];
    const members: Member[] = [];
    for (let i = 0; i < 100_000; i++) {
      const email = `user${i}@example.com`;
      people.push(person(email, { identity: `emp:E${i}`, employeeId: `E${i}`, attributes: { department: i % 3 ? 'Engineering' : 'Ops', title: 'Engineer' } }));
      if (i < 80_000) pending.push({ id: i.toString(16).padStart(24, '0'), email, role: i % 3 ? 'edit' : 'view', inviteDate: EVENT_AT, hasExpired: false });
      else if (i < 99_000) members.push({ email, role: 'view' });
    }
    const rules: Rule[] = [{ when: { title: '*Manager*' }, role: 'admin' }, { when: { department: 'Engineering' }, role: 'edit' }, { when: {}, role: 'view' }];

    // Act
    const result = planTarget({ rules, people, pending, members, ledger: [], policy: { ...POLICY, revokeLeft: true }, now: NOW });

    // Assert
    expect(result.actions).toHaveLength(1_000);
    expect(result.skipped.alreadyPending).toBe(80_000);
    expect(result.skipped.alreadyMember).toBe(19_000);
    expect(result.desired).toBe(100_000);
  });
});
