// use case --> StateStore port --> DynamoStateStore --> DynamoDB (one table, lib-dynamodb)
//
// Single-table item model (pk / sk are strings; `expiresAt` is the table's TTL attribute, epoch seconds;
// target ids in keys are lower-cased):
//
// | item          | pk                              | sk                        | attributes                                                                          |
// | ------------- | ------------------------------- | ------------------------- | ----------------------------------------------------------------------------------- |
// | person        | `PEOPLE`                        | `<source>#<identity>`     | email, employeeId?, status, attributes (map), source, identity, lastEventAt, leftSource |
// | delivery      | `DELIVERY#<id>`                 | `-`                       | expiresAt (a delivery past it counts as absent)                                     |
// | ledger entry  | `LEDGER#<instanceId>#<orgId>`   | `<email>`                 | the LedgerEntry: email, state, role, inviteId?, updatedAt, invitedAt?, renewals, runId, personEventAt?, error? |
// | lease         | `LEASE#<instanceId>#<orgId>`    | `-`                       | owner?, leaseExpiresAt? (epoch ms), seq (the target's change counter)              |
// | run           | `RUN#<runId>`                   | `-`                       | body (RunRecord as JSON), expiresAt                                                 |
// | approval      | `APPROVAL#<instanceId>#<orgId>` | `<planHash>`              | runId, expiresAt (7 days)                                                           |
// | snapshot part | `SNAPSHOT#<source>#<snapshotId>`| `PART#<000001>`           | part, parts, people (JSON text; gzipped JSON bytes when over 300 KB), expiresAt (2 days) |
// | blocked snap. | `BLOCKED#<source>`              | `<snapshotId>`            | code, blockedAt, expiresAt (30 days)                                                |
//
// identity = `emp:<employeeId>`, or `email:<normalised email>` without one.
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  BatchWriteCommandInput,
  BatchWriteCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import { maskEmails } from '../sync/email.ts';
import { InputError, StateError } from '../sync/errors.ts';
import { personIdentity } from '../sync/people.ts';
import type {
  EventOutcome,
  Lease,
  ReplaceSourceResult,
  RunRecord,
  SnapshotPartResult,
  StateStore,
} from '../sync/ports.ts';
import type { BlockCode, LedgerEntry, Person, StoredPerson, TargetRef } from '../sync/types.ts';
import { backoffMs, chunk, mapLimit } from './concurrency.ts';
import {
  DeliveryItemSchema,
  LeaseItemSchema,
  LedgerItemSchema,
  PeopleSchema,
  PersonItemSchema,
  RawLeaseImageSchema,
  RunItemSchema,
  RunRecordSchema,
  SnapshotPartItemSchema,
  toLedgerEntry,
} from './items.schema.ts';
import type { LeaseItem, PersonItem, SnapshotPartItem } from './items.schema.ts';
import { PEOPLE_PK, describeKey, keys } from './keys.ts';

export interface DynamoStateStoreOptions {
  tableName: string;
  /** tests inject one; default `new DynamoDBClient({})` (region and credentials from the Lambda environment) */
  client?: DynamoDBClient;
  /** epoch ms; default `Date.now` */
  now?: () => number;
  /** conditional person writes in flight at once (replaceSource, markDirty); default 8 */
  writeConcurrency?: number;
}

/** Calls and consumed capacity since construction or the last `resetStats()`. */
export interface StateStoreStats {
  reads: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
}

/** Above this, a snapshot part's people are gzipped into a Binary attribute (items are capped at 400 KB). */
export const SNAPSHOT_GZIP_THRESHOLD_BYTES = 300_000;
const BATCH_SIZE = 25;
const BATCHES_IN_FLIGHT = 4;
const BATCH_MAX_ATTEMPTS = 8;
const BATCH_BACKOFF_BASE_MS = 25;
const BATCH_BACKOFF_CAP_MS = 1_000;
const DAY_SECONDS = 86_400;
const APPROVAL_TTL_SECONDS = 7 * DAY_SECONDS;
const SNAPSHOT_TTL_SECONDS = 2 * DAY_SECONDS;
const BLOCKED_TTL_SECONDS = 30 * DAY_SECONDS;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type WriteRequests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];
type Item = Record<string, unknown>;

