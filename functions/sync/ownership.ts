// reconcile --> loadRunEnds (run records, the target's lease) --> RunEnds --> ledger.ts intentStatus / claimedInvite
//
// How long after a run its invites may still appear, and when that run ended. An intent written by a
// run proves nothing by itself (the POST may never have happened); what it may claim is bounded by
// these times (see README "Ownership").
import type { LeaseStore, RunStore } from './ports.ts';
import type { LedgerEntry, TargetRef } from './types.ts';

/** The Losant client's timeout for one request (functions/losant/transport.ts uses it as its default). */
export const LOSANT_REQUEST_TIMEOUT_MS = 10_000;

/**
 * How long after a run's end an invite it POSTed may still show up in Losant's list: a request in
 * flight when the run stopped, and one more attempt, each up to the request timeout, plus 60 s
 * (2 × 10 s + 60 s = 80 s today). Within it an intent's email is neither POSTed again nor adopted.
 */
export const SETTLE_SECONDS = (2 * LOSANT_REQUEST_TIMEOUT_MS) / 1000 + 60;
export const SETTLE_MS = SETTLE_SECONDS * 1000;

/** Clock skew allowed between us and Losant: an intent claims invites dated from 60 s before it was written. */
export const CLOCK_SKEW_MS = 60_000;

/** An intent whose run ended more than SETTLE_SECONDS + 7 days ago is abandoned: it claims nothing, exempts nothing. */
export const ABANDON_AFTER_MS = 7 * 24 * 3600 * 1000;

/** When each run that wrote an intent ended (epoch ms), by runId. */
export type RunEnds = ReadonlyMap<string, number>;

/**
 * The run id a lease owner belongs to: reconcile makes every owner `<runId>:<suffix>` (today's and
 * the landed version's owners alike), so the part before the first `:`.
 * @example runIdOfOwner('r-20300101T000000-1a2b3c4d:9f8e7d6c') // 'r-20300101T000000-1a2b3c4d'
 */
export function runIdOfOwner(owner: string): string {
  const at = owner.indexOf(':');
  return at < 0 ? owner : owner.slice(0, at);
}

/**
 * The lease owner a run uses: `owner` when it already starts with `<runId>:` (runSync's default),
 * else `<runId>:<owner>`, so runIdOfOwner finds the run of every lease.
 */
export function leaseOwnerFor(runId: string, owner: string): string {
  return owner.startsWith(`${runId}:`) ? owner : `${runId}:${owner}`;
}

/**
 * A run's end: its run record's `finishedAt`; else its lease's last renewal + leaseSeconds (the
 * expiry of the lease it holds, or held when another run took the lease over); else the newest of
 * its intents + leaseSeconds (nothing else is known: its record and lease are gone).
 * @example runEndOf(entry, ends, 120_000)
 */
export function runEndOf(entry: Pick<LedgerEntry, 'runId' | 'updatedAt'>, ends: RunEnds | undefined, leaseMs: number): number {
  return ends?.get(entry.runId) ?? Date.parse(entry.updatedAt) + leaseMs;
}

/**
 * The ends of the runs behind the target's intents (none: an empty map, and no read at all).
 * Reads each run's record and the target's lease history; a run neither of them knows falls to
 * the newest of its intents + leaseSeconds.
 * @example const ends = await loadRunEnds(store, target, [...ledger.values()], config.leaseSeconds)
 */
export async function loadRunEnds(
  store: Pick<RunStore, 'getRun'> & Pick<LeaseStore, 'leaseEnds'>,
  target: TargetRef,
  ledger: Iterable<LedgerEntry>,
  leaseSeconds: number,
): Promise<Map<string, number>> {
  const newestIntent = new Map<string, number>();
  for (const e of ledger) {
    if (e.state !== 'intent') continue;
    const at = Date.parse(e.updatedAt);
    newestIntent.set(e.runId, Math.max(newestIntent.get(e.runId) ?? -Infinity, Number.isNaN(at) ? -Infinity : at));
  }
  const ends = new Map<string, number>();
  if (newestIntent.size === 0) return ends;
  const lease = await store.leaseEnds(target);
  const leaseEnd = new Map<string, number>();
  for (const ended of lease.ended) leaseEnd.set(runIdOfOwner(ended.owner), Math.max(leaseEnd.get(runIdOfOwner(ended.owner)) ?? -Infinity, ended.endedAt));
  if (lease.holder) leaseEnd.set(runIdOfOwner(lease.holder.owner), Math.max(leaseEnd.get(runIdOfOwner(lease.holder.owner)) ?? -Infinity, lease.holder.expiresAt));
  for (const [runId, newest] of newestIntent) {
    const record = await store.getRun(runId);
    const finished = record?.finishedAt === undefined ? NaN : Date.parse(record.finishedAt);
    ends.set(runId, !Number.isNaN(finished) ? finished : (leaseEnd.get(runId) ?? newest + leaseSeconds * 1000));
  }
  return ends;
}
