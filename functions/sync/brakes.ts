// reconcile --> checkBrakes (plan + limits) --> block code or null (apply goes ahead)
import type { BlockCode, Limits, Plan } from './types.ts';

/**
 * The safety brake a plan runs into, or null. In order: an empty snapshot; nobody desired while
 * the ledger holds `sent` entries (`emptyDesired`, whatever the org's size: a rule or roster gone
 * wrong would otherwise revoke or abandon every invite we made); more changes
 * (invite + renew + fixRole + revoke) than `maxChangesPerRun` (code `maxInvitesPerRun`, kept for
 * reports and alarms); for an org of at least
 * `minSizeForFraction` (pending + members), more changes than `maxChangeFraction` of that size.
 * `ctx.recentChanges` (changes of the last `limits.windowMinutes`) count toward both, when the plan changes anything.
 * @example checkBrakes(plan, config.limits) // 'maxInvitesPerRun' | 'maxChangeFraction' | null
 */
export function checkBrakes(
  plan: Pick<Plan, 'actions' | 'desired' | 'pending' | 'members' | 'ledgerSent'>,
  limits: Limits,
  ctx: { emptySnapshot?: boolean; recentChanges?: number } = {},
): BlockCode | null {
  if (ctx.emptySnapshot) return 'emptySnapshot';
  if (plan.desired === 0 && (plan.ledgerSent ?? 0) > 0) return 'emptyDesired';
  // every action is a change: invite, renew, fixRole, revoke and remove alike; with the changes the
  // target's runs of the last `limits.windowMinutes` made (change-window.ts), so a drip of small runs adds up
  const changes = plan.actions.length + (plan.actions.length > 0 ? (ctx.recentChanges ?? 0) : 0);
  if (changes > limits.maxChangesPerRun) return 'maxInvitesPerRun';
  const size = plan.pending + plan.members;
  if (size >= limits.minSizeForFraction && changes > limits.maxChangeFraction * size) return 'maxChangeFraction';
  return null;
}
