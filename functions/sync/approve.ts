// CLI approve --> approveRun --> RunStore (the run's blocked targets get an approval bound to their plan hash) + ReconcileQueue
import type { ReconcileQueue, RunRecord, StateStore } from './ports.ts';

export interface ApproveRunOptions {
  /** who approved (the caller's ARN), stored with each approval when known */
  approvedBy?: string;
  /** when given, the approved targets are queued at once (reason `approve <runId>`) instead of waiting for the schedule */
  queue?: ReconcileQueue;
}

/**
 * Records an approval for every blocked target of a run, bound to that run's plan hash:
 * the next run of the same plan proceeds. With `opts.queue` the approved targets are enqueued
 * after every approval is stored; a failed enqueue leaves the approvals in place and is returned as
 * `queueError` (the targets then reconcile on the next schedule).
 * @returns the names of the targets approved, and of those queued
 * @example await approveRun(store, 'r-1', { approvedBy: 'arn:aws:sts::123456789012:assumed-role/ops/me', queue })
 */
export async function approveRun(store: StateStore, runId: string, opts: ApproveRunOptions = {}): Promise<{ approved: string[]; queued: string[]; queueError?: Error; run: RunRecord }> {
  const run = await store.getRun(runId);
  if (!run) throw new RunNotFoundError(`no run ${runId} in the state store`);
  const approved: string[] = [];
  for (const t of run.targets) {
    if (!t.blocked || !t.planHash) continue;
    await store.putApproval({ instanceId: t.instanceId, orgId: t.orgId }, t.planHash, runId, opts.approvedBy);
    approved.push(t.name);
  }
  if (!opts.queue || approved.length === 0) return { approved, queued: [], run };
  try {
    await opts.queue.enqueue(approved, `approve ${runId}`);
    return { approved, queued: approved, run };
  } catch (err) {
    return { approved, queued: [], queueError: err instanceof Error ? err : new Error(String(err)), run };
  }
}

export class RunNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunNotFoundError';
  }
}
