// reconcile --> recentChanges (RunStore.listRuns) --> the changes a target's recent runs made, for the brakes (brakes.ts)
import type { RunStore } from './ports.ts';

/** Most run records read to add up one window (newest first); older runs beyond it are not counted. */
export const WINDOW_RUNS_READ = 200;

/**
 * Changes (invites, renewals, role fixes, revocations, removals) done in `target` by runs that started
 * in the `windowMinutes` before `now`, the run `exceptRunId` left out. One-person runs (SCIM, webhook
 * events) each pass the per-run brakes; added up over the window they meet them.
 * @example const recent = await recentChanges(store, 'eng', Date.now(), 60, runId)
 */
export async function recentChanges(store: Pick<RunStore, 'listRuns'>, target: string, now: number, windowMinutes: number, exceptRunId?: string): Promise<number> {
  if (windowMinutes <= 0) return 0;
  const since = now - windowMinutes * 60_000;
  const runs = await store.listRuns({ limit: WINDOW_RUNS_READ, target });
  let changes = 0;
  for (const run of runs) {
    if (run.runId === exceptRunId || run.mode !== 'apply' || Date.parse(run.startedAt) < since) continue;
    const report = run.targets.find((t) => t.name === target);
    if (report) for (const n of Object.values(report.done)) changes += n;
  }
  return changes;
}
