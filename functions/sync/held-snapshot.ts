// ingest (empty, stale, or too-big-a-change snapshot) --> holdSnapshot --> PeopleStore (its people as held parts) + RunStore (BLOCKED#<source> + a blocked run record)
// approve --run --> releaseHeldSnapshot --> PeopleStore.replaceSource (with the snapshot's own occurredAt) + dirty marks + queue
import type { Clock, Log, ReconcileQueue, ReplaceSourceResult, RunRecord, StateStore } from './ports.ts';
import type { BlockCode, Person, Target, TargetRef } from './types.ts';
import { newRunId, RUN_TTL_SECONDS } from './reconcile.ts';
import { emptyTargetReport } from './target-report.ts';

export interface HeldSnapshotDeps {
  store: StateStore;
  clock: Clock;
  log: Log;
}

/** How long a held snapshot's people are kept (as long as its `BLOCKED#<source>` item: 30 days). */
export const HELD_SNAPSHOT_TTL_SECONDS = 30 * 24 * 3600;
/** People per stored part of a held snapshot (a part is one item; big ones are gzipped). */
const HELD_PART_SIZE = 2000;
/** Where a held snapshot's people are kept: snapshot parts under this id (`SNAPSHOT#<source>#held~<snapshotId>`). */
export const heldPartsId = (snapshotId: string): string => `held~${snapshotId}`;

const HOLD_WHY: Record<string, string> = {
  emptySnapshot: 'empty snapshot held back',
  staleSnapshot: 'stale snapshot held back (older than limits.maxSnapshotAgeHours, or of unknown age)',
  sourceChangeFraction: "snapshot held back: it changes more than sources.<name>.maxChangeFraction of the source's people",
};

/** A snapshot to hold back before storage. */
export interface SnapshotToHold {
  source: string;
  snapshotId: string;
  occurredAt: string;
  eventId: string;
  /** its people ([] for an empty snapshot): kept until approved or expired */
  people?: readonly Person[];
}

/**
 * Holds a snapshot back before storage: keeps its people (snapshot parts under `heldPartsId`, 30 days),
 * records it as `BLOCKED#<source>` with a run id, its occurredAt and `code`, and a run record whose
 * every target is blocked `code` (`held` names the snapshot), so `approve --run <id>` can release it.
 * @returns the run record (callers count it in `RunsBlocked`)
 * @example const run = await holdSnapshot(deps, { source, snapshotId, occurredAt, eventId, people }, 'staleSnapshot', targets, 'webhook')
 */
export async function holdSnapshot(
  deps: HeldSnapshotDeps,
  snapshot: SnapshotToHold,
  code: BlockCode,
  targets: readonly Target[],
  trigger: RunRecord['trigger'],
  runId: string = newRunId(deps.clock.now()),
): Promise<RunRecord> {
  const at = new Date(deps.clock.now()).toISOString();
  const { source, snapshotId } = snapshot;
  const people = snapshot.people ?? [];
  if (people.length) {
    const parts = Math.ceil(people.length / HELD_PART_SIZE);
    for (let i = 0; i < parts; i += 1) {
      await deps.store.putSnapshotPart(source, heldPartsId(snapshotId), i + 1, parts, people.slice(i * HELD_PART_SIZE, (i + 1) * HELD_PART_SIZE), HELD_SNAPSHOT_TTL_SECONDS);
    }
  }
  const count = people.length ? { people: people.length } : {};
  await deps.store.putBlockedSnapshot?.(source, snapshotId, code, { runId, occurredAt: snapshot.occurredAt, eventId: snapshot.eventId, ...count });
  const run: RunRecord = {
    mode: 'apply',
    runId,
    complete: false,
    targets: targets.map((t) => emptyTargetReport(t, code)),
    trigger,
    startedAt: at,
    finishedAt: at,
    held: { source, snapshotId, code, occurredAt: snapshot.occurredAt, ...count },
  };
  await deps.store.putRun(run, RUN_TTL_SECONDS);
  deps.log.warn(`${HOLD_WHY[code] ?? 'snapshot held back'}; approve --run releases it`, { source, runId, code, eventId: snapshot.eventId, occurredAt: snapshot.occurredAt, people: people.length });
  return run;
}

/**
 * Holds an empty snapshot back before storage (brake `emptySnapshot`): `holdSnapshot` with no people.
 * @example const run = await holdEmptySnapshot(deps, { source, snapshotId, occurredAt, eventId }, targets, 'webhook')
 */
export async function holdEmptySnapshot(
  deps: HeldSnapshotDeps,
  snapshot: { source: string; snapshotId: string; occurredAt: string; eventId: string },
  targets: readonly Target[],
  trigger: RunRecord['trigger'],
  runId: string = newRunId(deps.clock.now()),
): Promise<RunRecord> {
  return holdSnapshot(deps, { ...snapshot, people: [] }, 'emptySnapshot', targets, trigger, runId);
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
  /** why it was held */
  code: BlockCode;
  /** the people it stored */
  people: number;
  /** names of the run's targets, marked dirty (and queued when a queue is given) */
  touched: string[];
  replaced: ReplaceSourceResult;
}

/**
 * Stores the snapshot a blocked run holds (its kept people; none for an empty one), with the snapshot's own occurredAt (a newer event
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
  const people = held.people ? await deps.store.readSnapshot(source, heldPartsId(snapshotId)) : [];
  const replaced = await deps.store.replaceSource(source, people, occurredAt);
  if (held.people) await deps.store.deleteSnapshot(source, heldPartsId(snapshotId));
  const refs: (TargetRef & { name: string })[] = run.targets.map((t) => ({ name: t.name, instanceId: t.instanceId, orgId: t.orgId }));
  await deps.store.markDirty(refs);
  const touched = refs.map((t) => t.name);
  if (queue && touched.length) await queue.enqueue(touched, `approve ${run.runId}`);
  deps.log.info('held snapshot released', { source, runId: run.runId, code: held.code, people: people.length, upserted: replaced.upserted, left: replaced.left });
  return { source, snapshotId, occurredAt, code: held.code, people: people.length, touched, replaced };
}
