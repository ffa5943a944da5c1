// ingest / reconcile --> PeopleStore port --> DynamoPeopleStore --> StateTable
// Items: person (pk `PEOPLE`, sk `<source>#<identity>`) and snapshot part
// (pk `SNAPSHOT#<source>#<snapshotId>`, sk `PART#<000001>`); see keys.ts for the whole table.
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { personIdentity } from '../sync/people.ts';
import { indexRecords, resolvePersonEvent } from '../sync/identity.ts';
import { StateError } from '../sync/errors.ts';
import type { EventOutcome, PeopleStore, ReplacePreview, ReplaceSourceResult, SnapshotPartResult } from '../sync/ports.ts';
import type { Person, StoredPerson } from '../sync/types.ts';
import { PeopleSchema, PersonItemSchema, SnapshotPartItemSchema, SourceItemSchema } from './items.schema.ts';
import type { PersonItem, SnapshotPartItem } from './items.schema.ts';
import { PEOPLE_PK, SOURCES_PK, keys } from './keys.ts';
import { SNAPSHOT_TTL_SECONDS, assertCompleteSnapshot, canonicalTime, checkPartsAgree, checkSnapshotPart, effectiveLastEventAt, planReplaceSource, planStaleJoins, previewOf } from './store-rules.ts';
import { conditional } from './table.ts';
import type { Item, StateTable } from './table.ts';

