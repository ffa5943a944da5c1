// webhook / event / schedule handler, a queued run's continuation --> SqsReconcileQueue --> SQS SendMessageBatch (one message per target)
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { EnqueueOptions, ReconcileQueue } from '../sync/ports.ts';
import { reconcileMessageBody } from './reconcile-message.schema.ts';

/** SQS takes at most 10 entries per SendMessageBatch. */
const BATCH_LIMIT = 10;
/** SQS DelaySeconds is 0-900. */
const MAX_DELAY_SECONDS = 900;

/** Targets that could not be queued after the retries. */
export class QueueError extends Error {
  readonly targets: string[];
  constructor(message: string, targets: string[], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueueError';
    this.targets = targets;
  }
}

export interface SqsReconcileQueueOptions {
  queueUrl: string;
  client?: SQSClient;
  /** tries per batch for entries SQS reports as failed on its side; default 3 */
  maxAttempts?: number;
}

/**
 * The reconcile queue in AWS: one message per distinct target, body `{"target","reason"}`,
 * sent in batches of 10; entries SQS fails on its side are resent, sender faults are not.
 * @example await new SqsReconcileQueue({ queueUrl }).enqueue(['eng', 'ops'], 'schedule')
 */
export class SqsReconcileQueue implements ReconcileQueue {
  readonly #queueUrl: string;
  readonly #maxAttempts: number;
  #client: SQSClient | undefined;

  constructor(opts: SqsReconcileQueueOptions) {
    this.#queueUrl = opts.queueUrl;
    this.#client = opts.client;
    this.#maxAttempts = Math.max(1, opts.maxAttempts ?? 3);
  }

  async enqueue(targetNames: string[], reason: string, opts: EnqueueOptions = {}): Promise<void> {
    const names = [...new Set(targetNames)];
    const failed: string[] = [];
    let lastError: unknown;
    for (let i = 0; i < names.length; i += BATCH_LIMIT) {
      const chunk = names.slice(i, i + BATCH_LIMIT);
      const result = await this.#sendChunk(chunk, reason, opts);
      failed.push(...result.failed);
      lastError = result.error ?? lastError;
    }
    if (failed.length) {
      throw new QueueError(`could not queue ${failed.length} of ${names.length} targets: ${failed.join(', ')}`, failed, { cause: lastError });
    }
  }

  async #sendChunk(chunk: string[], reason: string, opts: EnqueueOptions): Promise<{ failed: string[]; error?: unknown }> {
    this.#client ??= new SQSClient({});
    const delay = opts.delaySeconds === undefined ? {} : { DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(opts.delaySeconds))) };
    let entries: SendMessageBatchRequestEntry[] = chunk.map((name, i) => ({ Id: `t${i}`, MessageBody: reconcileMessageBody(name, reason, opts), ...delay }));
    const nameOf = new Map(entries.map((e, i) => [e.Id!, chunk[i]!]));
    const givenUp: string[] = [];
    let error: unknown;
    for (let attempt = 1; attempt <= this.#maxAttempts && entries.length; attempt++) {
      let out;
      try {
        out = await this.#client.send(new SendMessageBatchCommand({ QueueUrl: this.#queueUrl, Entries: entries }));
      } catch (err) {
        // the SDK already retried throttling and network errors
        return { failed: [...givenUp, ...entries.map((e) => nameOf.get(e.Id!)!)], error: err };
      }
      const failedIds = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
      const retry: SendMessageBatchRequestEntry[] = [];
      for (const e of entries) {
        const f = failedIds.get(e.Id);
        if (!f) continue;
        if (f.SenderFault) givenUp.push(nameOf.get(e.Id!)!);
        else retry.push(e);
        error = new Error(`SQS ${f.Code ?? 'error'}: ${f.Message ?? ''}`.trim());
      }
      entries = retry;
    }
    return { failed: [...givenUp, ...entries.map((e) => nameOf.get(e.Id!)!)], ...(error ? { error } : {}) };
  }
}
