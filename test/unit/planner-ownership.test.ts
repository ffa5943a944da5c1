// unit: planTarget's ownership and memory (issue 11 items 4-6): intents claim only invites dated in their
// window, settle and get abandoned; members first seen and departures are remembered; adopted invites are only renewed.
import { describe, expect, it } from 'vitest';
import { planTarget, type PlanInput } from '../../functions/sync/planner.ts';
import { checkBrakes } from '../../functions/sync/brakes.ts';
import { SETTLE_MS } from '../../functions/sync/ownership.ts';
import type { LedgerEntry, Policy } from '../../functions/sync/types.ts';
import { DAY, HOUR, iso, ledgerEntry, member, pendingInvite, sentEntry, storedPerson } from '../helpers/builders.ts';

const NOW = Date.parse('2031-02-01T12:00:00.000Z');
const EVENT_AT = iso(NOW - 30 * DAY);
const POLICY: Policy = { renewExpired: true, maxRenewals: 3, revokeLeft: true, fixRole: false };
const LIMITS = { maxChangesPerRun: 500, minSizeForFraction: 50, maxChangeFraction: 0.5, maxBadRows: 0 };
const jane = storedPerson('jane@example.com', { lastEventAt: EVENT_AT });

function plan(over: Partial<PlanInput>) {
  return planTarget({
    rules: [{ when: { department: 'Engineering' }, role: 'edit' }],
    people: [],
    pending: [],
    members: [],
    ledger: [],
    policy: POLICY,
    now: NOW,
    stamp: { runId: 'r-now', at: iso(NOW) },
    ...over,
  });
}

/** An intent of run r-1, written at `writtenAt`; r-1 ended at `endedAt`. */
function intentOf(writtenAt: number, endedAt: number): Pick<PlanInput, 'ledger' | 'runEnds'> {
  return { ledger: [ledgerEntry('jane@example.com', { state: 'intent', runId: 'r-1', updatedAt: iso(writtenAt) })], runEnds: new Map([['r-1', endedAt]]) };
}

describe('Function: planTarget (ownership of intents)', () => {
  it('returns skipped.settling and no invite while the intent\'s run ended less than SETTLE_SECONDS ago, listed invite or not', () => {
    // Arrange: r-1 wrote the intent 2 minutes ago and ended 30 s ago
    const intent = intentOf(NOW - 2 * 60_000, NOW - 30_000);
    const listed = pendingInvite('jane@example.com', { inviteDate: iso(NOW - 60_000) });

    // Act
    const nothing = plan({ people: [jane], ...intent });
    const withInvite = plan({ people: [jane], pending: [listed], ...intent });

    // Assess
    expect([nothing.actions, nothing.skipped.settling]).toEqual([[], 1]);
    expect([withInvite.actions, withInvite.skipped.settling, withInvite.remember]).toEqual([[], 1, []]);
  });

  it('returns the claimed invite as ours once settled (a later revoke acts on it), and leaves an invite dated after the window alone', () => {
    // Arrange: r-1 wrote the intent 3 h ago and ended 2 h ago; jane has left
    const intent = intentOf(NOW - 3 * HOUR, NOW - 2 * HOUR);
    const inWindow = pendingInvite('jane@example.com', { inviteDate: iso(NOW - 3 * HOUR + 5000) });
    const byHand = pendingInvite('jane@example.com', { inviteDate: iso(NOW - 2 * HOUR + SETTLE_MS + 1000) });

    // Act
    const claimed = plan({ pending: [inWindow], ...intent });
    const notClaimed = plan({ pending: [byHand], ...intent });

    // Assess
    expect(claimed.remember).toEqual([{ ...intent.ledger[0]!, state: 'sent', inviteId: inWindow.id, invitedAt: inWindow.inviteDate, updatedAt: iso(NOW) }]);
    expect(claimed.actions.map((a) => [a.kind, a.inviteId])).toEqual([['revoke', inWindow.id]]);
    expect([notClaimed.actions, notClaimed.remember, notClaimed.skipped.notOurs]).toEqual([[], [], 1]);
  });

  it('returns nothing claimed for an abandoned intent (its run ended more than settle + 7 days ago)', () => {
    const intent = intentOf(NOW - 9 * DAY, NOW - 8 * DAY);
    const inWindow = pendingInvite('jane@example.com', { inviteDate: iso(NOW - 9 * DAY + 1000) });
    const result = plan({ pending: [inWindow], ...intent });
    expect([result.actions, result.remember, result.skipped.notOurs]).toEqual([[], [], 1]);
  });

  it('returns an invite for a settled intent whose POST never happened (nothing listed)', () => {
    const result = plan({ people: [jane], ...intentOf(NOW - 3 * HOUR, NOW - 2 * HOUR) });
    expect(result.actions.map((a) => a.kind)).toEqual(['invite']);
  });
});

