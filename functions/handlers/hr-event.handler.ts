// EventBridge (HR bus, detail = HR event) --> handleHrEvent --> parseHrEvent --> ingestAndQueue
import type { EventBridgeEvent } from 'aws-lambda';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { parseHrEvent, type HrEvent } from '../sync/events.ts';
import { InputError } from '../sync/errors.ts';
import type { IngestResult } from '../sync/ingest.ts';
import type { BlockCode } from '../sync/types.ts';
import { getReconcileContainer } from '../runtime/reconcile-container.ts';
import { countRejectedEvent, ingestAndQueue, type IngestDeps } from './ingest-and-queue.ts';
import { maskEmails } from '../sync/email.ts';
import { EventShapeError } from './errors.ts';

export type HrEventResult =
  | { status: IngestResult['status']; eventId: string; touched: number; queued: boolean; runId?: string; blocked?: BlockCode }
  | { status: 'invalid'; message: string; issues: { path: string; message: string }[] };

/** `{status: 'invalid'}` naming each bad field; logged and counted in `EventsRejected`. */
function invalid(deps: IngestDeps, envelope: { id: string; source: string }, err: InputError): HrEventResult {
  const issues = err.issues.slice(0, 50).map((i) => ({ path: i.path, message: i.message }));
  deps.log.error('HR event rejected: invalid', { eventBridgeId: envelope.id, source: envelope.source, message: maskEmails(err.message), issues });
  countRejectedEvent(deps);
  return { status: 'invalid', message: err.message, issues };
}

/**
 * An HR event from the EventBridge bus: `detail` is the same HR event JSON the webhook takes and
 * `detail-type` its `type`. Deduped on the HR event's `id`, like the webhook.
 * An invalid event is logged and answered `{status: 'invalid'}` without throwing: a retry could not
 * make it valid. A store failure throws, so Lambda's async retries deliver it again.
 * @example await handleHrEvent(eventBridgeEvent, container)
 */
export async function handleHrEvent(event: EventBridgeEvent<string, unknown>, deps: IngestDeps): Promise<HrEventResult> {
  const outer = EventBridgeSchema.safeParse(event);
  if (!outer.success) throw new EventShapeError('not an EventBridge event', { cause: outer.error });
  const envelope = outer.data;

  let hrEvent: HrEvent;
  try {
    hrEvent = parseHrEvent(envelope.detail);
    if (hrEvent.type !== envelope['detail-type']) {
      throw new InputError(`detail-type "${envelope['detail-type']}" does not match detail.type "${hrEvent.type}"`, [
        { path: 'detail-type', message: `must equal detail.type (${hrEvent.type})` },
      ]);
    }
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return invalid(deps, envelope, err);
  }

  deps.log.appendKeys({ eventId: hrEvent.id });
  try {
    const result = await ingestAndQueue(deps, hrEvent, 'event');
    return { status: result.status, eventId: hrEvent.id, touched: result.touched.length, queued: result.queued, ...(result.run ? { runId: result.run.runId } : {}), ...(result.blocked ? { blocked: result.blocked } : {}) };
  } catch (err) {
    // refused by the ingest (future occurredAt, identity conflict, parts): a retry could not fix it either
    if (err instanceof InputError) return invalid(deps, envelope, err);
    throw err;
  } finally {
    deps.log.removeKeys(['eventId']);
  }
}

/** Lambda entry for the HR bus rule alone. */
export const handler = async (event: EventBridgeEvent<string, unknown>): Promise<HrEventResult> => handleHrEvent(event, await getReconcileContainer());
