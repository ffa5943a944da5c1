// run report --> recordRunMetrics --> MetricsSink (Powertools Metrics: EMF on stdout; serve: a log line)
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Log } from '../sync/ports.ts';
import type { RunReport } from '../sync/types.ts';

/** What the handlers need of a metrics backend (Powertools Metrics satisfies it). */
export interface MetricsSink {
  addMetric(name: string, unit: typeof MetricUnit.Count | typeof MetricUnit.Milliseconds, value: number): unknown;
  publishStoredMetrics(): void;
}

import { RUN_METRICS, type RunMetricName } from './metric-names.ts';

// the names live in metric-names.ts, shared with the CDK dashboard and alarms
export { RUN_METRICS, type RunMetricName };

/** Sums a run's target reports into the run metrics. */
export function runMetricValues(report: RunReport, durationMs: number): Record<RunMetricName, number> {
  const v = { InvitesSent: 0, InvitesRenewed: 0, InvitesFailed: 0, RunsBlocked: 0, DriftRemaining: 0, RunDurationMs: Math.max(0, Math.round(durationMs)) };
  for (const t of report.targets) {
    v.InvitesSent += t.done.invite;
    v.InvitesRenewed += t.done.renew;
    v.InvitesFailed += t.failed;
    if (t.blocked) v.RunsBlocked += 1;
    const planned = t.planned.invite + t.planned.renew + t.planned.fixRole + t.planned.revoke;
    const done = t.done.invite + t.done.renew + t.done.fixRole + t.done.revoke;
    v.DriftRemaining += Math.max(0, planned - done);
  }
  return v;
}

/**
 * Emits one reconcile's metrics and flushes them (one EMF record per run).
 * @example recordRunMetrics(metrics, report, Date.now() - started)
 */
export function recordRunMetrics(metrics: MetricsSink, report: RunReport, durationMs: number): Record<RunMetricName, number> {
  const values = runMetricValues(report, durationMs);
  for (const name of RUN_METRICS) {
    metrics.addMetric(name, name === 'RunDurationMs' ? MetricUnit.Milliseconds : MetricUnit.Count, values[name]);
  }
  metrics.publishStoredMetrics();
  return values;
}

/**
 * The Lambda's metrics: Powertools EMF, namespace InviteSync, dimension `service` only
 * (the alarms match exactly that dimension set).
 */
export function createLambdaMetrics(opts: { namespace: string; serviceName: string }): Metrics {
  return new Metrics({ namespace: opts.namespace, serviceName: opts.serviceName });
}

/** Metrics for `serve`: each flush becomes one info line (`metrics InvitesSent=1 …`). */
export function createLogMetrics(log: Log): MetricsSink {
  let stored: Record<string, number> = {};
  return {
    addMetric(name, _unit, value) {
      stored[name] = (stored[name] ?? 0) + value;
    },
    publishStoredMetrics() {
      if (Object.keys(stored).length) log.info('metrics', stored);
      stored = {};
    },
  };
}
