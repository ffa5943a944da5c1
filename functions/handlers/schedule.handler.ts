// EventBridge schedule rule (Scheduled Event) --> handleSchedule --> ReconcileQueue (every target) + the source watch (SourceSilent)
import type { ScheduledEvent } from 'aws-lambda';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';
import type { Container } from '../runtime/composition-root.ts';
import { getReconcileContainer } from '../runtime/reconcile-container.ts';
import { EventShapeError } from './errors.ts';
import { sourceHealth, type SourceHealth } from '../sync/source-health.ts';
import { SOURCE_SILENT } from '../runtime/metric-names.ts';

export type ScheduleDeps = Pick<Container, 'config' | 'queue' | 'log'> & Partial<Pick<Container, 'store' | 'clock' | 'metrics'>>;

export const ScheduledEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});

/**
 * The periodic re-check: one queue message per target, so each is reconciled by its own
 * SQS-triggered invocation (partial batch failures, DLQ). A queueing failure throws: Lambda's
 * async retries fire the schedule again.
 * @example await handleSchedule(scheduledEvent, container) // { queued: 3 }
 */
export async function handleSchedule(event: ScheduledEvent, deps: ScheduleDeps): Promise<{ queued: number }> {
  const outer = ScheduledEventSchema.safeParse(event);
  if (!outer.success) throw new EventShapeError('not an EventBridge Scheduled Event', { cause: outer.error });
  const names = deps.config.targets.map((t) => t.name);
  await deps.queue.enqueue(names, `schedule ${outer.data.id}`);
  deps.log.info('schedule queued every target', { scheduleEventId: outer.data.id, targets: names.length });
  await watchSources(deps);
  return { queued: names.length };
}

/**
 * The source watch: each source with `maxSilenceHours` that delivered nothing for that long is logged
 * (source, last delivery, age) and counted in `SourceSilent` (alarmed). A failure to read is logged,
 * never thrown: the targets are queued already and a retry of the schedule would queue them again.
 */
export async function watchSources(deps: ScheduleDeps): Promise<SourceHealth[]> {
  if (!deps.store?.listSourceDeliveries || !deps.clock || !deps.metrics) return [];
  try {
    const health = sourceHealth(deps.config.sources, await deps.store.listSourceDeliveries(), deps.clock.now());
    const silent = health.filter((h) => h.silent);
    for (const h of silent) deps.log.warn('HR source silent', { source: h.source, lastDeliveryAt: h.lastDeliveryAt ?? 'never', ageHours: h.ageHours, maxSilenceHours: h.maxSilenceHours });
    deps.metrics.addMetric(SOURCE_SILENT, 'Count', silent.length);
    deps.metrics.publishStoredMetrics();
    return health;
  } catch (err) {
    deps.log.error('source watch could not read the last deliveries', { error: (err as Error).message });
    return [];
  }
}

/** Lambda entry for the schedule rule alone. */
export const handler = async (event: ScheduledEvent): Promise<{ queued: number }> => handleSchedule(event, await getReconcileContainer());
