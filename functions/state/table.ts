// *-store.ts --> StateTable --> DynamoDB (lib-dynamodb document client)
// The one place that sends commands to the state table: every call is counted and asks for
// ConsumedCapacity TOTAL, every failure leaves as a `StateError` naming the operation, and every
// item read is validated by a schema from items.schema.ts before it becomes a domain value.
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  BatchWriteCommandInput,
  DeleteCommandInput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  TransactWriteCommandInput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import { maskEmails } from '../sync/email.ts';
import { InputError, StateError } from '../sync/errors.ts';
import { backoffMs, chunk, mapLimit } from './concurrency.ts';
import { describeKey } from './keys.ts';

export interface StateTableOptions {
  tableName: string;
  /** tests inject one; default `new DynamoDBClient({})` (region and credentials from the Lambda environment) */
  client?: DynamoDBClient;
  /** epoch ms; default `Date.now` */
  now?: () => number;
  /** conditional item writes in flight at once (replaceSource, markDirty); default 8 */
  writeConcurrency?: number;
}

/** Calls and consumed capacity since construction or the last `resetStats()`. */
export interface StateStoreStats {
  reads: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
}

export type Item = Record<string, unknown>;
export type ItemKey = { pk: string; sk: string };
export type WriteRequests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];

const BATCH_SIZE = 25;
const BATCHES_IN_FLIGHT = 4;
const BATCH_MAX_ATTEMPTS = 8;
const BATCH_BACKOFF_BASE_MS = 25;
const BATCH_BACKOFF_CAP_MS = 1_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** True for the error of a conditional write whose condition did not hold. */
export const isConditionFailed = (err: unknown): err is ConditionalCheckFailedException =>
  err instanceof ConditionalCheckFailedException || (err instanceof Error && err.name === 'ConditionalCheckFailedException');

/**
 * Runs a conditional write: true when it was written, false when its condition failed; other errors pass on.
 * @example if (!(await conditional(() => table.put({ Item, ConditionExpression })))) return 'stale';
 */
export async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (isConditionFailed(err)) return false;
    throw err;
  }
}

/**
 * The state table as the per-kind stores use it: counted calls, `guard` and `parse`.
 * @example
 * const table = new StateTable({ tableName: env.STATE_TABLE });
 * const out = await table.guard('getRun', () => table.get({ Key: keys.run(id), ConsistentRead: true }));
 */
export class StateTable {
  readonly tableName: string;
  readonly now: () => number;
  private readonly writeConcurrency: number;
  private readonly doc: DynamoDBDocumentClient;
  private counters: StateStoreStats = { reads: 0, writes: 0, readUnits: 0, writeUnits: 0 };

  constructor(options: StateTableOptions) {
    this.tableName = options.tableName;
    this.doc = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.now = options.now ?? Date.now;
    this.writeConcurrency = Math.max(1, options.writeConcurrency ?? 8);
  }

  /** Calls made and capacity consumed (ReturnConsumedCapacity TOTAL) since construction or `resetStats()`. */
  stats(): StateStoreStats {
    return { ...this.counters };
  }

  /** Sets every counter of `stats()` back to 0. */
  resetStats(): void {
    this.counters = { reads: 0, writes: 0, readUnits: 0, writeUnits: 0 };
  }

