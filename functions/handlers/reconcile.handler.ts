// Lambda (schedule, HR bus, reconcile queue, S3 drops) --> handler: detect the event shape --> HR event | schedule | queue | S3 drop handler
import type { Context, EventBridgeEvent, S3Event, ScheduledEvent, SQSEvent } from 'aws-lambda';
import { getReconcileContainer, type ReconcileContainer } from '../runtime/reconcile-container.ts';
import { handleHrEvent } from './hr-event.handler.ts';
import { handleSchedule } from './schedule.handler.ts';
import { handleReconcileBatch } from './queue.handler.ts';
import { handleS3Drops } from './s3-drop.handler.ts';
import { detectTrigger, unknownEvent } from './trigger-kind.ts';

/**
 * Dispatches one invocation of the reconcile function to its trigger's handler: the schedule, the
 * HR bus, the reconcile queue and S3 roster drops. Any other event (an HTTP API request included:
 * the HTTP function serves those) is logged (its top-level keys only) and rejected with
 * UnknownEventError.
 * @example await dispatchReconcile(event, context, container)
 */
export async function dispatchReconcile(event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>, deps: ReconcileContainer): Promise<unknown> {
  switch (detectTrigger(event)) {
    case 'schedule':
      return handleSchedule(event as ScheduledEvent, deps);
    case 'hrEvent':
      return handleHrEvent(event as EventBridgeEvent<string, unknown>, deps);
    case 'sqs':
      return handleReconcileBatch(event as SQSEvent, context, deps);
    case 's3':
      return handleS3Drops(event as S3Event, deps);
    default:
      throw unknownEvent(event, deps.log);
  }
}

/**
 * The reconcile function's entry (lib/invite-sync-stack.ts, SyncFunction 'Sync'). It does not import
 * the HTTP routes (webhook, SCIM) and builds no webhook key or SCIM adapters: those are the HTTP
 * function's (webhook.handler.ts).
 */
export const handler = async (event: unknown, context: Context): Promise<unknown> => dispatchReconcile(event, context, await getReconcileContainer());
