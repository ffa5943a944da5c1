// SQS (one message per target) --> handleReconcileBatch --> reconcileAndRecord per target --> partial batch response
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { TargetReport } from '../sync/types.ts';
import { getReconcileContainer } from '../runtime/reconcile-container.ts';
import { parseReconcileMessage } from '../queue/reconcile-message.schema.ts';
import { reconcileAndRecord, type ReconcileDeps } from './run-reconcile.ts';
import { EventShapeError, PoisonMessageError, ReconcileIncompleteError } from './errors.ts';

/** Time kept back from the invocation's remaining time so the run can record itself and answer. */
export const QUEUE_SAFETY_MARGIN_MS = 10_000;
/**
 * How long a queued reconcile waits for a lease another run holds: a quarter of the time left, at
 * most 30 s. Most holders finish by then (and re-reconcile what ingest marked dirty); a message that
 * still finds the lease busy is retried by SQS, so only a stuck target reaches the DLQ.
 */
export const QUEUE_LEASE_WAIT_MS = 30_000;

export type QueueDeps = ReconcileDeps;

/**
 * Reconciles one target per message, one after another, against the invocation's deadline
 * (remaining time − 10 s), waiting a while for a busy lease. A message whose target was not reconciled to the end (lease busy, Losant
 * unreachable, deadline…) or whose body is not a reconcile message goes in `batchItemFailures`, so
 * SQS redelivers it and the DLQ catches repeats. A brake-blocked target or one no longer in the
 * config is acknowledged: a retry could not change it. Two messages for the same target in one batch
 * share one reconcile.
 * @example const { batchItemFailures } = await handleReconcileBatch(event, context, container)
 */
export async function handleReconcileBatch(
  event: SQSEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  deps: QueueDeps,
): Promise<SQSBatchResponse> {
  const outer = SqsSchema.safeParse(event);
  if (!outer.success) throw new EventShapeError('not an SQS event', { cause: outer.error });
  const deadline = deps.clock.now() + context.getRemainingTimeInMillis() - QUEUE_SAFETY_MARGIN_MS;
  const known = new Set(deps.config.targets.map((t) => t.name));
  const runs = new Map<string, Promise<TargetReport | undefined>>();

  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const message = parseReconcileMessage(record.body);
    if (!message) {
      deps.log.error('queue message is not a reconcile message', { messageId: record.messageId });
      throw new PoisonMessageError(`message ${record.messageId} is not {"target","reason"}`);
    }
    if (!known.has(message.target)) {
      deps.log.warn('queued target is not in the sync config; dropped', { messageId: record.messageId, target: message.target });
      return;
    }
    let run = runs.get(message.target);
    if (!run) {
      const waitForLeaseMs = Math.max(0, Math.min(QUEUE_LEASE_WAIT_MS, (deadline - deps.clock.now()) / 4));
      run = reconcileAndRecord(deps, { targetNames: [message.target], trigger: message.trigger === 'scim' ? 'scim' : 'queue', deadline, waitForLeaseMs }).then((r) => r.targets[0]);
      runs.set(message.target, run);
    }
    const report = await run;
    if (!report) throw new ReconcileIncompleteError(message.target, 'other', 'no report');
    if (report.error) throw new ReconcileIncompleteError(message.target, report.error.code, report.error.message);
  };

  const response = await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
  if (response.batchItemFailures.length) {
    deps.log.warn('queue batch: messages left for retry', { failed: response.batchItemFailures.length, of: event.Records.length });
  }
  return { batchItemFailures: response.batchItemFailures.map((f) => ({ itemIdentifier: f.itemIdentifier })) };
}

/** Lambda entry for the SQS event source alone. */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => handleReconcileBatch(event, context, await getReconcileContainer());