  /** The clock in epoch seconds (the unit of the TTL attribute `expiresAt`). */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Runs `fn`; any failure but a `StateError` becomes `StateError('<op> failed: <name>: <masked message>')` with the cause. */
  async guard<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // bad input (a snapshot part that disagrees, an identity conflict) stays the caller's InputError
      if (err instanceof StateError || err instanceof InputError) throw err;
      const detail = err instanceof Error ? `${err.name}: ${maskEmails(err.message)}` : 'unknown error';
      throw new StateError(`${op} failed: ${detail}`, { cause: err });
    }
  }

  /** Validates an item read from the table; `StateError` naming the item's key (emails masked) and the first issues. */
  parse<S extends z.ZodType>(schema: S, value: unknown, what: string, key: { pk?: unknown; sk?: unknown } | undefined): z.infer<S> {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const issues = result.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(item)'}: ${issue.message}`)
      .join('; ');
    throw new StateError(`malformed ${what} item (${describeKey({ pk: key?.pk, sk: key?.sk })}): ${issues}`, { cause: result.error });
  }

  /** `JSON.parse` of an attribute; `StateError` naming the item's key when it is not JSON. */
  parseJson(text: string, what: string, key: { pk?: unknown; sk?: unknown }): unknown {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new StateError(`malformed ${what} item (${describeKey({ pk: key.pk, sk: key.sk })}): not JSON`, { cause: err });
    }
  }

  /** Runs one write per item, `writeConcurrency` in flight; results keep the input order. */
  mapWrites<T, R>(items: readonly T[], write: (item: T) => Promise<R>): Promise<R[]> {
    return mapLimit(items, this.writeConcurrency, write);
  }

  get(input: Omit<GetCommandInput, 'TableName'>): Promise<GetCommandOutput> {
    return this.counted('read', () => this.doc.send(new GetCommand({ ...input, ...this.common() })));
  }

  /**
   * One item by key with a consistent read, checked against its schema; null when absent.
   * @example const lease = await table.getItem(LeaseItemSchema, keys.lease(target), 'lease')
   */
  async getItem<S extends z.ZodType>(schema: S, key: ItemKey, what: string): Promise<z.infer<S> | null> {
    const out = await this.get({ Key: key, ConsistentRead: true });
    return out.Item ? this.parse(schema, out.Item, what, key) : null;
  }

  query(input: Omit<QueryCommandInput, 'TableName'>): Promise<QueryCommandOutput> {
    return this.counted('read', () => this.doc.send(new QueryCommand({ ...input, ...this.common() })));
  }

  /** Every item of a query, following LastEvaluatedKey. */
  async queryAll(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const out = await this.query({ ...input, ExclusiveStartKey: startKey });
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  put(input: Omit<PutCommandInput, 'TableName'>): Promise<PutCommandOutput> {
    return this.counted('write', () => this.doc.send(new PutCommand({ ...input, ...this.common() })));
  }

  update(input: Omit<UpdateCommandInput, 'TableName'>): Promise<UpdateCommandOutput> {
    return this.counted('write', () => this.doc.send(new UpdateCommand({ ...input, ...this.common() })));
  }

  delete(input: Omit<DeleteCommandInput, 'TableName'>): Promise<DeleteCommandOutput> {
    return this.counted('write', () => this.doc.send(new DeleteCommand({ ...input, ...this.common() })));
  }

  /**
   * TransactWriteItems (one call, all or nothing; items name `tableName` themselves): false when a condition
   * failed or another transaction conflicted (the caller reads again and retries); other failures pass on.
   */
  async transactWrite(TransactItems: NonNullable<TransactWriteCommandInput['TransactItems']>): Promise<boolean> {
    try {
      await this.counted('write', () => this.doc.send(new TransactWriteCommand({ TransactItems, ReturnConsumedCapacity: 'TOTAL' })));
      return true;
    } catch (err) {
      if (err instanceof Error && (err.name === 'TransactionCanceledException' || err.name === 'TransactionConflictException')) {
        const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        if (err.name === 'TransactionConflictException' || reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')) return false;
      }
      throw err;
    }
  }

  /** BatchWriteItem in chunks of 25, 4 chunks in flight, UnprocessedItems retried with backoff. */
  async batchWriteAll(op: string, requests: WriteRequests): Promise<void> {
    await mapLimit(chunk(requests, BATCH_SIZE), BATCHES_IN_FLIGHT, async (batch) => {
      let pending = batch;
      for (let attempt = 0; ; attempt += 1) {
        const RequestItems = { [this.tableName]: pending };
        const out = await this.counted('write', () => this.doc.send(new BatchWriteCommand({ RequestItems, ReturnConsumedCapacity: 'TOTAL' })));
        pending = out.UnprocessedItems?.[this.tableName] ?? [];
        if (pending.length === 0) return;
        if (attempt + 1 >= BATCH_MAX_ATTEMPTS) {
          throw new StateError(`${op}: ${pending.length} items still unprocessed after ${BATCH_MAX_ATTEMPTS} attempts`);
        }
        await sleep(backoffMs(attempt, BATCH_BACKOFF_BASE_MS, BATCH_BACKOFF_CAP_MS));
      }
    });
  }

  private common(): { TableName: string; ReturnConsumedCapacity: 'TOTAL' } {
    return { TableName: this.tableName, ReturnConsumedCapacity: 'TOTAL' };
  }

  private async counted<O extends { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }>(kind: 'read' | 'write', call: () => Promise<O>): Promise<O> {
    if (kind === 'read') this.counters.reads += 1;
    else this.counters.writes += 1;
    const out = await call();
    const list = Array.isArray(out.ConsumedCapacity) ? out.ConsumedCapacity : out.ConsumedCapacity ? [out.ConsumedCapacity] : [];
    let units = 0;
    for (const c of list) units += c.CapacityUnits ?? (kind === 'read' ? c.ReadCapacityUnits : c.WriteCapacityUnits) ?? 0;
    if (kind === 'read') this.counters.readUnits += units;
    else this.counters.writeUnits += units;
    return out;
  }
}
