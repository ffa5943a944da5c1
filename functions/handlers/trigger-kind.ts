// Lambda entries (index.handler, reconcile.handler) --> detectTrigger: which trigger sent an event, by its outer shape
import type { HandlerLog } from '../runtime/logger.ts';
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
 * Logs an event no handler of this entry serves (its top-level keys only, never its values) and
 * returns the UnknownEventError to throw.
 */
export function unknownEvent(event: unknown, log: HandlerLog): UnknownEventError {
  const keys = isObject(event) ? Object.keys(event).slice(0, 20) : [];
  log.error('unknown event shape rejected', { eventKeys: keys, eventType: Array.isArray(event) ? 'array' : typeof event });
  return new UnknownEventError(`no handler for an event with keys [${keys.join(', ')}]`);
}