describe('Function: planTarget (what the ledger remembers)', () => {
  it('returns a member entry for a member first seen and nothing once the ledger knows them', () => {
    // Act
    const first = plan({ people: [jane], members: [member('jane@example.com'), member('admin@example.com', { role: 'admin' })] });
    const again = plan({ people: [jane], members: [member('jane@example.com'), member('admin@example.com', { role: 'admin' })], ledger: first.remember! });

    // Assess
    expect(first.remember!.map((e) => [e.email, e.state, e.role])).toEqual([['admin@example.com', 'member', 'admin'], ['jane@example.com', 'member', 'edit']]);
    expect([again.remember, again.skipped.alreadyMember]).toEqual([[], 1]);
  });

  it('returns removedOutsideSync for a member an admin removed, until a departure then a return (re-hire)', () => {
    // Arrange
    const known: LedgerEntry = ledgerEntry('jane@example.com', { state: 'member', updatedAt: iso(NOW - 5 * DAY), personEventAt: EVENT_AT });

    // Act: removed by hand; then terminated; then active again
    const removed = plan({ people: [jane], ledger: [known] });
    const terminated = plan({ people: [{ ...jane, status: 'terminated' }], ledger: [known] });
    const rehired = plan({ people: [jane], ledger: terminated.remember! });

    // Assess
    expect([removed.actions, removed.skipped.removedOutsideSync]).toEqual([[], 1]);
    expect(terminated.remember).toEqual([{ ...known, departedAt: iso(NOW) }]);
    expect(rehired.actions.map((a) => a.kind)).toEqual(['invite']);
  });

  it('returns the departure used up when a re-hired person still has an invite (a later hand revoke is respected)', () => {
    const inv = pendingInvite('jane@example.com', { inviteDate: iso(NOW - DAY) });
    const departed = sentEntry(inv, { departedAt: iso(NOW - HOUR) });
    const result = plan({ people: [jane], pending: [inv], ledger: [departed] });
    const { departedAt: _gone, ...back } = departed;
    expect([result.actions, result.skipped.alreadyPending, result.remember]).toEqual([[], 1, [back]]);
  });

  it('returns nothing to remember on a converged target', () => {
    const inv = pendingInvite('jane@example.com', { inviteDate: iso(NOW - DAY) });
    const result = plan({ people: [jane], pending: [inv], ledger: [sentEntry(inv)] });
    expect([result.actions, result.remember]).toEqual([[], []]);
  });
});

describe('Function: checkBrakes (emptyDesired)', () => {
  it('returns emptyDesired for a target nobody is desired in while its ledger holds sent entries, whatever its size', () => {
    // Arrange: one invite of ours, the roster now matches nobody
    const inv = pendingInvite('jane@example.com', { inviteDate: iso(NOW - DAY) });
    const empty = plan({ people: [{ ...jane, attributes: { department: 'Sales' } }], pending: [inv], ledger: [sentEntry(inv)] });
    const quiet = plan({ people: [], ledger: [ledgerEntry('x@example.com', { state: 'revoked', updatedAt: iso(NOW) })] });

    // Act / Assess
    expect(empty.ledgerSent).toBe(1);
    expect(checkBrakes(empty, LIMITS)).toBe('emptyDesired');
    expect(checkBrakes(quiet, LIMITS)).toBeNull();
  });
});
