// *-store.ts --> StateTable --> DynamoDB (lib-dynamodb document client)
// The one place that sends commands to the state table: every call is counted and asks for
// ConsumedCapacity TOTAL, every failure leaves as a `StateError` naming the operation, and every
// item read is validated by a schema from items.schema.ts before it becomes a domain value.
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
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
  /** epoch ms of the wall clock that buckets the per-key write counts into seconds; default `Date.now` */
  statsClock?: () => number;
  /**
   * write units batched person writes (replaceSource, the people migration) send to one shard in one second
   * of `statsClock`; default 800 (DynamoDB serves 1 000 a partition key)
   */
  keyWriteUnitsPerSecond?: number;
}

/** The default of StateTableOptions.keyWriteUnitsPerSecond: below DynamoDB's 1 000 write units a key a second. */
export const KEY_WRITE_UNITS_PER_SECOND = 800;

/** Calls and consumed capacity since construction or the last `resetStats()`. */
export interface StateStoreStats {
  reads: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
  /**
   * The most write units one partition key took in one second (wall clock): computed from what was sent,
   * as DynamoDB bills it (1 per started KB of the item, ×2 in a transaction; a delete or update counts the
   * KB it sends, at least 1), since ConsumedCapacity names no key. DynamoDB serves at most 1 000 a key.
   */
  maxWriteUnitsPerKeySecond: number;
  /** the partition key of `maxWriteUnitsPerKeySecond` (the first to reach it); absent before any write */
  maxWriteUnitsKey?: string;
  /**
   * Write units computed the same way over all keys: what DynamoDB bills. `writeUnits` is what the service
   * reported; DynamoDB Local reports 2 per transaction whatever it holds, so on Local this one is the bill.
   */
  computedWriteUnits: number;
}

export type Item = Record<string, unknown>;
export type ItemKey = { pk: string; sk: string };
export type WriteRequests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];

const BATCH_SIZE = 25;
const BATCHES_IN_FLIGHT = 4;
const BATCH_MAX_ATTEMPTS = 8;
const BATCH_BACKOFF_BASE_MS = 25;
const BATCH_BACKOFF_CAP_MS = 1_000;

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
/** How a TransactWriteItems call ended: written, a condition failed, or another transaction held an item. */
export type TransactOutcome = 'ok' | 'condition' | 'conflict';

