// run report --> recordRunMetrics --> MetricsSink (Powertools Metrics: EMF on stdout; serve: a log line)
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Log } from '../sync/ports.ts';
import type { RunReport } from '../sync/types.ts';

/** What the handlers need of a metrics backend (Powertools Metrics satisfies it). */
export interface MetricsSink {
  addMetric(name: string, unit: typeof MetricUnit.Count | typeof MetricUnit.Milliseconds, value: number): unknown;
  /** adds one dimension set, the default dimensions plus these, up to the next publish (`{}`: the defaults alone) */
  addDimensions?(dimensions: Record<string, string>): unknown;
  publishStoredMetrics(): void;
}

import { RUN_METRICS, SEATS_FREE, type RunMetricName } from './metric-names.ts';

// the names live in metric-names.ts, shared with the CDK dashboard and alarms
export { RUN_METRICS, type RunMetricName };

/** Sums a run's target reports into the run metrics. */
export function runMetricValues(report: RunReport, durationMs: number): Record<RunMetricName, number> {
  const v = { InvitesSent: 0, InvitesRenewed: 0, InvitesFailed: 0, InvitesAmbiguous: 0, InvitesNoSeat: 0, RunsBlocked: 0, DriftRemaining: 0, RunDurationMs: Math.max(0, Math.round(durationMs)), MembersRemoved: 0 };
  for (const t of report.targets) {
    v.InvitesSent += t.done.invite;
    v.InvitesRenewed += t.done.renew;
    v.MembersRemoved += t.done.remove;
    const ambiguous = (t.failures ?? []).filter((f) => f.reason === 'ambiguous').length;
    v.InvitesFailed += Math.max(0, t.failed - ambiguous);
    v.InvitesAmbiguous += ambiguous;
    v.InvitesNoSeat += t.skipped.noSeat ?? 0;
    if (t.blocked) v.RunsBlocked += 1;
    const planned = t.planned.invite + t.planned.renew + t.planned.fixRole + t.planned.revoke + t.planned.remove;
    const done = t.done.invite + t.done.renew + t.done.fixRole + t.done.revoke + t.done.remove;
    v.DriftRemaining += Math.max(0, planned - done);
  }
  return v;
}

/** One target's share of the run metrics (RunDurationMs is the whole run's). */
function targetMetricValues(report: RunReport, index: number, durationMs: number): Record<RunMetricName, number> {
  return runMetricValues({ ...report, targets: [report.targets[index]!] }, durationMs);
}

/**
 * Emits one reconcile's metrics and flushes them: one EMF record per target, in the dimension sets
 * `[service, stage]` (the default dimensions) and `[service, stage, target]`, so the stage's alarms
 * sum every target and the dashboard can split them; a run without targets publishes one record
 * in `[service, stage]` alone. Returns the sums over the run.
 * @example recordRunMetrics(metrics, report, Date.now() - started)
 */
export function recordRunMetrics(metrics: MetricsSink, report: RunReport, durationMs: number): Record<RunMetricName, number> {
  const publish = (values: Record<RunMetricName, number>, target?: string, seatsFree?: number): void => {
    if (target !== undefined) {
      // both sets, explicitly: Powertools drops the default-only set once another set is added
      metrics.addDimensions?.({});
      metrics.addDimensions?.({ target });
    }
    for (const name of RUN_METRICS) {
      metrics.addMetric(name, name === 'RunDurationMs' ? MetricUnit.Milliseconds : MetricUnit.Count, values[name]);
    }
    // only a target whose org has a member limit has free seats to speak of
    if (seatsFree !== undefined) metrics.addMetric(SEATS_FREE, MetricUnit.Count, seatsFree);
    metrics.publishStoredMetrics();
  };
  const values = runMetricValues(report, durationMs);
  if (report.targets.length === 0) publish(values);
  report.targets.forEach((t, i) => publish(targetMetricValues(report, i, durationMs), t.name, t.seats?.free));
  return values;
}

/**
 * The Lambda's metrics: Powertools EMF, namespace InviteSync, default dimensions `service` and
 * `stage` (the stage's alarms match exactly `[service, stage]`, so stages sharing an account never
 * fire each other's alarms); run metrics add `[service, stage, target]`. Without `stage` (tests,
 * other hosts) the sets are `[service]` and `[service, target]`.
 */
export function createLambdaMetrics(opts: { namespace: string; serviceName: string; stage?: string }): Metrics {
  return new Metrics({ namespace: opts.namespace, serviceName: opts.serviceName, ...(opts.stage ? { defaultDimensions: { stage: opts.stage } } : {}) });
}

/** Metrics for `serve`: each flush becomes one info line (`metrics target=eng InvitesSent=1 …`). */
export function createLogMetrics(log: Log): MetricsSink {
  let stored: Record<string, number> = {};
  let dimensions: Record<string, string> = {};
  return {
    addMetric(name, _unit, value) {
      stored[name] = (stored[name] ?? 0) + value;
    },
    addDimensions(d) {
      dimensions = { ...dimensions, ...d };
    },
    publishStoredMetrics() {
      if (Object.keys(stored).length) log.info('metrics', { ...dimensions, ...stored });
      stored = {};
      dimensions = {};
    },
  };
}
