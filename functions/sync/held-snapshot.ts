// ingest (empty snapshot) --> holdEmptySnapshot --> RunStore (BLOCKED#<source> item + a blocked run record)
// approve --run --> releaseHeldSnapshot --> PeopleStore.replaceSource (with the snapshot's own occurredAt) + dirty marks + queue
import type { Clock, Log, ReconcileQueue, ReplaceSourceResult, RunRecord, StateStore } from './ports.ts';
import type { Target, TargetRef } from './types.ts';
import { emptyTargetReport, newRunId, RUN_TTL_SECONDS } from './reconcile.ts';

export interface HeldSnapshotDeps {
  store: StateStore;
  clock: Clock;
  log: Log;
}

/**
 * Holds an empty snapshot back before storage (brake `emptySnapshot`): records it as `BLOCKED#<source>`
 * with a run id and its occurredAt, and a run record whose every target is blocked `emptySnapshot`
 * (`held` names the snapshot), so `approve --run <id>` can release it.
 * @returns the run record (callers count it in `RunsBlocked`)
 * @example const run = await holdEmptySnapshot(deps, { source, snapshotId, occurredAt, eventId }, targets, 'webhook')
 */
export async function holdEmptySnapshot(
  deps: HeldSnapshotDeps,
  snapshot: { source: string; snapshotId: string; occurredAt: string; eventId: string },
  targets: readonly Target[],
  trigger: RunRecord['trigger'],
  runId: string = newRunId(deps.clock.now()),
): Promise<RunRecord> {
  const at = new Date(deps.clock.now()).toISOString();
  const { source, snapshotId } = snapshot;
  await deps.store.putBlockedSnapshot?.(source, snapshotId, 'emptySnapshot', { runId, occurredAt: snapshot.occurredAt, eventId: snapshot.eventId });
  const run: RunRecord = {
    mode: 'apply',
    runId,
    complete: false,
    targets: targets.map((t) => emptyTargetReport(t, 'emptySnapshot')),
    trigger,
    startedAt: at,
    finishedAt: at,
    held: { source, snapshotId },
  };
  await deps.store.putRun(run, RUN_TTL_SECONDS);
  deps.log.warn('empty snapshot held back; approve --run releases it', { source, runId, eventId: snapshot.eventId });
  return run;
}

/** `approve --run` found nothing to release: the run holds no snapshot, or it was released or has expired. */
export class NothingHeldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NothingHeldError';
  }
}

export interface ReleasedSnapshot {
  source: string;
  snapshotId: string;
  occurredAt: string;
  /** names of the run's targets, marked dirty (and queued when a queue is given) */
  touched: string[];
  replaced: ReplaceSourceResult;
}

/**
 * Stores the empty snapshot a blocked run holds, with the snapshot's own occurredAt (a newer event
 * stays newer), marks the run's targets dirty and queues them when a queue is given. Once per held
 * snapshot (the BLOCKED item is taken conditionally). Returns null for a run that holds no snapshot.
 * Throws NothingHeldError when the snapshot was already released or has expired (30 days).
 * @example const released = await releaseHeldSnapshot(deps, runId, queue)
 */
export async function releaseHeldSnapshot(deps: HeldSnapshotDeps, run: RunRecord, queue?: ReconcileQueue): Promise<ReleasedSnapshot | null> {
  if (!run.held) return null;
  const { source, snapshotId } = run.held;
  const held = await deps.store.takeBlockedSnapshot?.(source, snapshotId);
  if (!held) throw new NothingHeldError(`run ${run.runId}: the snapshot of source ${source} it held was already released or has expired`);
  const occurredAt = held.occurredAt ?? run.startedAt;
  const replaced = await deps.store.replaceSource(source, [], occurredAt);
  const refs: (TargetRef & { name: string })[] = run.targets.map((t) => ({ name: t.name, instanceId: t.instanceId, orgId: t.orgId }));
  await deps.store.markDirty(refs);
  const touched = refs.map((t) => t.name);
  if (queue && touched.length) await queue.enqueue(touched, `approve ${run.runId}`);
  deps.log.info('held snapshot released', { source, runId: run.runId, left: replaced.left });
  return { source, snapshotId, occurredAt, touched, replaced };
}