const isConditionFailed = (err: unknown): err is ConditionalCheckFailedException =>
  err instanceof ConditionalCheckFailedException || (err instanceof Error && err.name === 'ConditionalCheckFailedException');

/** ISO text in one canonical form, so that string order is time order in conditions. */
function canonicalTime(op: string, iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new StateError(`${op}: occurredAt is not an ISO time`);
  return new Date(ms).toISOString();
}

function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}

/** True when the stored person already says what `person` says (nothing to write). */
function samePerson(stored: PersonItem, person: Person): boolean {
  return (
    !stored.leftSource &&
    stored.email === person.email &&
    stored.employeeId === person.employeeId &&
    stored.status === person.status &&
    sameAttributes(stored.attributes, person.attributes)
  );
}

function toStoredPerson(item: PersonItem): StoredPerson {
  const person: StoredPerson = {
    email: item.email,
    status: item.status,
    attributes: item.attributes,
    identity: item.identity,
    source: item.source,
    lastEventAt: item.lastEventAt,
    leftSource: item.leftSource,
  };
  if (item.employeeId !== undefined) person.employeeId = item.employeeId;
  return person;
}

/**
 * The DynamoDB implementation of the `StateStore` port (one table, see the item model above).
 * @example
 * const store = new DynamoStateStore({ tableName: env.TABLE_NAME });
 * if (await store.recordDelivery(id, 86_400)) await store.applyPersonEvent('hr', person, occurredAt);
 */
export class DynamoStateStore implements StateStore {
  private readonly tableName: string;
  private readonly doc: DynamoDBDocumentClient;
  private readonly now: () => number;
  private readonly writeConcurrency: number;
  private counters: StateStoreStats = { reads: 0, writes: 0, readUnits: 0, writeUnits: 0 };

  constructor(options: DynamoStateStoreOptions) {
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

  // --- deliveries ---

  async hasDelivery(id: string): Promise<boolean> {
    return this.guard('hasDelivery', async () => {
      const key = keys.delivery(id);
      const out = await this.get({ Key: key, ConsistentRead: true });
      if (!out.Item) return false;
      const item = this.parse(DeliveryItemSchema, out.Item, 'delivery', key);
      return item.expiresAt > this.nowSeconds();
    });
  }

  async recordDelivery(id: string, ttlSeconds: number): Promise<boolean> {
    return this.guard('recordDelivery', async () => {
      const now = this.nowSeconds();
      try {
        await this.put({
          Item: { ...keys.delivery(id), expiresAt: now + ttlSeconds },
          ConditionExpression: 'attribute_not_exists(#pk) OR #exp <= :now',
          ExpressionAttributeNames: { '#pk': 'pk', '#exp': 'expiresAt' },
          ExpressionAttributeValues: { ':now': now },
        });
        return true;
      } catch (err) {
        if (isConditionFailed(err)) return false;
        throw err;
      }
    });
  }

  // --- people ---

  async listPeople(): Promise<StoredPerson[]> {
    return this.guard('listPeople', async () => {
      const items = await this.queryAll({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': PEOPLE_PK },
        ConsistentRead: true,
      });
      return items.map((raw) => toStoredPerson(this.parse(PersonItemSchema, raw, 'person', raw)));
    });
  }

  async applyPersonEvent(source: string, person: Person, occurredAt: string): Promise<EventOutcome> {
    return this.guard('applyPersonEvent', async () => {
      const at = canonicalTime('applyPersonEvent', occurredAt);
      return (await this.putPersonIfNewer(source, person, at)) ? 'applied' : 'stale';
    });
  }

  async replaceSource(source: string, people: Person[], occurredAt: string): Promise<ReplaceSourceResult> {
    return this.guard('replaceSource', async () => {
      const at = canonicalTime('replaceSource', occurredAt);
      const stored = new Map<string, PersonItem>();
      for (const item of await this.sourcePeople(source)) stored.set(item.identity, item);

      const listed = new Map<string, Person>();
      for (const person of people) listed.set(personIdentity(person), person);

      const result: ReplaceSourceResult = { upserted: 0, left: 0, unchanged: 0, stale: 0 };
      const writes: (() => Promise<keyof ReplaceSourceResult>)[] = [];
      for (const [identity, person] of listed) {
        const current = stored.get(identity);
        if (current && samePerson(current, person)) result.unchanged += 1;
        else if (current && current.lastEventAt >= at) result.stale += 1;
        else writes.push(async () => ((await this.putPersonIfNewer(source, person, at)) ? 'upserted' : 'stale'));
      }
      for (const [identity, current] of stored) {
        if (listed.has(identity) || current.leftSource) continue;
        if (current.lastEventAt >= at) result.stale += 1;
        else writes.push(async () => ((await this.markLeft(current, at)) ? 'left' : 'stale'));
      }
      const outcomes = await mapLimit(writes, this.writeConcurrency, (write) => write());
      for (const outcome of outcomes) result[outcome] += 1;
      return result;
    });
  }

  async putSnapshotPart(source: string, snapshotId: string, part: number, parts: number, people: Person[]): Promise<SnapshotPartResult> {
    if (!Number.isInteger(parts) || parts < 1 || !Number.isInteger(part) || part < 1 || part > parts) {
      throw new InputError('snapshot part number out of range', [
        { path: 'part', message: `part must be an integer in 1..parts (got part ${part} of ${parts})` },
      ]);
    }
    return this.guard('putSnapshotPart', async () => {
      const json = JSON.stringify(people);
      const body = Buffer.byteLength(json) > SNAPSHOT_GZIP_THRESHOLD_BYTES ? new Uint8Array(await gzipAsync(json)) : json;
      await this.put({
        Item: {
          ...keys.snapshotPart(source, snapshotId, part),
          part,
          parts,
          people: body,
          expiresAt: this.nowSeconds() + SNAPSHOT_TTL_SECONDS,
        },
      });
      let received = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await this.query({
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :part)',
          FilterExpression: '#parts = :parts',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#parts': 'parts' },
          ExpressionAttributeValues: { ':pk': keys.snapshotPk(source, snapshotId), ':part': keys.snapshotPartPrefix, ':parts': parts },
          Select: 'COUNT',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        });
        received += out.Count ?? 0;
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return { received, parts, complete: received >= parts };
    });
  }

