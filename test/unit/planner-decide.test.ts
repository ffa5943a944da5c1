// unit: decideEmail, the planner's per-email decision table (functions/sync/planner.ts)
import { describe, expect, it } from 'vitest';
import { decideEmail, DEFAULT_SETTLE_MS, type EmailFacts, type PlanSink } from '../../functions/sync/planner.ts';
import type { Action, Policy, SkipReason } from '../../functions/sync/types.ts';
import { DAY, iso, pendingInvite, sentEntry } from '../helpers/builders.ts';

const NOW = Date.parse('2030-06-01T12:00:00.000Z');
const EVENT_AT = iso(NOW - 30 * DAY);
const POLICY: Policy = { renewExpired: true, maxRenewals: 3, revokeLeft: true, fixRole: true };

function decide(over: Partial<EmailFacts>, policy: Partial<Policy> = {}): { actions: Action[]; skipped: [SkipReason, number][] } {
  const actions: Action[] = [];
  const skipped: [SkipReason, number][] = [];
  const sink: PlanSink = { actions, explain: false, skip: (reason, _email, n = 1) => void skipped.push([reason, n]) };
  const facts: EmailFacts = {
    email: 'a@example.com', role: 'edit', personEventAt: EVENT_AT, member: false, invites: 0,
    ours: undefined, open: undefined, expired: undefined, entry: undefined, ...over,
  };
  decideEmail(facts, { policy: { ...POLICY, ...policy }, now: NOW, settleMs: DEFAULT_SETTLE_MS, force: false }, sink);
  return { actions, skipped };
}

describe('Function: decideEmail', () => {
  const open = pendingInvite('a@example.com', { inviteDate: iso(NOW - DAY), role: 'view' });
  const expired = pendingInvite('a@example.com', { inviteDate: iso(NOW - 9 * DAY), hasExpired: true });

  it('returns a revoke of ours and a notOurs skip for each other invite of an email no longer desired', () => {
    // Act
    const r = decide({ role: null, invites: 3, ours: open, open, entry: sentEntry(open) });

    // Assess
    expect(r.actions).toEqual([{ kind: 'revoke', email: 'a@example.com', role: 'view', inviteId: open.id }]);
    expect(r.skipped).toEqual([['notOurs', 2]]);
  });

  it('returns nothing for an email no longer desired when revokeLeft is off', () => {
    expect(decide({ role: null, invites: 1, ours: open, open }, { revokeLeft: false })).toEqual({ actions: [], skipped: [] });
  });

  it('returns alreadyMember for a member, whatever is pending', () => {
    expect(decide({ member: true, invites: 1, ours: open, open }).skipped).toEqual([['alreadyMember', 1]]);
  });

  it('returns fixRole for our unexpired invite with another role, notOurs and roleMismatch for one not ours', () => {
    // Act
    const ours = decide({ invites: 1, ours: open, open, entry: sentEntry(open) });
    const theirs = decide({ invites: 1, open });

    // Assess
    expect(ours.actions).toEqual([{ kind: 'fixRole', email: 'a@example.com', role: 'edit', inviteId: open.id, personEventAt: EVENT_AT }]);
    expect(theirs.skipped).toEqual([['roleMismatch', 1], ['notOurs', 1]]);
  });

  it('returns renew for our expired invite with renewals left, renewalsExhausted without, an adopting renew for another', () => {
    // Act
    const left = decide({ invites: 1, ours: expired, expired, entry: sentEntry(expired, { renewals: 2 }) });
    const none = decide({ invites: 1, ours: expired, expired, entry: sentEntry(expired, { renewals: 3 }) });
    const theirs = decide({ invites: 1, expired });

    // Assess
    expect(left.actions).toEqual([{ kind: 'renew', email: 'a@example.com', role: 'edit', inviteId: expired.id, renewals: 2, personEventAt: EVENT_AT }]);
    expect(none.skipped).toEqual([['renewalsExhausted', 1]]);
    expect(theirs.actions).toEqual([{ kind: 'renew', email: 'a@example.com', role: 'edit', inviteId: expired.id, renewals: 0, personEventAt: EVENT_AT, adopted: true }]);
    expect(decide({ invites: 1, expired }, { adoptExpired: false }).skipped).toEqual([['notOurs', 1]]);
  });

  it('returns settling for a desired email whose intent is settling, whatever Losant lists', () => {
    const intent = { email: 'a@example.com', state: 'intent' as const, role: 'edit' as const, updatedAt: iso(NOW - 1000), renewals: 0, runId: 'r-1' };
    expect(decide({ entry: intent, intent: 'settling' })).toEqual({ actions: [], skipped: [['settling', 1]] });
    expect(decide({ invites: 1, expired, entry: intent, intent: 'settling' })).toEqual({ actions: [], skipped: [['settling', 1]] });
  });

  it('returns no revoke of an adopted invite unless manageAdopted', () => {
    const adopted = sentEntry(open, { adopted: true });
    expect(decide({ role: null, invites: 1, ours: open, open, entry: adopted })).toEqual({ actions: [], skipped: [['notOurs', 1]] });
    expect(decide({ role: null, invites: 1, ours: open, open, entry: adopted }, { manageAdopted: true }).actions.map((a) => a.kind)).toEqual(['revoke']);
  });

  it('returns invite for nothing pending and no ledger entry, removedOutsideSync for a settled sent one', () => {
    // Act
    const fresh = decide({});
    const removed = decide({ entry: sentEntry(open, { personEventAt: EVENT_AT }) });

    // Assess
    expect(fresh.actions).toEqual([{ kind: 'invite', email: 'a@example.com', role: 'edit', personEventAt: EVENT_AT }]);
    expect(removed.skipped).toEqual([['removedOutsideSync', 1]]);
  });
});
