// unit: the removal rule (functions/sync/offboard.ts) alone and through planTarget (policy.removeLeftMembers)
import { describe, expect, it } from 'vitest';
import { invitedBySync, planRemovals, type Leaver } from '../../functions/sync/offboard.ts';
import { planTarget } from '../../functions/sync/planner.ts';
import { checkBrakes } from '../../functions/sync/brakes.ts';
import type { LedgerEntry, Member, Policy, Rule } from '../../functions/sync/types.ts';
import { DAY, hexId, iso, ledgerEntry, member, storedPerson } from '../helpers/builders.ts';

const NOW = Date.parse('2031-03-10T09:00:00.000Z');
const EVENT_AT = iso(NOW - 40 * DAY);
const POLICY: Policy = { renewExpired: true, maxRenewals: 3, revokeLeft: false, fixRole: false, removeLeftMembers: true };
const RULES: Rule[] = [{ when: { department: 'Engineering' }, role: 'edit' }];
const OWN = { userId: hexId(0xaaa), email: 'owner@example.com' };

/** The ledger entry of a member who accepted the invite invite-sync sent (learntEntry keeps the inviteId). */
const ourMember = (email: string, over: Partial<LedgerEntry> = {}): LedgerEntry =>
  ledgerEntry(email, { state: 'member', updatedAt: iso(NOW - 10 * DAY), inviteId: hexId(0x500), personEventAt: EVENT_AT, ...over });
const withId = (email: string, n: number, over: Partial<Member> = {}): Member => member(email, { userId: hexId(n), ...over });
const leaver = (m: Member, entry: LedgerEntry | undefined): Leaver => ({ email: m.email, member: m, entry });

describe('Function: invitedBySync', () => {
  it('returns true only for our sent invite or a member entry that kept its inviteId; adopted ones only with manageAdopted', () => {
    // Assess
    expect(invitedBySync(ourMember('a@example.com'), false)).toBe(true);
    expect(invitedBySync(ledgerEntry('a@example.com', { state: 'sent', updatedAt: iso(NOW), inviteId: hexId(1) }), false)).toBe(true);
    expect(invitedBySync(ledgerEntry('a@example.com', { state: 'member', updatedAt: iso(NOW) }), false)).toBe(false);
    expect(invitedBySync(ledgerEntry('a@example.com', { state: 'revoked', updatedAt: iso(NOW), inviteId: hexId(1) }), false)).toBe(false);
    expect(invitedBySync(undefined, true)).toBe(false);
    expect(invitedBySync(ourMember('a@example.com', { adopted: true }), false)).toBe(false);
    expect(invitedBySync(ourMember('a@example.com', { adopted: true }), true)).toBe(true);
  });
});

