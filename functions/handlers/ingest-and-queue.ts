// webhook / EventBridge handler --> ingestAndQueue --> ingestHrEvent (store) --> ReconcileQueue (touched targets)
import type { HrEvent } from '../sync/events.ts';
import { ingestHrEvent, type IngestOptions, type IngestResult } from '../sync/ingest.ts';
import { dateSettings } from '../sync/dates.ts';
import type { Container } from '../runtime/composition-root.ts';
import { recordRunMetrics } from '../runtime/metrics.ts';
import { EVENTS_REJECTED, RECONCILE_QUEUE_FAILURES } from '../runtime/metric-names.ts';

export type IngestDeps = Pick<Container, 'store' | 'clock' | 'log' | 'queue' | 'config' | 'metrics'>;

/**
 * Counts one refused HR event (`EventsRejected`, alarmed): invalid fields, a future `occurredAt`, an
 * identity conflict, a snapshot part that disagrees. Flushed at once (one EMF record).
 */
export function countRejectedEvent(deps: Pick<Container, 'metrics'>): void {
  deps.metrics.addMetric(EVENTS_REJECTED, 'Count', 1);
  deps.metrics.publishStoredMetrics();
}

/** Ingest result plus whether its touched targets reached the queue. */
export interface IngestAndQueueResult extends IngestResult {
  queued: boolean;
}

/**
 * Applies a validated HR event (deduped on the event's `id`) and queues the targets it touched.
 * A queueing failure does not undo the ingest: the people are stored and their targets marked
 * dirty, so the next schedule reconciles them; it is logged and counted (`ReconcileQueueFailures`).
 * Store failures throw (the sender retries; the delivery id is recorded only after the people).
 * An event the ingest refuses throws `InputError` (the caller answers 400 / `invalid` and counts it).
 */
export async function ingestAndQueue(
  deps: IngestDeps,
  event: HrEvent,
  via: 'webhook' | 'event' | 's3',
  extra: Pick<IngestOptions, 'ageUnknown'> = {},
): Promise<IngestAndQueueResult> {
  const { targets, limits, sources } = deps.config;
  const dates = dateSettings(deps.config);
  const result = await ingestHrEvent(deps, event, { targets, trigger: via, channel: via, maxSnapshotAgeHours: limits.maxSnapshotAgeHours, sources, ...(dates ? { dates } : {}), ...extra });
  // a held empty snapshot is a blocked run: counted in RunsBlocked like a braked reconcile
  if (result.run) recordRunMetrics(deps.metrics, result.run, 0);
  if (result.touched.length === 0) return { ...result, queued: false };
  try {
    await deps.queue.enqueue(result.touched, `${via} ${event.type} ${event.id}`);
    return { ...result, queued: true };
  } catch (err) {
    deps.log.error('could not queue the touched targets; the next schedule reconciles them', {
      targets: result.touched,
      error: (err as Error).message,
    });
    deps.metrics.addMetric(RECONCILE_QUEUE_FAILURES, 'Count', 1);
    deps.metrics.publishStoredMetrics();
    return { ...result, queued: false };
  }
}