/** How often a person event is read and written again after losing a race to another write of its source. */
const WRITE_ATTEMPTS = 5;

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
      const [items, snapshots] = await Promise.all([
        this.table.queryAll({
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': 'pk' },
          ExpressionAttributeValues: { ':pk': PEOPLE_PK },
          ConsistentRead: true,
        }),
        this.snapshotTimes(),
      ]);
      return items.map((raw) => {
        const person = toStoredPerson(this.table.parse(PersonItemSchema, raw, 'person', raw));
        // a snapshot stamps its occurredAt on every person of its source
        return { ...person, lastEventAt: effectiveLastEventAt(person.lastEventAt, snapshots.get(person.source)) };
      });
    });
  }

  /**
   * Resolves the event against the source's people (sync/identity.ts) and writes the result in one
   * transaction: the person conditional on what was read, merged records deleted, and the source's
   * snapshot time unchanged. A lost race is read again (up to 5 times). Reads the source's people
   * filtered by email and employeeId: one Query over the source's items.
   */
  async applyPersonEvent(source: string, person: Person, occurredAt: string): Promise<EventOutcome> {
    return this.table.guard('applyPersonEvent', async () => {
      const at = canonicalTime('applyPersonEvent', occurredAt);
      for (let attempt = 1; ; attempt += 1) {
        const [candidates, snapshotAt] = await Promise.all([this.candidates(source, person), this.snapshotTime(source)]);
        const r = resolvePersonEvent(indexRecords(candidates), person, at, { snapshotAt });
        if (r.kind === 'stale') return 'stale';
        if (await this.writeResolved(source, r.person, r.lastEventAt, r.current, r.remove, snapshotAt, r.leftSource)) return r.leftSource ? 'stale' : 'applied';
        if (attempt >= WRITE_ATTEMPTS) throw new StateError(`applyPersonEvent: source ${source} kept changing; ${WRITE_ATTEMPTS} attempts lost the race`);
      }
    });
  }

  async replaceSource(source: string, people: Person[], occurredAt: string): Promise<ReplaceSourceResult> {
    return this.table.guard('replaceSource', async () => {
      const at = canonicalTime('replaceSource', occurredAt);
      // the source's snapshot time first: from here on, person events older than this snapshot are stale
      const newest = await conditional(() =>
        this.table.put({
          Item: { ...keys.source(source), snapshotAt: at },
          ConditionExpression: 'attribute_not_exists(#pk) OR #snap <= :t',
          ExpressionAttributeNames: { '#pk': 'pk', '#snap': 'snapshotAt' },
          ExpressionAttributeValues: { ':t': at },
        }),
      );
      if (!newest) return this.joinStale(source, people, at);
      const { result, upserts, leaves } = planReplaceSource(await this.sourcePeople(source), people, at);
      const writes: (() => Promise<keyof ReplaceSourceResult>)[] = [
        ...upserts.map((w) => async () => {
          const written =
            w.remove.length === 0 ? await this.putPersonIfNewer(source, w.person, w.lastEventAt) : await this.writeResolved(source, w.person, w.lastEventAt, w.current, w.remove, null, w.leftSource);
          return written ? 'upserted' : 'stale';
        }),
        ...leaves.map((current) => async () => ((await this.markLeft(current, at)) ? 'left' : 'stale')),
      ];
      const outcomes = await this.table.mapWrites(writes, (write) => write());
      for (const outcome of outcomes) result[outcome] += 1;
      return result;
    });
  }

  /** What replaceSource would change now: nothing for a snapshot older than the source's last one (two reads, no write). */
  async previewReplaceSource(source: string, people: Person[], occurredAt: string): Promise<ReplacePreview> {
    return this.table.guard('previewReplaceSource', async () => {
      const at = canonicalTime('previewReplaceSource', occurredAt);
      const [stored, snapshotAt] = await Promise.all([this.sourcePeople(source), this.snapshotTime(source)]);
      return previewOf(stored, people, at, snapshotAt);
    });
  }

  async putSnapshotPart(source: string, snapshotId: string, part: number, parts: number, people: Person[], ttlSeconds = SNAPSHOT_TTL_SECONDS): Promise<SnapshotPartResult> {
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
          expiresAt: this.table.nowSeconds() + ttlSeconds,
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

  /** A snapshot older than the source's last one: only the merges its rows with an id imply (planStaleJoins). */
  private async joinStale(source: string, people: Person[], at: string): Promise<ReplaceSourceResult> {
    const snapshotAt = (await this.snapshotTime(source)) ?? at;
    const joins = planStaleJoins(await this.sourcePeople(source), people, at, snapshotAt);
    const written = await this.table.mapWrites(joins, (w) => this.writeResolved(source, w.person, w.lastEventAt, w.current, w.remove, null, w.leftSource));
    const upserted = written.filter(Boolean).length;
    return { upserted, left: 0, unchanged: 0, stale: people.length - upserted };
  }

  /** Every source's snapshot time (one small Query). */
  private async snapshotTimes(): Promise<Map<string, string>> {
    const items = await this.table.queryAll({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':pk': SOURCES_PK },
      ConsistentRead: true,
    });
    return new Map(items.map((raw) => this.table.parse(SourceItemSchema, raw, 'source', raw)).map((item) => [item.sk, item.snapshotAt]));
  }

  private async snapshotTime(source: string): Promise<string | undefined> {
    const key = keys.source(source);
    return (await this.table.getItem(SourceItemSchema, key, 'source'))?.snapshotAt;
  }

  /** The source's people with this email or this employeeId (what identity resolution needs of them). */
  private async candidates(source: string, person: Person): Promise<PersonItem[]> {
    const byId = person.employeeId !== undefined;
    const items = await this.table.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      FilterExpression: byId ? '#email = :email OR #emp = :emp' : '#email = :email',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#email': 'email', ...(byId ? { '#emp': 'employeeId' } : {}) },
      ExpressionAttributeValues: { ':pk': PEOPLE_PK, ':prefix': keys.personPrefix(source), ':email': person.email, ...(byId ? { ':emp': person.employeeId } : {}) },
      ConsistentRead: true,
    });
    return items.map((raw) => this.table.parse(PersonItemSchema, raw, 'person', raw)).filter((item) => item.source === source);
  }

  /**
   * One transaction: put the person (conditional on the record read being unchanged, or absent), delete
   * the merged records (each unchanged), and, for a person event, check the source's snapshot time is
   * still what was read. False when any of it changed meanwhile.
   */
  private async writeResolved(
    source: string,
    person: Person,
    at: string,
    current: PersonItem | undefined,
    remove: readonly PersonItem[],
    snapshotAt?: string | null,
    leftSource = false,
  ): Promise<boolean> {
    const unchanged = (item: PersonItem) => ({
      ConditionExpression: '#at = :seen',
      ExpressionAttributeNames: { '#at': 'lastEventAt' },
      ExpressionAttributeValues: { ':seen': item.lastEventAt },
    });
    const TableName = this.table.tableName;
    return this.table.transactWrite([
      {
        Put: {
          TableName,
          Item: this.personItem(source, person, at, leftSource),
          ...(current ? unchanged(current) : { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }),
        },
      },
      ...remove.map((item) => ({ Delete: { TableName, Key: { pk: item.pk, sk: item.sk }, ...unchanged(item) } })),
      ...(snapshotAt === null
        ? []
        : [
            {
              ConditionCheck: {
                TableName,
                Key: keys.source(source),
                ...(snapshotAt === undefined
                  ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }
                  : { ConditionExpression: '#snap = :snap', ExpressionAttributeNames: { '#snap': 'snapshotAt' }, ExpressionAttributeValues: { ':snap': snapshotAt } }),
              },
            },
          ]),
    ]);
  }

  /**
   * Puts a person under an identity its channel assigns (SCIM: `scim:<id>`), unconditionally: the
   * channel orders its own writes (a SCIM resource's version). Other sources still meet it by email
   * and employeeId (speakingPeople).
   */
  async putIdentifiedPerson(source: string, identity: string, person: Person, lastEventAt: string): Promise<void> {
    await this.table.guard('putIdentifiedPerson', async () => {
      const at = canonicalTime('putIdentifiedPerson', lastEventAt);
      await this.table.put({ Item: { ...this.personItem(source, person, at), ...keys.person(source, identity), identity } });
    });
  }

  private personItem(source: string, person: Person, at: string, leftSource = false): PersonItem {
    const identity = personIdentity(person);
    return {
      ...keys.person(source, identity),
      email: person.email,
      employeeId: person.employeeId,
      status: person.status,
      attributes: { ...person.attributes },
      source,
      identity,
      lastEventAt: at,
      leftSource,
    };
  }

  /** Conditional put `attribute_not_exists(pk) OR lastEventAt < :t`; false when the stored person is as new or newer. */
  private async putPersonIfNewer(source: string, person: Person, at: string): Promise<boolean> {
    const item = this.personItem(source, person, at);
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
