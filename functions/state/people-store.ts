// ingest / reconcile --> PeopleStore port --> DynamoPeopleStore --> StateTable
// Items: person (pk `PEOPLE`, sk `<source>#<identity>`) and snapshot part
// (pk `SNAPSHOT#<source>#<snapshotId>`, sk `PART#<000001>`); see keys.ts for the whole table.
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { personIdentity } from '../sync/people.ts';
import type { EventOutcome, PeopleStore, ReplaceSourceResult, SnapshotPartResult } from '../sync/ports.ts';
import type { Person, StoredPerson } from '../sync/types.ts';
import { PeopleSchema, PersonItemSchema, SnapshotPartItemSchema } from './items.schema.ts';
import type { PersonItem, SnapshotPartItem } from './items.schema.ts';
import { PEOPLE_PK, keys } from './keys.ts';
import { SNAPSHOT_TTL_SECONDS, assertCompleteSnapshot, canonicalTime, checkPartsAgree, checkSnapshotPart, planReplaceSource } from './store-rules.ts';
import { conditional } from './table.ts';
import type { Item, StateTable } from './table.ts';

/** Above this, a snapshot part's people are gzipped into a Binary attribute (items are capped at 400 KB). */
export const SNAPSHOT_GZIP_THRESHOLD_BYTES = 300_000;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

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
 * The DynamoDB implementation of the `PeopleStore` port.
 * @example const people = new DynamoPeopleStore(table); await people.applyPersonEvent('hr', person, occurredAt);
 */
export class DynamoPeopleStore implements PeopleStore {
  private readonly table: StateTable;

  constructor(table: StateTable) {
    this.table = table;
  }

  async listPeople(): Promise<StoredPerson[]> {
    return this.table.guard('listPeople', async () => {
      const items = await this.table.queryAll({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': PEOPLE_PK },
        ConsistentRead: true,
      });
      return items.map((raw) => toStoredPerson(this.table.parse(PersonItemSchema, raw, 'person', raw)));
    });
  }

  async applyPersonEvent(source: string, person: Person, occurredAt: string): Promise<EventOutcome> {
    return this.table.guard('applyPersonEvent', async () => {
      const at = canonicalTime('applyPersonEvent', occurredAt);
      return (await this.putPersonIfNewer(source, person, at)) ? 'applied' : 'stale';
    });
  }

  async replaceSource(source: string, people: Person[], occurredAt: string): Promise<ReplaceSourceResult> {
    return this.table.guard('replaceSource', async () => {
      const at = canonicalTime('replaceSource', occurredAt);
      const { result, upserts, leaves } = planReplaceSource(await this.sourcePeople(source), people, at);
      const writes: (() => Promise<keyof ReplaceSourceResult>)[] = [
        ...upserts.map((person) => async () => ((await this.putPersonIfNewer(source, person, at)) ? 'upserted' : 'stale')),
        ...leaves.map((current) => async () => ((await this.markLeft(current, at)) ? 'left' : 'stale')),
      ];
      const outcomes = await this.table.mapWrites(writes, (write) => write());
      for (const outcome of outcomes) result[outcome] += 1;
      return result;
    });
  }

  async putSnapshotPart(source: string, snapshotId: string, part: number, parts: number, people: Person[]): Promise<SnapshotPartResult> {
    checkSnapshotPart(part, parts);
    return this.table.guard('putSnapshotPart', async () => {
      const stored = await this.table.queryAll({
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :part)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#parts': 'parts' },
        ExpressionAttributeValues: { ':pk': keys.snapshotPk(source, snapshotId), ':part': keys.snapshotPartPrefix },
        ProjectionExpression: '#parts',
        ConsistentRead: true,
      });
      checkPartsAgree(snapshotId, stored.map((item) => Number(item.parts)), parts);
      const json = JSON.stringify(people);
      const body = Buffer.byteLength(json) > SNAPSHOT_GZIP_THRESHOLD_BYTES ? new Uint8Array(await gzipAsync(json)) : json;
      await this.table.put({
        Item: {
          ...keys.snapshotPart(source, snapshotId, part),
          part,
          parts,
          people: body,
          expiresAt: this.table.nowSeconds() + SNAPSHOT_TTL_SECONDS,
        },
      });
      let received = 0;
      let startKey: Item | undefined;
      do {
        const out = await this.table.query({
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
    return this.table.guard('readSnapshot', async () => {
      const items = (await this.snapshotItems(source, snapshotId)).map((raw) =>
        this.table.parse(SnapshotPartItemSchema, raw, 'snapshot part', raw),
      );
      assertCompleteSnapshot(source, snapshotId, items);
      const people: Person[] = [];
      for (const item of items) people.push(...(await this.decodePart(item)));
      return people;
    });
  }

  async deleteSnapshot(source: string, snapshotId: string): Promise<void> {
    return this.table.guard('deleteSnapshot', async () => {
      const items = await this.snapshotItems(source, snapshotId, true);
      await this.table.batchWriteAll(
        'deleteSnapshot',
        items.map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } })),
      );
    });
  }

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
    return conditional(() =>
      this.table.put({
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk) OR #at < :t',
        ExpressionAttributeNames: { '#pk': 'pk', '#at': 'lastEventAt' },
        ExpressionAttributeValues: { ':t': at },
      }),
    );
  }

  private async markLeft(current: PersonItem, at: string): Promise<boolean> {
    return conditional(() =>
      this.table.update({
        Key: { pk: current.pk, sk: current.sk },
        UpdateExpression: 'SET #left = :true, #at = :t',
        ConditionExpression: 'attribute_exists(#pk) AND #at < :t',
        ExpressionAttributeNames: { '#pk': 'pk', '#at': 'lastEventAt', '#left': 'leftSource' },
        ExpressionAttributeValues: { ':t': at, ':true': true },
      }),
    );
  }

  private async sourcePeople(source: string): Promise<PersonItem[]> {
    const items = await this.table.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': PEOPLE_PK, ':prefix': keys.personPrefix(source) },
      ConsistentRead: true,
    });
    // a source named `a#b` shares the prefix of source `a`: keep only exact matches
    return items.map((raw) => this.table.parse(PersonItemSchema, raw, 'person', raw)).filter((item) => item.source === source);
  }

  private async snapshotItems(source: string, snapshotId: string, keysOnly = false): Promise<Item[]> {
    return this.table.queryAll({
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
    return this.table.parse(PeopleSchema, this.table.parseJson(text, 'snapshot part', item), 'snapshot part', item);
  }
}