/** An attribute value's size as DynamoDB counts it (UTF-8 strings, numbers ~1 byte per 2 digits, 3 bytes per map or list, plus each name). */
function valueSize(v: unknown): number {
  if (v === undefined) return 0;
  if (v === null || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (typeof v === 'number' || typeof v === 'bigint') return Math.ceil(String(v).replace(/^-|\.|e.*$/g, '').length / 2) + 1;
  if (v instanceof Uint8Array) return v.byteLength;
  if (Array.isArray(v)) return 3 + v.reduce((n: number, e) => n + 1 + valueSize(e), 0);
  if (v instanceof Set) return [...v].reduce((n: number, e) => n + valueSize(e), 0);
  if (typeof v === 'object') return 3 + itemSize(v as Item);
  return 0;
}

/** An item's size in bytes as DynamoDB counts it for capacity (attribute names plus values). */
export function itemSize(item: Item): number {
  let n = 0;
  for (const [name, value] of Object.entries(item)) if (value !== undefined) n += Buffer.byteLength(name, 'utf8') + valueSize(value);
  return n;
}

const unitsOf = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

/** The write units one item write sends, and to which partition key (see StateStoreStats.maxWriteUnitsPerKeySecond). */
function writeUnitsOf(w: { Item?: Item; Key?: Item; ExpressionAttributeValues?: Item }): { pk: string; units: number } {
  if (w.Item) return { pk: String(w.Item.pk), units: unitsOf(itemSize(w.Item)) };
  return { pk: String(w.Key?.pk), units: unitsOf(itemSize(w.Key ?? {}) + itemSize(w.ExpressionAttributeValues ?? {})) };
}

/** The write units a TransactWriteItems of `actions` takes (2 per started KB of each). */
export function transactWriteUnits(actions: readonly TransactItem[]): number {
  return actions.reduce((n, t) => n + 2 * writeUnitsOf(t.Put ?? t.Update ?? t.Delete ?? t.ConditionCheck ?? {}).units, 0);
}

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
  /** conditional item writes in flight at once */
  readonly writeConcurrency: number;
  /** write units batched person writes send to one shard a second (StateTableOptions) */
  readonly keyWriteUnitsPerSecond: number;
  private readonly doc: DynamoDBDocumentClient;
  private readonly statsClock: () => number;
  private counters = { reads: 0, writes: 0, readUnits: 0, writeUnits: 0 };
  /** per partition key: the second (epoch s) last written and the units of it, and the key's busiest second */
  private keyWrites = new Map<string, { second: number; units: number }>();
  private hottest: { units: number; key?: string } = { units: 0 };
  private computedUnits = 0;

  constructor(options: StateTableOptions) {
    this.tableName = options.tableName;
    this.doc = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.now = options.now ?? Date.now;
    this.writeConcurrency = Math.max(1, options.writeConcurrency ?? 8);
    this.statsClock = options.statsClock ?? Date.now;
    this.keyWriteUnitsPerSecond = Math.max(1, options.keyWriteUnitsPerSecond ?? KEY_WRITE_UNITS_PER_SECOND);
  }

  /** Calls made and capacity consumed (ReturnConsumedCapacity TOTAL) since construction or `resetStats()`. */
  stats(): StateStoreStats {
    return { ...this.counters, computedWriteUnits: this.computedUnits, maxWriteUnitsPerKeySecond: this.hottest.units, ...(this.hottest.key !== undefined ? { maxWriteUnitsKey: this.hottest.key } : {}) };
  }

  /** Sets every counter of `stats()` back to 0. */
  resetStats(): void {
    this.counters = { reads: 0, writes: 0, readUnits: 0, writeUnits: 0 };
    this.keyWrites = new Map();
    this.hottest = { units: 0 };
    this.computedUnits = 0;
  }

  /** Counts `units` written to partition key `pk` in the wall clock's current second. */
  private noteKeyWrite(pk: string, units: number): void {
    const second = Math.floor(this.statsClock() / 1000);
    const slot = this.keyWrites.get(pk);
    const now = slot && slot.second === second ? slot : { second, units: 0 };
    now.units += units;
    this.keyWrites.set(pk, now);
    if (now.units > this.hottest.units) this.hottest = { units: now.units, key: pk };
  }

  private noteWrites(writes: readonly { Item?: Item; Key?: Item; ExpressionAttributeValues?: Item }[], factor: number): void {
    const perKey = new Map<string, number>();
    for (const w of writes) {
      const { pk, units } = writeUnitsOf(w);
      perKey.set(pk, (perKey.get(pk) ?? 0) + units * factor);
    }
    for (const [pk, units] of perKey) {
      this.computedUnits += units;
      this.noteKeyWrite(pk, units);
    }
  }

  /** The wall clock (epoch ms) the per-key write counts use: what pacing writes per key per second must read. */
  wallClock(): number {
    return this.statsClock();
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

  /**
   * BatchGetItem with consistent reads, 100 keys a call, UnprocessedKeys retried with backoff: the items found (any order).
   * @example const digests = await table.batchGet(shards.map((s) => keys.peopleDigest(s)));
   */
  async batchGet(keyList: readonly ItemKey[]): Promise<Item[]> {
    const found: Item[] = [];
    for (const part of chunk([...keyList], 100)) {
      let pending: Item[] = part;
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt >= BATCH_MAX_ATTEMPTS) throw new StateError(`batchGet: ${pending.length} keys still unprocessed after ${BATCH_MAX_ATTEMPTS} attempts`);
        if (attempt > 0) await sleep(backoffMs(attempt - 1, BATCH_BACKOFF_BASE_MS, BATCH_BACKOFF_CAP_MS));
        const RequestItems = { [this.tableName]: { Keys: pending, ConsistentRead: true } };
        const out = await this.counted('read', () => this.doc.send(new BatchGetCommand({ RequestItems, ReturnConsumedCapacity: 'TOTAL' })));
        found.push(...(out.Responses?.[this.tableName] ?? []));
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
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
    this.noteWrites([input], 1);
    return this.counted('write', () => this.doc.send(new PutCommand({ ...input, ...this.common() })));
  }

  update(input: Omit<UpdateCommandInput, 'TableName'>): Promise<UpdateCommandOutput> {
    this.noteWrites([input], 1);
    return this.counted('write', () => this.doc.send(new UpdateCommand({ ...input, ...this.common() })));
  }

  delete(input: Omit<DeleteCommandInput, 'TableName'>): Promise<DeleteCommandOutput> {
    this.noteWrites([input], 1);
    return this.counted('write', () => this.doc.send(new DeleteCommand({ ...input, ...this.common() })));
  }

  /**
   * TransactWriteItems (one call, all or nothing; items name `tableName` themselves): false when a condition
   * failed or another transaction conflicted (the caller reads again and retries); other failures pass on.
   */
  async transactWrite(TransactItems: TransactItem[]): Promise<boolean> {
    return (await this.transact(TransactItems)) === 'ok';
  }

  /**
   * `transact`, sent again (backoff `baseMs`…`capMs`) while another transaction holds one of its items: `ok`,
   * `condition`, or `conflict` when the last of `attempts` still met one (the caller says what that means).
   */
  async transactSettling(actions: TransactItem[], attempts: number, baseMs: number, capMs: number): Promise<TransactOutcome> {
    for (let attempt = 0; ; attempt += 1) {
      const outcome = await this.transact(actions);
      if (outcome !== 'conflict' || attempt + 1 >= attempts) return outcome;
      await sleep(backoffMs(attempt, baseMs, capMs));
    }
  }

  /**
   * TransactWriteItems telling a failed condition (`condition`: read again) from another transaction holding
   * an item (`conflict`: the same write may simply be sent again); other failures pass on.
   */
  async transact(TransactItems: TransactItem[]): Promise<TransactOutcome> {
    this.noteWrites(
      TransactItems.map((t) => t.Put ?? t.Update ?? t.Delete ?? t.ConditionCheck ?? {}),
      2,
    );
    try {
      await this.counted('write', () => this.doc.send(new TransactWriteCommand({ TransactItems, ReturnConsumedCapacity: 'TOTAL' })));
      return 'ok';
    } catch (err) {
      if (err instanceof Error && (err.name === 'TransactionCanceledException' || err.name === 'TransactionConflictException')) {
        const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        if (reasons.some((r) => r.Code === 'ConditionalCheckFailed')) return 'condition';
        if (err.name === 'TransactionConflictException' || reasons.some((r) => r.Code === 'TransactionConflict')) return 'conflict';
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
        this.noteWrites(pending.map((r) => r.PutRequest ?? r.DeleteRequest ?? {}), 1);
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
