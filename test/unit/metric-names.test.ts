// unit: one list of metric names for the handlers and the CDK (functions/runtime/metric-names.ts)
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, METRICS_NAMESPACE, RUN_METRICS, SERVICE_NAME } from '../../functions/runtime/metric-names.ts';
import { recordRunMetrics, type MetricsSink } from '../../functions/runtime/metrics.ts';
import * as monitoring from '../../lib/constructs/monitoring.ts';
import { parseLambdaEnv } from '../../functions/runtime/env.schema.ts';

describe('Function: recordRunMetrics', () => {
  it('returns only names the CDK dashboard and alarms know', () => {
    // Arrange
    const names: string[] = [];
    const sink: MetricsSink = { addMetric: (name) => names.push(name), publishStoredMetrics: () => undefined };

    // Act
    recordRunMetrics(sink, { mode: 'apply', runId: 'r', complete: true, targets: [] }, 5);

    // Assess
    expect(names).toEqual([...RUN_METRICS]);
    expect(names.every((n) => (monitoring.METRIC_NAMES as readonly string[]).includes(n))).toBe(true);
  });
});

describe('Function: METRIC_NAMES', () => {
  it('returns the same list, namespace and service in the runtime, the CDK and the Lambda environment defaults', () => {
    // Act
    const env = parseLambdaEnv({ STAGE: 'dev', STATE_TABLE: 't', RECONCILE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q', LOSANT_TOKEN_SECRET_ARN: 'arn:x', WEBHOOK_SECRET_ARN: 'arn:y' });

    // Assess
    expect(monitoring.METRIC_NAMES).toBe(METRIC_NAMES);
    expect([monitoring.METRICS_NAMESPACE, monitoring.SERVICE_NAME]).toEqual([METRICS_NAMESPACE, SERVICE_NAME]);
    expect([env.POWERTOOLS_METRICS_NAMESPACE, env.POWERTOOLS_SERVICE_NAME]).toEqual([METRICS_NAMESPACE, SERVICE_NAME]);
    expect(METRIC_NAMES).toContain('ReconcileQueueFailures');
    expect(METRIC_NAMES).toContain('RunsContinued');
    expect(METRIC_NAMES).toEqual(expect.arrayContaining(['DropsRejected', 'DropsFailed']));
    expect(monitoring.ALARMED_METRICS.map((a) => a.metric)).toContain('DropsFailed');
  });
});
