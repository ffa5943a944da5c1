// Lambda (every trigger) --> handler: detect the event shape --> webhook | HR event | schedule | queue | S3 drop handler
import type { APIGatewayProxyEventV2, Context, EventBridgeEvent, S3Event, ScheduledEvent, SQSEvent } from 'aws-lambda';
import { getContainer, type Container } from '../runtime/composition-root.ts';
import { handleHttp } from './webhook.handler.ts';
import { handleHrEvent } from './hr-event.handler.ts';
import { handleSchedule } from './schedule.handler.ts';
import { handleReconcileBatch } from './queue.handler.ts';
import { handleS3Drops } from './s3-drop.handler.ts';
import { UnknownEventError } from './errors.ts';

export type TriggerKind = 'http' | 'schedule' | 'hrEvent' | 'sqs' | 's3';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Which trigger sent the event, by its outer shape only (each handler then validates it fully).
 * @example detectTrigger({ 'detail-type': 'Scheduled Event', source: 'aws.events', … }) // 'schedule'
 */
export function detectTrigger(event: unknown): TriggerKind | null {
  if (!isObject(event)) return null;
  const records = event.Records;
  if (Array.isArray(records) && records.length > 0 && records.every((r) => isObject(r) && r.eventSource === 'aws:sqs')) return 'sqs';
  if (Array.isArray(records) && records.length > 0 && records.every((r) => isObject(r) && r.eventSource === 'aws:s3')) return 's3';
  if (typeof event['detail-type'] === 'string' && 'detail' in event) {
    return event['detail-type'] === 'Scheduled Event' && event.source === 'aws.events' ? 'schedule' : 'hrEvent';
  }
  if (event.version === '2.0' && isObject(event.requestContext) && isObject(event.requestContext.http)) return 'http';
  return null;
}

/**
 * Dispatches one invocation to its trigger's handler. An event of no known shape is logged
 * (its top-level keys only) and rejected with UnknownEventError.
 * @example await dispatch(event, context, container)
 */
export async function dispatch(event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>, deps: Container): Promise<unknown> {
  switch (detectTrigger(event)) {
    case 'http':
      return handleHttp(event as APIGatewayProxyEventV2, deps);
    case 'schedule':
      return handleSchedule(event as ScheduledEvent, deps);
    case 'hrEvent':
      return handleHrEvent(event as EventBridgeEvent<string, unknown>, deps);
    case 'sqs':
      return handleReconcileBatch(event as SQSEvent, context, deps);
    case 's3':
      return handleS3Drops(event as S3Event, deps);
    default: {
      const keys = isObject(event) ? Object.keys(event).slice(0, 20) : [];
      deps.log.error('unknown event shape rejected', { eventKeys: keys, eventType: Array.isArray(event) ? 'array' : typeof event });
      throw new UnknownEventError(`no handler for an event with keys [${keys.join(', ')}]`);
    }
  }
}

/** The one Lambda entry the CDK deploys for every trigger (HTTP API, schedule, HR bus, SQS, S3 roster drops). */
export const handler = async (event: unknown, context: Context): Promise<unknown> => dispatch(event, context, await getContainer());
