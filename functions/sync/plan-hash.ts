// planner --> hashPlan (approvals and run records are bound to this hash)
import { createHash } from 'node:crypto';
import type { Action } from './types.ts';

/**
 * A stable sha256 (hex) of what a plan would change: kind, email, role and inviteId of every
 * action, independent of their order. Counts, times and renewals do not enter it.
 * @example hashPlan(plan.actions) === plan.hash
 */
export function hashPlan(actions: readonly Action[]): string {
  const lines = new Array<string>(actions.length);
  let sorted = true;
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    const line = `${a.kind}\u0000${a.email}\u0000${a.role}\u0000${a.inviteId ?? ''}`;
    if (sorted && i > 0 && line < lines[i - 1]!) sorted = false;
    lines[i] = line;
  }
  if (!sorted) lines.sort();
  return createHash('sha256').update(`invite-sync/plan/v1\n${lines.join('\n')}`).digest('hex');
}
