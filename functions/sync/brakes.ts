// reconcile --> checkBrakes (plan + limits) --> block code or null (apply goes ahead)
import type { BlockCode, Limits, Plan } from './types.ts';

/**
 * The safety brake a plan runs into, or null. In order: an empty snapshot; more changes
 * (invite + renew + fixRole + revoke) than `maxInvitesPerRun`; for an org of at least
 * `minSizeForFraction` (pending + members), more changes than `maxChangeFraction` of that size.
 * @example checkBrakes(plan, config.limits) // 'maxInvitesPerRun' | 'maxChangeFraction' | null
 */
export function checkBrakes(plan: Plan, limits: Limits, ctx: { emptySnapshot?: boolean } = {}): BlockCode | null {
  if (ctx.emptySnapshot) return 'emptySnapshot';
  let changes = 0;
  for (const a of plan.actions) {
    if (a.kind === 'invite' || a.kind === 'renew' || a.kind === 'fixRole' || a.kind === 'revoke') changes++;
  }
  if (changes > limits.maxInvitesPerRun) return 'maxInvitesPerRun';
  const size = plan.pending + plan.members;
  if (size >= limits.minSizeForFraction && changes > limits.maxChangeFraction * size) return 'maxChangeFraction';
  return null;
}
