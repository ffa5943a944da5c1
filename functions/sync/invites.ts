// planner / reconcile / Losant client --> newestInvite --> the one invite that counts for an email
import type { PendingInvite } from './types.ts';

/** What the newest-invite rule looks at: the invite's id and its `inviteDate`. */
export type DatedInvite = Pick<PendingInvite, 'id' | 'inviteDate'>;

/**
 * True when invite `a` is newer than `b`: the later parsed `inviteDate` wins; a date that parses
 * beats one that does not; equal instants (or two unparseable dates) fall to the greater id. The
 * answer never depends on list order, and `isNewerInvite(a, b)` and `isNewerInvite(b, a)` are
 * never both true.
 * @example isNewerInvite({ id: 'b', inviteDate: '2024-05-01T00:00:00Z' }, { id: 'a', inviteDate: '2024-05-01T00:00:00.000Z' }) // true (same instant, greater id)
 */
export function isNewerInvite(a: DatedInvite, b: DatedInvite): boolean {
  if (a.inviteDate !== b.inviteDate) {
    const ta = Date.parse(a.inviteDate);
    const tb = Date.parse(b.inviteDate);
    const badA = Number.isNaN(ta);
    const badB = Number.isNaN(tb);
    if (badA !== badB) return badB;
    if (!badA && ta !== tb) return ta > tb;
  }
  return a.id > b.id;
}

/**
 * The newest of some invites (see isNewerInvite); undefined for none.
 * @example newestInvite(pending.filter((i) => i.email === email))?.id
 */
export function newestInvite<T extends DatedInvite>(invites: Iterable<T>): T | undefined {
  let best: T | undefined;
  for (const inv of invites) if (best === undefined || isNewerInvite(inv, best)) best = inv;
  return best;
}

/**
 * The newest invite of each email (see isNewerInvite). Emails are compared as given (adapters
 * normalise them).
 * @example newestInviteByEmail(pending).get('jane@example.com')?.id
 */
export function newestInviteByEmail<T extends DatedInvite & { email: string }>(invites: Iterable<T>): Map<string, T> {
  const newest = new Map<string, T>();
  for (const inv of invites) {
    const prev = newest.get(inv.email);
    if (prev === undefined || isNewerInvite(inv, prev)) newest.set(inv.email, inv);
  }
  return newest;
}