  /** All people of a complete snapshot, parts in order. Throws `StateError` when a part is missing. */
  async readSnapshot(source: string, snapshotId: string): Promise<Person[]> {
    return this.guard('readSnapshot', async () => {
      const items = (await this.snapshotItems(source, snapshotId)).map((raw) =>
        this.parse(SnapshotPartItemSchema, raw, 'snapshot part', raw),
      );
      const parts = items[0]?.parts ?? 0;
      const inOrder = parts > 0 && items.length === parts && items.every((item, i) => item.part === i + 1 && item.parts === parts);
      if (!inOrder) {
        throw new StateError(`readSnapshot: snapshot ${source}/${snapshotId} is incomplete (${items.length} of ${parts || '?'} parts)`);
      }
      const people: Person[] = [];
      for (const item of items) people.push(...(await this.decodePart(item)));
      return people;
    });
  }

  async deleteSnapshot(source: string, snapshotId: string): Promise<void> {
    return this.guard('deleteSnapshot', async () => {
      const items = await this.snapshotItems(source, snapshotId, true);
      await this.batchWriteAll(
        'deleteSnapshot',
        items.map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } })),
      );
    });
  }

  // --- ledger ---

  async getLedger(target: TargetRef): Promise<LedgerEntry[]> {
    return this.guard('getLedger', async () => {
      const items = await this.queryAll({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': keys.ledgerPk(target) },
        ConsistentRead: true,
      });
      return items.map((raw) => toLedgerEntry(this.parse(LedgerItemSchema, raw, 'ledger', raw)));
    });
  }

  async putLedgerEntries(target: TargetRef, entries: LedgerEntry[]): Promise<void> {
    return this.guard('putLedgerEntries', async () => {
      // one request per email: BatchWriteItem refuses duplicate keys in a call; the last entry wins
      const byEmail = new Map<string, LedgerEntry>();
      for (const entry of entries) byEmail.set(entry.email, entry);
      await this.batchWriteAll(
        'putLedgerEntries',
        [...byEmail.values()].map((entry) => ({ PutRequest: { Item: { ...entry, ...keys.ledger(target, entry.email) } } })),
      );
    });
  }

  // --- lease ---

  async acquireLease(target: TargetRef, owner: string, leaseSeconds: number): Promise<Lease | null> {
    return this.guard('acquireLease', async () => {
      const now = this.now();
      const expiresAt = now + leaseSeconds * 1000;
      const key = keys.lease(target);
      try {
        const out = await this.update({
          Key: key,
          UpdateExpression: 'SET #owner = :me, #exp = :exp, #seq = if_not_exists(#seq, :zero)',
          ConditionExpression: 'attribute_not_exists(#owner) OR #exp < :now OR #owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner', '#exp': 'leaseExpiresAt', '#seq': 'seq' },
          ExpressionAttributeValues: { ':me': owner, ':exp': expiresAt, ':now': now, ':zero': 0 },
          ReturnValues: 'ALL_NEW',
        });
        const item = this.parse(LeaseItemSchema, out.Attributes, 'lease', key);
        return { target: { instanceId: target.instanceId, orgId: target.orgId }, owner, expiresAt, seenSeq: item.seq };
      } catch (err) {
        if (isConditionFailed(err)) return null;
        throw err;
      }
    });
  }

  /** Extends the lease (and `lease.expiresAt`); false when another owner holds it now. */
  async renewLease(lease: Lease, leaseSeconds: number): Promise<boolean> {
    return this.guard('renewLease', async () => {
      const expiresAt = this.now() + leaseSeconds * 1000;
      try {
        await this.update({
          Key: keys.lease(lease.target),
          UpdateExpression: 'SET #exp = :exp',
          ConditionExpression: '#owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner', '#exp': 'leaseExpiresAt' },
          ExpressionAttributeValues: { ':me': lease.owner, ':exp': expiresAt },
        });
        lease.expiresAt = expiresAt;
        return true;
      } catch (err) {
        if (isConditionFailed(err)) return false;
        throw err;
      }
    });
  }

  async releaseLease(lease: Lease): Promise<'released' | 'dirty' | 'lost'> {
    return this.guard('releaseLease', async () => {
      const key = keys.lease(lease.target);
      try {
        await this.update({
          Key: key,
          UpdateExpression: 'REMOVE #owner, #exp',
          ConditionExpression: '#owner = :me AND #seq = :seen',
          ExpressionAttributeNames: { '#owner': 'owner', '#exp': 'leaseExpiresAt', '#seq': 'seq' },
          ExpressionAttributeValues: { ':me': lease.owner, ':seen': lease.seenSeq },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        });
        return 'released';
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        const current = await this.leaseAfterConflict(err, key);
        if (current?.owner !== lease.owner) return 'lost';
        lease.seenSeq = current.seq;
        return 'dirty';
      }
    });
  }

  async markDirty(targets: TargetRef[]): Promise<void> {
    return this.guard('markDirty', async () => {
      const unique = new Map<string, TargetRef>();
      for (const target of targets) unique.set(keys.lease(target).pk, target);
      await mapLimit([...unique.values()], this.writeConcurrency, (target) =>
        this.update({
          Key: keys.lease(target),
          UpdateExpression: 'ADD #seq :one',
          ExpressionAttributeNames: { '#seq': 'seq' },
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    });
  }

  // --- runs and approvals ---

  async putRun(run: RunRecord, ttlSeconds: number): Promise<void> {
    return this.guard('putRun', async () => {
      await this.put({ Item: { ...keys.run(run.runId), body: JSON.stringify(run), expiresAt: this.nowSeconds() + ttlSeconds } });
    });
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    return this.guard('getRun', async () => {
      const key = keys.run(runId);
      const out = await this.get({ Key: key, ConsistentRead: true });
      if (!out.Item) return null;
      const item = this.parse(RunItemSchema, out.Item, 'run', key);
      return this.parse(RunRecordSchema, this.parseJson(item.body, 'run', key), 'run body', key);
    });
  }

  async putApproval(target: TargetRef, planHash: string, runId: string): Promise<void> {
    return this.guard('putApproval', async () => {
      await this.put({ Item: { ...keys.approval(target, planHash), runId, expiresAt: this.nowSeconds() + APPROVAL_TTL_SECONDS } });
    });
  }

  async takeApproval(target: TargetRef, planHash: string): Promise<boolean> {
    return this.guard('takeApproval', async () => {
      const key = keys.approval(target, planHash);
      try {
        await this.delete({
          Key: key,
          ConditionExpression: 'attribute_exists(#pk) AND #exp > :now',
          ExpressionAttributeNames: { '#pk': 'pk', '#exp': 'expiresAt' },
          ExpressionAttributeValues: { ':now': this.nowSeconds() },
        });
        return true;
      } catch (err) {
        if (isConditionFailed(err)) return false;
        throw err;
      }
    });
  }

  async putBlockedSnapshot(source: string, snapshotId: string, code: BlockCode): Promise<void> {
    return this.guard('putBlockedSnapshot', async () => {
      await this.put({
        Item: {
          ...keys.blocked(source, snapshotId),
          code,
          blockedAt: new Date(this.now()).toISOString(),
          expiresAt: this.nowSeconds() + BLOCKED_TTL_SECONDS,
        },
      });
    });
  }

  // --- people helpers ---

  /** Conditional put `attribute_not_exists(pk) OR lastEventAt < :t`; false when the stored person is as new or newer. */
  private async putPersonIfNewer(source: string, person: Person, at: string): Promise<boolean> {
    const identity = personIdentity(person);
    const item: PersonItem = {
      ...keys.person(source, identity),
      email: person.email,
      employeeId: person.employeeId,
      status: person.status,
      attributes: { ...person.attributes },
      source,
      identity,
      lastEventAt: at,
      leftSource: false,
    };
    try {
      await this.put({
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk) OR #at < :t',
        ExpressionAttributeNames: { '#pk': 'pk', '#at': 'lastEventAt' },
        ExpressionAttributeValues: { ':t': at },
      });
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  private async markLeft(current: PersonItem, at: string): Promise<boolean> {
    try {
      await this.update({
        Key: { pk: current.pk, sk: current.sk },
        UpdateExpression: 'SET #left = :true, #at = :t',
        ConditionExpression: 'attribute_exists(#pk) AND #at < :t',
        ExpressionAttributeNames: { '#pk': 'pk', '#at': 'lastEventAt', '#left': 'leftSource' },
        ExpressionAttributeValues: { ':t': at, ':true': true },
      });
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  private async sourcePeople(source: string): Promise<PersonItem[]> {
    const items = await this.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': PEOPLE_PK, ':prefix': keys.personPrefix(source) },
      ConsistentRead: true,
    });
    // a source named `a#b` shares the prefix of source `a`: keep only exact matches
    return items.map((raw) => this.parse(PersonItemSchema, raw, 'person', raw)).filter((item) => item.source === source);
  }

  // --- snapshot helpers ---

  private async snapshotItems(source: string, snapshotId: string, keysOnly = false): Promise<Item[]> {
    return this.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :part)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': keys.snapshotPk(source, snapshotId), ':part': keys.snapshotPartPrefix },
      ConsistentRead: true,
      ScanIndexForward: true,
      ...(keysOnly ? { ProjectionExpression: '#pk, #sk' } : {}),
    });
  }

  private async decodePart(item: SnapshotPartItem): Promise<Person[]> {
    const text = typeof item.people === 'string' ? item.people : (await gunzipAsync(item.people)).toString('utf8');
    return this.parse(PeopleSchema, this.parseJson(text, 'snapshot part', item), 'snapshot part', item);
  }

  // --- lease helpers ---

  /** The lease item as it was when a conditional write failed (from the error, else a consistent read). */
  private async leaseAfterConflict(err: ConditionalCheckFailedException, key: { pk: string; sk: string }): Promise<{ owner?: string; seq: number } | null> {
    const image = RawLeaseImageSchema.safeParse(err.Item);
    if (err.Item && image.success) {
      return { owner: image.data.owner?.S, seq: Number(image.data.seq?.N ?? 0) };
    }
    const out = await this.get({ Key: key, ConsistentRead: true });
    if (!out.Item) return null;
    const item: LeaseItem = this.parse(LeaseItemSchema, out.Item, 'lease', key);
    return { owner: item.owner, seq: item.seq };
  }

  // --- batch writes ---

  /** BatchWriteItem in chunks of 25, 4 chunks in flight, UnprocessedItems retried with backoff. */
  private async batchWriteAll(op: string, requests: WriteRequests): Promise<void> {
    await mapLimit(chunk(requests, BATCH_SIZE), BATCHES_IN_FLIGHT, async (batch) => {
      let pending = batch;
      for (let attempt = 0; ; attempt += 1) {
        const out = await this.batchWrite({ RequestItems: { [this.tableName]: pending } });
        pending = out.UnprocessedItems?.[this.tableName] ?? [];
        if (pending.length === 0) return;
        if (attempt + 1 >= BATCH_MAX_ATTEMPTS) {
          throw new StateError(`${op}: ${pending.length} items still unprocessed after ${BATCH_MAX_ATTEMPTS} attempts`);
        }
        await sleep(backoffMs(attempt, BATCH_BACKOFF_BASE_MS, BATCH_BACKOFF_CAP_MS));
      }
    });
  }

  // --- validation and errors ---

  private parse<S extends z.ZodType>(schema: S, value: unknown, what: string, key: { pk?: unknown; sk?: unknown } | undefined): z.infer<S> {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const issues = result.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(item)'}: ${issue.message}`)
      .join('; ');
    throw new StateError(`malformed ${what} item (${describeKey({ pk: key?.pk, sk: key?.sk })}): ${issues}`, { cause: result.error });
  }

  private parseJson(text: string, what: string, key: { pk?: unknown; sk?: unknown }): unknown {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new StateError(`malformed ${what} item (${describeKey({ pk: key.pk, sk: key.sk })}): not JSON`, { cause: err });
    }
  }

  private async guard<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof StateError) throw err;
      const detail = err instanceof Error ? `${err.name}: ${maskEmails(err.message)}` : 'unknown error';
      throw new StateError(`${op} failed: ${detail}`, { cause: err });
    }
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  // --- counted SDK calls (every one asks for ConsumedCapacity TOTAL) ---

  private addUnits(kind: 'read' | 'write', consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): void {
    const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
    let units = 0;
    for (const c of list) units += c.CapacityUnits ?? (kind === 'read' ? c.ReadCapacityUnits : c.WriteCapacityUnits) ?? 0;
    if (kind === 'read') this.counters.readUnits += units;
    else this.counters.writeUnits += units;
  }

  private async get(input: Omit<GetCommandInput, 'TableName'>): Promise<GetCommandOutput> {
    this.counters.reads += 1;
    const out = await this.doc.send(new GetCommand({ ...input, TableName: this.tableName, ReturnConsumedCapacity: 'TOTAL' }));
    this.addUnits('read', out.ConsumedCapacity);
    return out;
  }

  private async query(input: Omit<QueryCommandInput, 'TableName'>): Promise<QueryCommandOutput> {
    this.counters.reads += 1;
    const out = await this.doc.send(new QueryCommand({ ...input, TableName: this.tableName, ReturnConsumedCapacity: 'TOTAL' }));
    this.addUnits('read', out.ConsumedCapacity);
    return out;
  }

  private async queryAll(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.query({ ...input, ExclusiveStartKey: startKey });
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  private async put(input: Omit<PutCommandInput, 'TableName'>): Promise<PutCommandOutput> {
    this.counters.writes += 1;
    const out = await this.doc.send(new PutCommand({ ...input, TableName: this.tableName, ReturnConsumedCapacity: 'TOTAL' }));
    this.addUnits('write', out.ConsumedCapacity);
    return out;
  }

  private async update(input: Omit<UpdateCommandInput, 'TableName'>): Promise<UpdateCommandOutput> {
    this.counters.writes += 1;
    const out = await this.doc.send(new UpdateCommand({ ...input, TableName: this.tableName, ReturnConsumedCapacity: 'TOTAL' }));
    this.addUnits('write', out.ConsumedCapacity);
    return out;
  }

  private async delete(input: Omit<DeleteCommandInput, 'TableName'>): Promise<DeleteCommandOutput> {
    this.counters.writes += 1;
    const out = await this.doc.send(new DeleteCommand({ ...input, TableName: this.tableName, ReturnConsumedCapacity: 'TOTAL' }));
    this.addUnits('write', out.ConsumedCapacity);
    return out;
  }

  private async batchWrite(input: BatchWriteCommandInput): Promise<BatchWriteCommandOutput> {
    this.counters.writes += 1;
    const out = await this.doc.send(new BatchWriteCommand({ ...input, ReturnConsumedCapacity: 'TOTAL' }));
    this.addUnits('write', out.ConsumedCapacity);
    return out;
  }
}
