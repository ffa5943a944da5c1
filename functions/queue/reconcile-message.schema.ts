// ReconcileQueue.enqueue --> message body `{"target","reason","trigger"?,"continuation"?}` --> ReconcileMessageSchema --> queue handler
import { z } from 'zod';
import type { EnqueueOptions } from '../sync/ports.ts';

export const MAX_REASON_LENGTH = 256;

/** The chain a continuation carries (functions/sync/continuation.ts); a malformed one counts as none. */
const ContinuationSchema = z.object({
  count: z.number().int().positive(),
  origin: z.string().min(1).max(128),
  previous: z.string().min(1).max(128),
});

/** One SQS message body: reconcile this target. Unknown fields are ignored (forward compatible). */
export const ReconcileMessageSchema = z.object({
  target: z.string({ error: 'required' }).min(1, 'must not be empty').max(128, 'longer than 128 characters'),
  reason: z.string().max(MAX_REASON_LENGTH * 4).optional(),
  /** the run's trigger when not `queue` (SCIM writes queue with `scim`, a run's continuation with `continuation`); unknown values count as `queue` */
  trigger: z.string().optional().catch(undefined),
  /** with trigger `continuation`: the chain so far */
  continuation: ContinuationSchema.optional().catch(undefined),
});
export type ReconcileMessage = z.infer<typeof ReconcileMessageSchema>;

/** The body for one target (the reason is cut to 256 characters), with the options' trigger and continuation. */
export function reconcileMessageBody(target: string, reason: string, opts: Pick<EnqueueOptions, 'trigger' | 'continuation'> = {}): string {
  const message: ReconcileMessage = {
    target,
    reason: reason.slice(0, MAX_REASON_LENGTH),
    ...(opts.trigger ? { trigger: opts.trigger } : {}),
    ...(opts.continuation ? { continuation: opts.continuation } : {}),
  };
  return JSON.stringify(message);
}

/**
 * Parses a message body; null when it is not JSON or not a ReconcileMessage.
 * @example parseReconcileMessage('{"target":"eng","reason":"schedule"}') // { target: 'eng', reason: 'schedule' }
 */
export function parseReconcileMessage(body: string): ReconcileMessage | null {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return null;
  }
  const result = ReconcileMessageSchema.safeParse(doc);
  return result.success ? result.data : null;
}