describe('Function: planRemovals', () => {
  it('returns nothing when policy.removeLeftMembers is off', () => {
    // Arrange
    const m = withId('ann@example.com', 1);

    // Act
    const out = planRemovals([leaver(m, ourMember(m.email))], [m], { ...POLICY, removeLeftMembers: false }, OWN, false);

    // Assess
    expect(out.actions).toEqual([]);
    expect(out.skipped).toEqual({ lastAdmin: [], ownUser: [], missingScope: [] });
  });

  it('removes our leavers, keeps members invite-sync did not invite, the own user (by id or email) and the last admin', () => {
    // Arrange
    const ann = withId('ann@example.com', 1);
    const bob = withId('bob@example.com', 2);
    const own = withId('owner@example.com', 0xaaa);
    const ownByEmail = withId('owner@example.com', 0xbbb);
    const admin = withId('zed@example.com', 3, { role: 'admin' });
    const members = [ann, bob, own, admin];

    // Act
    const out = planRemovals(
      [leaver(ann, ourMember(ann.email)), leaver(bob, undefined), leaver(own, ourMember(own.email)), leaver(admin, ourMember(admin.email))],
      members, POLICY, OWN, false,
    );
    const byEmail = planRemovals([leaver(ownByEmail, ourMember(ownByEmail.email))], [ownByEmail], POLICY, { userId: hexId(0xccc), email: 'owner@example.com' }, false);

    // Assess: zed is the org's only admin
    expect(out.actions).toEqual([{ kind: 'remove', email: 'ann@example.com', role: 'edit', userId: hexId(1) }]);
    expect(out.skipped).toEqual({ lastAdmin: ['zed@example.com'], ownUser: ['owner@example.com'], missingScope: [] });
    expect(byEmail.actions).toEqual([]);
    expect(byEmail.skipped.ownUser).toEqual(['owner@example.com']);
  });

  it('removes admins in email order while another admin stays', () => {
    // Arrange
    const a = withId('a@example.com', 1, { role: 'admin' });
    const b = withId('b@example.com', 2, { role: 'admin' });
    const c = withId('c@example.com', 3, { role: 'admin' });

    // Act
    const out = planRemovals([leaver(c, ourMember(c.email)), leaver(a, ourMember(a.email)), leaver(b, ourMember(b.email))], [a, b, c], POLICY, OWN, false);

    // Assess
    expect(out.actions.map((x) => x.email)).toEqual(['a@example.com', 'b@example.com']);
    expect(out.skipped.lastAdmin).toEqual(['c@example.com']);
  });

  it('removes nobody while the own user is unknown (GET /me refused): each leaver counts as missingScope', () => {
    // Arrange
    const ann = withId('ann@example.com', 1);

    // Act
    const unknown = planRemovals([leaver(ann, ourMember(ann.email))], [ann], POLICY, 'unknown', false);
    const absent = planRemovals([leaver(ann, ourMember(ann.email))], [ann], POLICY, undefined, false);

    // Assess
    expect(unknown.actions).toEqual([]);
    expect(unknown.skipped.missingScope).toEqual(['ann@example.com']);
    expect(absent.actions).toEqual([]);
  });
});

describe('Function: planTarget (policy.removeLeftMembers)', () => {
  const input = (over: { policy?: Policy; people?: ReturnType<typeof storedPerson>[] } = {}) => ({
    rules: RULES,
    people: over.people ?? [
      storedPerson('ann@example.com', { lastEventAt: EVENT_AT, status: 'terminated' }),
      storedPerson('bob@example.com', { lastEventAt: EVENT_AT }),
    ],
    pending: [],
    members: [withId('ann@example.com', 1), withId('bob@example.com', 2), withId('carl@example.com', 4), withId('owner@example.com', 0xaaa, { role: 'admin' })],
    ledger: [ourMember('ann@example.com'), ourMember('bob@example.com')],
    policy: over.policy ?? POLICY,
    now: NOW,
    ownUser: OWN,
    explain: true,
  });

  it('plans `remove` for a terminated member invite-sync invited (reason leftRoster), not for a desired one nor one not ours', () => {
    // Act
    const plan = planTarget(input());

    // Assess
    expect(plan.actions).toEqual([{ kind: 'remove', email: 'ann@example.com', role: 'edit', userId: hexId(1), reason: 'leftRoster' }]);
    expect(plan.skippedPeople?.alreadyMember).toEqual(['bob@example.com']);
  });

  it('plans nothing with the policy off, and the plan hash differs from the removal plan', () => {
    // Act
    const on = planTarget(input());
    const off = planTarget(input({ policy: { ...POLICY, removeLeftMembers: false } }));

    // Assess
    expect(off.actions).toEqual([]);
    expect(off.hash).not.toBe(on.hash);
  });

  it('counts removals toward the brakes (maxChangesPerRun)', () => {
    // Act
    const plan = planTarget(input());

    // Assess
    expect(checkBrakes(plan, { maxChangesPerRun: 0, minSizeForFraction: 50, maxChangeFraction: 0.5, maxBadRows: 0 })).toBe('maxInvitesPerRun');
    expect(checkBrakes(plan, { maxChangesPerRun: 1, minSizeForFraction: 50, maxChangeFraction: 0.5, maxBadRows: 0 })).toBeNull();
  });
});
