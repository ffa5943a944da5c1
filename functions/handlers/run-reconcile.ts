// queue handler / serve's queue worker --> reconcileAndRecord --> runSync --> metrics + correlated log lines + Sync Run Completed events
import type { RunRecord } from '../sync/ports.ts';
import type { RunReport } from '../sync/types.ts';
import { newRunId, runSync, type RunSyncOptions } from '../sync/reconcile.ts';
import type { Container } from '../runtime/composition-root.ts';
import { recordRunMetrics } from '../runtime/metrics.ts';
import { runCompletedDetails } from '../sync/run-events.ts';

export type ReconcileDeps = Pick<Container, 'api' | 'store' | 'clock' | 'log' | 'metrics' | 'config'> & Partial<Pick<Container, 'stage' | 'runEvents'>>;

export interface ReconcileRunOptions {
  targetNames: string[];
  trigger: RunRecord['trigger'];
  /** epoch ms */
  deadline: number;
  /** epoch ms before `deadline`: no action starts after it (runSync's startActionsBy) */
  startActionsBy?: number;
  /** the chain this run continues (trigger `continuation`) */
  continuation?: RunSyncOptions['continuation'];
  waitForLeaseMs?: number;
}

/**
 * Reconciles the named targets in the config's mode, with `runId` on every log line, emits the
 * run metrics (InvitesSent, InvitesRenewed, InvitesFailed, RunsBlocked, DriftRemaining, RunDurationMs;
 * one record per target) and, with `runEvents`, one `Sync Run Completed` event per target that was
 * blocked, failed, stopped early or changed anything (a failed put is logged, never thrown).
 * @example const report = await reconcileAndRecord(container, { targetNames: ['eng'], trigger: 'queue', deadline })
 */
export async function reconcileAndRecord(deps: ReconcileDeps, opts: ReconcileRunOptions): Promise<RunReport> {
  const started = deps.clock.now();
  const runId = newRunId(started);
  deps.log.appendKeys({ runId });
  try {
    const report = await runSync(deps, deps.config, {
      mode: deps.config.mode,
      trigger: opts.trigger,
      deadline: opts.deadline,
      targetNames: opts.targetNames,
      runId,
      ...(opts.waitForLeaseMs !== undefined ? { waitForLeaseMs: opts.waitForLeaseMs } : {}),
      ...(opts.startActionsBy !== undefined ? { startActionsBy: opts.startActionsBy } : {}),
      ...(opts.continuation ? { continuation: opts.continuation } : {}),
    });
    const metrics = recordRunMetrics(deps.metrics, report, deps.clock.now() - started);
    deps.log.info('reconcile finished', {
      mode: report.mode,
      complete: report.complete,
      targets: report.targets.map((t) => ({ name: t.name, complete: t.complete, blocked: t.blocked, error: t.error?.code })),
      ...metrics,
    });
    if (deps.runEvents) {
      const details = runCompletedDetails(report, { stage: deps.stage ?? 'local', trigger: opts.trigger, approveCommand: deps.runEvents.approveCommand });
      if (details.length) await deps.runEvents.notifier.runCompleted(details);
    }
    return report;
  } finally {
    deps.log.removeKeys(['runId']);
  }
}
