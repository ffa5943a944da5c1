// planner --> offboard (policy.removeLeftMembers): which members who left are removed --> `remove` actions + skips
//
// Pure. The one owner of the removal rule:
// - a candidate is an org member the rules no longer want (role null: exactly as revokeLeft judges "left":
//   terminated, left its source's snapshot, no rule matches or a `skip` rule matches);
// - it is ours only when the ledger says invite-sync invited them: a `member` entry that kept the inviteId
//   of our `sent` entry (ledger.ts learntEntry), or a `sent` entry whose invite was accepted in between
//   runs; an adopted invite counts only with policy.manageAdopted (as for revokeLeft);
// - never the token's own user (GET /me); while the own user is unknown nothing is removed (skip
//   `missingScope`: the token cannot read /me);
// - never the org's last admin: admins are removed in email order while another admin stays.
import type { Action, LedgerEntry, Member, Policy, RevokeReason, Rule } from './types.ts';

/** The Losant user the API token belongs to (GET /me), or `unknown` when the token may not read it. */
export type OwnUser = { userId: string; email?: string } | 'unknown';

/** A member the rules no longer want (planner.ts collects them while deciding each email). */
export interface Leaver {
  email: string;
  member: Member;
  entry: LedgerEntry | undefined;
  /** explain only */
  reason?: RevokeReason;
  rule?: { index: number; when: Rule['when'] };
}

export interface RemovalPlan {
  actions: Action[];
  /** leavers kept: the org's last admin, the token's own user, or (own user unknown) missingScope */
  skipped: { lastAdmin: string[]; ownUser: string[]; missingScope: string[] };
}

/**
 * True when the ledger says invite-sync invited this member: our `sent` invite, or a `member`
 * entry that kept its inviteId; adopted ones only with `manageAdopted`.
 * @example invitedBySync(ledger.get(email), false)
 */
export function invitedBySync(entry: LedgerEntry | undefined, manageAdopted: boolean): boolean {
  if (entry === undefined || entry.inviteId === undefined) return false;
  if (entry.state !== 'sent' && entry.state !== 'member') return false;
  return entry.adopted !== true || manageAdopted;
}

/**
 * The removals of one target's plan: `remove` actions (sorted by email) for the leavers invite-sync
 * invited, never the last admin nor the own user. Nothing when `policy.removeLeftMembers` is off.
 * @example planRemovals(leavers, members, policy, { userId: '…' }, false)
 */
export function planRemovals(leavers: readonly Leaver[], members: readonly Member[], policy: Policy, own: OwnUser | undefined, explain: boolean): RemovalPlan {
  const out: RemovalPlan = { actions: [], skipped: { lastAdmin: [], ownUser: [], missingScope: [] } };
  if (policy.removeLeftMembers !== true) return out;
  const ours = leavers
    .filter((l) => l.member.userId !== undefined && invitedBySync(l.entry, policy.manageAdopted === true))
    .sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  let admins = members.filter((m) => m.role === 'admin').length;
  for (const l of ours) {
    if (own === undefined || own === 'unknown') {
      out.skipped.missingScope.push(l.email);
      continue;
    }
    if (l.member.userId === own.userId || (own.email !== undefined && own.email === l.email)) {
      out.skipped.ownUser.push(l.email);
      continue;
    }
    if (l.member.role === 'admin') {
      if (admins <= 1) {
        out.skipped.lastAdmin.push(l.email);
        continue;
      }
      admins--;
    }
    const action: Action = { kind: 'remove', email: l.email, role: l.member.role, userId: l.member.userId! };
    if (explain && l.reason !== undefined) action.reason = l.reason;
    if (l.rule !== undefined) action.rule = l.rule;
    out.actions.push(action);
  }
  return out;
}
