// reconcileTarget --> takeLease --> LeaseStore (acquire; a gone local holder is replaced at once; busy names the holder)
import type { Clock, Lease, LeaseHolder, LeaseState, LeaseStore, Log } from './ports.ts';
import type { Target } from './types.ts';
import { LeaseBusyError, RunInterruptedError } from './errors.ts';

export interface TakeLeaseDeps {
  store: Pick<LeaseStore, 'acquireLease' | 'readLease'>;
  clock: Clock;
  log: Log;
  sleep: (ms: number) => Promise<void>;
  /** who is taking the lease (recorded with it) */
  holder?: LeaseHolder;
  /** true when `holder` was a process on this host that is gone (no process with that pid and start time) */
  holderGone?: (holder: LeaseHolder) => boolean;
}

export interface TakeLeaseOptions {
  owner: string;
  leaseSeconds: number;
  /** how long to wait for a busy lease (0: give up at once) */
  waitMs: number;
  /** aborted: stop waiting (the run was asked to stop) */
  stop?: AbortSignal;
}

/**
 * Takes the target's lease: free, expired, ours, or held by a process that is gone (taken over at once).
 * Waits up to `waitMs` for a live holder, then throws `LeaseBusyError` naming the holder and the expiry.
 * @example const lease = await takeLease(deps, target, { owner, leaseSeconds: 60, waitMs: 0 })
 */
export async function takeLease(deps: TakeLeaseDeps, target: Target, opts: TakeLeaseOptions): Promise<Lease> {
  const waitUntil = deps.clock.now() + opts.waitMs;
  const extra = deps.holder ? { holder: deps.holder } : {};
  const triedToReplace = new Set<string>();
  for (;;) {
    const lease = await deps.store.acquireLease(target, opts.owner, opts.leaseSeconds, extra);
    if (lease) return lease;
    const current = await deps.store.readLease(target);
    if (current?.holder && !triedToReplace.has(current.owner) && deps.holderGone?.(current.holder)) {
      triedToReplace.add(current.owner);
      const taken = await deps.store.acquireLease(target, opts.owner, opts.leaseSeconds, { ...extra, replacing: current.owner });
      if (taken) {
        deps.log.warn('took over the lease of a process that is gone', { target: target.name, pid: current.holder.pid, host: current.holder.host });
        return taken;
      }
      continue;
    }
    if (opts.stop?.aborted) throw new RunInterruptedError(`target ${target.name}: stopped while waiting for the lease`);
    if (deps.clock.now() >= waitUntil) throw new LeaseBusyError(busyMessage(target.name, current, deps.clock.now()));
    await deps.sleep(Math.min(1000, Math.max(50, waitUntil - deps.clock.now())));
  }
}

/**
 * `target eng: another run holds the lease (pid 4242 on host build-7, owner r-…) until 2025-…Z (in 42 s)`
 * @example busyMessage('eng', await store.readLease(target), Date.now())
 */
export function busyMessage(name: string, lease: LeaseState | null, now: number): string {
  if (!lease) return `target ${name}: another run holds the lease`;
  const who = lease.holder ? `pid ${lease.holder.pid} on host ${lease.holder.host}, owner ${lease.owner}` : `owner ${lease.owner}, holder not recorded`;
  const left = Math.max(0, Math.ceil((lease.expiresAt - now) / 1000));
  return `target ${name}: another run holds the lease (${who}) until ${new Date(lease.expiresAt).toISOString()} (in ${left} s)`;
}
