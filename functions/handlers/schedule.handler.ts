// EventBridge schedule rule (Scheduled Event) --> handleSchedule --> ReconcileQueue (every target)
import type { ScheduledEvent } from 'aws-lambda';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas';
import { z } from 'zod';
import { getContainer, type Container } from '../runtime/composition-root.ts';
import { EventShapeError } from './errors.ts';

export type ScheduleDeps = Pick<Container, 'config' | 'queue' | 'log'>;

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
  return { queued: names.length };
}

/** Lambda entry for the schedule rule alone. */
export const handler = async (event: ScheduledEvent): Promise<{ queued: number }> => handleSchedule(event, await getContainer());
