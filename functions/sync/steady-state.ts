// reconcile (explain) --> steadyStateAfter (plan + pending invites) --> what a target looks like once the plan ran (pure)
import type { Action, PendingInvite, Plan, SkipReason, SteadyState } from './types.ts';

/** "Soon" and "long" for the steady state: 7 days. */
export const STEADY_STATE_WINDOW_MS = 7 * 24 * 3600 * 1000;

export interface SteadyStateInput {
  plan: Pick<Plan, 'members' | 'skipped'> & { actions: readonly Action[] };
  /** the skipped emails by reason (planTarget with `explain`) */
  skippedPeople: Record<SkipReason, string[]>;
  pending: readonly PendingInvite[];
  now: number;
  /** default STEADY_STATE_WINDOW_MS */
  windowMs?: number;
}

/**
 * Counts what a target holds after its plan: resent invites count as fresh, revoked ones as gone,
 * new invites as pending. Pure; emails are compared as given.
 * @example steadyStateAfter({ plan, skippedPeople: plan.skippedPeople!, pending, now: clock.now() }).waitingOver7Days
 */
export function steadyStateAfter(input: SteadyStateInput): SteadyState {
  const windowMs = input.windowMs ?? STEADY_STATE_WINDOW_MS;
  const touched = new Set<string>();
  const revoked = new Set<string>();
  const invited = new Set<string>();
  for (const a of input.plan.actions) {
    if (a.kind === 'invite') invited.add(a.email);
    else if (a.inviteId !== undefined) (a.kind === 'revoke' ? revoked : touched).add(a.inviteId);
  }
  /** per email: still pending after the plan, expiring soon, the oldest untouched inviteDate */
  const byEmail = new Map<string, { left: boolean; expiring: boolean; refreshed: boolean; oldest: number }>();
  for (const inv of input.pending) {
    let e = byEmail.get(inv.email);
    if (e === undefined) byEmail.set(inv.email, (e = { left: false, expiring: false, refreshed: false, oldest: Infinity }));
    if (revoked.has(inv.id)) continue;
    e.left = true;
    if (touched.has(inv.id)) {
      e.refreshed = true;
      continue;
    }
    if (!inv.hasExpired && inv.ttl !== undefined && inv.ttl <= windowMs) e.expiring = true;
    const at = Date.parse(inv.inviteDate);
    if (!Number.isNaN(at) && at < e.oldest) e.oldest = at;
  }
  let pending = 0;
  let expiring = 0;
  byEmail.forEach((e, email) => {
    if (e.left || invited.has(email)) pending++;
    if (e.expiring && !e.refreshed) expiring++;
  });
  for (const email of invited) if (!byEmail.has(email)) pending++;

  let waiting = 0;
  // whoever made the invite: a desired person on a hand-made invite (notOurs) waits just the same
  for (const email of [...input.skippedPeople.alreadyPending, ...input.skippedPeople.renewalsExhausted, ...input.skippedPeople.notOurs]) {
    const e = byEmail.get(email);
    if (e !== undefined && !e.refreshed && input.now - e.oldest > windowMs) waiting++;
  }
  return {
    members: input.plan.members - input.plan.actions.filter((a) => a.kind === 'remove').length,
    pending,
    expiringWithin7Days: expiring,
    renewalsExhausted: input.plan.skipped.renewalsExhausted,
    waitingOver7Days: waiting,
  };
}
