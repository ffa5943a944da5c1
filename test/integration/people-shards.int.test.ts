// test --> DynamoStateStore --> DynamoDB Local: people in 16 shards (pk `PEOPLE#<shard>`), the digest per
// shard that lets a warm store skip reading people, the per-key write counts, and the migration of the
// legacy partition (pk `PEOPLE`, as main at 67e0d9d wrote it). A fresh table per test, so counts are exact.
import { afterAll, describe, expect, it } from 'vitest';
import { BatchWriteItemCommand, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { PersonItemSchema } from '../../functions/state/items.schema.ts';
import { LEGACY_PEOPLE_PK, PEOPLE_SHARDS, keys, peopleShard } from '../../functions/state/keys.ts';
import { PEOPLE_WRITES_PER_TRANSACTION } from '../../functions/state/people-store.ts';
import { KEY_WRITE_UNITS_PER_SECOND } from '../../functions/state/table.ts';
import { personIdentity } from '../../functions/sync/people.ts';
import type { Person } from '../../functions/sync/types.ts';
import { dyingClient, localDynamoClient } from '../helpers/dynamo.ts';
import { T0, iso, person } from '../helpers/store-contract.ts';
import { peopleTables, sortedPeople } from '../helpers/people-tables.ts';

const client: DynamoDBClient = localDynamoClient();

afterAll(() => {
  client.destroy();
});

const { freshTable, storeOn } = peopleTables(client);
const sorted = sortedPeople;

/** Person items exactly as main at 67e0d9d wrote them: pk `PEOPLE`, sk `<source>#<identity>` (checked by the landed shape). */
function legacyItem(source: string, p: Person, lastEventAt: string, leftSource = false): Record<string, unknown> {
  const identity = personIdentity(p);
  return PersonItemSchema.parse({ pk: 'PEOPLE', sk: `${source}#${identity}`, ...p, source, identity, lastEventAt, leftSource });
}

async function putRaw(tableName: string, items: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    const RequestItems = { [tableName]: items.slice(i, i + 25).map((item) => ({ PutRequest: { Item: marshall(item, { removeUndefinedValues: true }) } })) };
    const out = await client.send(new BatchWriteItemCommand({ RequestItems }));
    expect(Object.keys(out.UnprocessedItems ?? {})).toEqual([]);
  }
}

async function countPk(tableName: string, pk: string): Promise<number> {
  const out = await client.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } }, Select: 'COUNT', ConsistentRead: true }));
  return out.Count ?? 0;
}

async function rawItem(tableName: string, key: { pk: string; sk: string }): Promise<Record<string, AttributeValue> | undefined> {
  return (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: key.pk }, sk: { S: key.sk } }, ConsistentRead: true }))).Item;
}

describe('Function: DynamoPeopleStore shards and digests', () => {
  it('spreads people over the 16 shards, and a warm store reads no people until a shard changes, then that shard alone', async () => {
    // Prepare
    const tableName = await freshTable('shards');
    const writer = storeOn(tableName);
    const reader = storeOn(tableName);
    await writer.replaceSource('hr', Array.from({ length: 320 }, (_, i) => person(i)), iso(1));
    const counts = await Promise.all(Array.from({ length: PEOPLE_SHARDS }, (_, s) => countPk(tableName, `PEOPLE#${s}`)));
    const cold = await reader.listPeople();

    // Act
    reader.resetStats();
    const warm = await reader.listPeople();
    const warmStats = reader.stats();
    await writer.applyPersonEvent('hr', person(5, { attributes: { department: 'ops' } }), iso(2));
    reader.resetStats();
    const changed = await reader.listPeople();
    const changedStats = reader.stats();

    // Assess: every shard holds people (and its digest); 320 / 16 = 20 each, ± what a hash gives
    expect(counts.reduce((a, b) => a + b, 0)).toBe(320 + PEOPLE_SHARDS);
    expect(Math.min(...counts)).toBeGreaterThan(5);
    expect(cold).toHaveLength(320);
    // the digests (one BatchGetItem), the legacy partition (Query, Limit 1) and the sources' snapshot times
    expect(warmStats.reads).toBe(3);
    expect(sorted(warm)).toEqual(sorted(cold));
    expect(changedStats.reads).toBe(4);
    expect(changed.find((p) => p.email === person(5).email)?.attributes).toEqual({ department: 'ops' });
  });

  it('changes the digest with every write path: a store whose cache is warm sees each change as a fresh store does', async () => {
    // Prepare
    const tableName = await freshTable('digest');
    const writer = storeOn(tableName);
    const warm = storeOn(tableName);
    // every shard written once, so every shard has a digest and the warm store caches each of them
    await writer.replaceSource('seed', Array.from({ length: 160 }, (_, i) => person(1_000 + i)), iso(0));
    const digests = await Promise.all(Array.from({ length: PEOPLE_SHARDS }, (_, s) => rawItem(tableName, keys.peopleDigest(s))));
    expect(digests.every((d) => d?.token?.S !== undefined)).toBe(true);
    const fresh = () => storeOn(tableName).listPeople();
    let before = await warm.listPeople();
    const step = async (name: string, write: () => Promise<unknown>) => {
      const outcome = await write();
      const seen = sorted(await warm.listPeople());
      // Assess (each step): the change shows, and the warm store reads what a fresh one reads
      expect(seen, `${name}: ${JSON.stringify(outcome)}`).not.toEqual(before);
      expect(seen, name).toEqual(sorted(await fresh()));
      before = seen;
      return outcome;
    };

    // Act
    await step('applyPersonEvent: a new person', () => writer.applyPersonEvent('hr', person(1), iso(1)));
    await step('applyPersonEvent: a change', () => writer.applyPersonEvent('hr', person(1, { attributes: { department: 'ops' } }), iso(2)));
    await step('applyPersonEvent: email only', () => writer.applyPersonEvent('hr', { email: 'solo@example.com', status: 'active', attributes: {} }, iso(3)));
    await step('applyPersonEvent: a merge (the email-only record removed)', () => writer.applyPersonEvent('hr', { email: 'solo@example.com', employeeId: 'E9', status: 'active', attributes: {} }, iso(4)));
    await step('applyPersonEvent: terminated', () => writer.applyPersonEvent('hr', person(1, { status: 'terminated' }), iso(5)));
    await step('replaceSource: upserts and a leave', () => writer.replaceSource('hr', [person(1), person(2)], iso(10)));
    await step('applyPersonEvent: email only, after the snapshot', () => writer.applyPersonEvent('hr', { email: 'late@example.com', status: 'active', attributes: {} }, iso(11)));
    await step('replaceSource: a merge', () => writer.replaceSource('hr', [person(1), person(2), { email: 'late@example.com', employeeId: 'E7', status: 'active', attributes: {} }], iso(20)));
    await step('replaceSource: another source', () => writer.replaceSource('crm', [person(3)], iso(21)));
    await step('putIdentifiedPerson', () => writer.people.putIdentifiedPerson('scim', 'scim:abc', person(4), iso(22)));
    await step('putIdentifiedPerson: again', () => writer.people.putIdentifiedPerson('scim', 'scim:abc', person(4, { attributes: { department: 'ops' } }), iso(23)));
    await step('replaceSource: an empty roster (every person leaves)', () => writer.replaceSource('crm', [], iso(30)));
    await step('a legacy person, migrated by the next listPeople', () => putRaw(tableName, [legacyItem('old', person(8), iso(1))]));
  });

  it('counts write units per partition key per second: a snapshot of 3 000 people spreads them over the shards', async () => {
    // Prepare
    const tableName = await freshTable('per-key');
    const store = storeOn(tableName);
    const people = Array.from({ length: 3_000 }, (_, i) => person(i, { attributes: { department: 'eng', title: `Engineer ${i}`, location: 'Berlin' } }));

    // Act
    const started = Date.now();
    const result = await store.replaceSource('hr', people, iso(1));
    const ms = Date.now() - started;
    const stats = store.stats();
    console.log(
      `[shards] replaceSource of ${people.length}: ${ms} ms, ${stats.writes} write calls, ${stats.writeUnits} WU reported by Local, ${stats.computedWriteUnits} computed, ` +
        `max ${stats.maxWriteUnitsPerKeySecond} WU in one second on ${stats.maxWriteUnitsKey}`,
    );

    // Assess: transactions of 24 people (2 units each, and 2 × 2 for their index items by email and by
    // employeeId, each on a key of its own) and the digest; no shard above its share of the people's units, with slack
    expect(result.upserted).toBe(3_000);
    expect(stats.writes).toBeLessThanOrEqual(Math.ceil(3_000 / PEOPLE_WRITES_PER_TRANSACTION) + PEOPLE_SHARDS + 1);
    expect(stats.maxWriteUnitsKey).toMatch(/^PEOPLE#\d+$/);
    const indexUnits = 3_000 * 2 * 2;
    const share = (stats.computedWriteUnits - indexUnits) / PEOPLE_SHARDS;
    expect(stats.computedWriteUnits).toBeGreaterThanOrEqual(3_000 * 2 + indexUnits);
    expect(stats.maxWriteUnitsPerKeySecond).toBeLessThanOrEqual(share * 1.5);
    expect(stats.maxWriteUnitsPerKeySecond).toBeLessThanOrEqual(KEY_WRITE_UNITS_PER_SECOND);
  });

  it('paces each shard to keyWriteUnitsPerSecond: a cap of 100 holds every key at or under 100 units a second', async () => {
    // Prepare: 1 600 people, ~100 a shard: ~200 units a shard on its key, so ~2 transactions of 24 (50 units there) must wait a second
    const tableName = await freshTable('paced');
    const store = new DynamoStateStore({ tableName, client, now: () => T0, keyWriteUnitsPerSecond: 100 });

    // Act
    const started = Date.now();
    const result = await store.replaceSource('hr', Array.from({ length: 1_600 }, (_, i) => person(i)), iso(1));
    const ms = Date.now() - started;
    const stats = store.stats();
    console.log(`[shards] paced to 100 WU a key a second: 1600 people in ${ms} ms, max ${stats.maxWriteUnitsPerKeySecond} WU in one second on ${stats.maxWriteUnitsKey}`);

    // Assess
    expect(result.upserted).toBe(1_600);
    expect(stats.maxWriteUnitsPerKeySecond).toBeLessThanOrEqual(100);
    expect(ms).toBeGreaterThanOrEqual(1_000);
  });
});

describe('Function: DynamoPeopleStore.migrateLegacyPeople', () => {
  it('moves the legacy partition under a lease, resumes after a crash from its checkpoint, and is idempotent; readers see everyone meanwhile', async () => {
    // Prepare: 450 legacy people (three pages of 200); one also has a newer copy in its shard, one an older copy
    const tableName = await freshTable('migrate');
    const legacy = Array.from({ length: 450 }, (_, i) => legacyItem('hr', person(i), iso(1), i % 10 === 0));
    await putRaw(tableName, legacy);
    const newer = { ...legacyItem('hr', person(7, { attributes: { department: 'newer' } }), iso(5)), pk: keys.person('hr', 'emp:E7').pk };
    const older = { ...legacyItem('hr', person(8, { attributes: { department: 'older' } }), iso(0)), pk: keys.person('hr', 'emp:E8').pk };
    await putRaw(tableName, [newer, older]);

    // Act: the first migration dies at its 20th transaction (page 1 took 16 or fewer, one per shard)
    const dying = dyingClient(19);
    const crashed: unknown = await storeOn(tableName, { client: dying.client }).people.migrateLegacyPeople().catch((e: unknown) => e);
    await dying.settled();
    const checkpoint = await rawItem(tableName, keys.peopleMigration());
    const leftAfterCrash = await countPk(tableName, LEGACY_PEOPLE_PK);
    // a reader while the dead owner's lease runs: its own migration is busy, so it reads both
    const reader = storeOn(tableName, { now: T0 + 1_000 });
    const during = await reader.listPeople();
    const busy = await reader.people.migrateLegacyPeople();
    // after the lease expired: another process resumes, and a third run finds nothing to do (the dead
    // process's transactions already in flight may still have landed: count again)
    const leftBeforeResume = await countPk(tableName, LEGACY_PEOPLE_PK);
    const later = storeOn(tableName, { now: T0 + 120_000 });
    const resumed = await later.people.migrateLegacyPeople();
    const again = await later.people.migrateLegacyPeople();
    const after = await storeOn(tableName).listPeople();
    const done = await rawItem(tableName, keys.peopleMigration());

    // Assess
    expect(String(crashed)).toContain('the process died here');
    expect(checkpoint?.lastSk?.S).toMatch(/^hr#/);
    expect(leftAfterCrash).toBeGreaterThan(0);
    expect(leftAfterCrash).toBeLessThan(450 - 200 + 1);
    expect(busy).toEqual({ outcome: 'busy', moved: 0 });
    expect(during).toHaveLength(450);
    expect(resumed.outcome).toBe('done');
    expect(resumed.moved).toBe(leftBeforeResume);
    expect(again).toEqual({ outcome: 'done', moved: 0 });
    expect(await countPk(tableName, LEGACY_PEOPLE_PK)).toBe(0);
    expect(done?.doneAt?.S).toBeDefined();
    expect(done?.owner).toBeUndefined();
    expect(sorted(after)).toEqual(sorted(during));
    // newest lastEventAt wins: the newer shard copy stays, the older one gives way to the legacy person
    expect(after.find((p) => p.identity === 'emp:E7')).toMatchObject({ attributes: { department: 'newer' }, lastEventAt: iso(5) });
    expect(after.find((p) => p.identity === 'emp:E8')).toMatchObject({ attributes: person(8).attributes, lastEventAt: iso(1) });
    expect(after.filter((p) => p.leftSource)).toHaveLength(45);
    expect(after.every((p) => peopleShard(`${p.source}#${p.identity}`) >= 0)).toBe(true);
  });

  it('writes through a legacy person before the migration: the legacy item goes in the same transaction, nothing resurfaces', async () => {
    // Prepare: legacy people, and a reader whose lease-holding migration is "elsewhere" (a live lease of another owner)
    const tableName = await freshTable('migrate-writes');
    await putRaw(tableName, [legacyItem('hr', person(1), iso(1)), legacyItem('hr', { email: 'solo@example.com', status: 'active', attributes: {} }, iso(1)), legacyItem('hr', person(3), iso(1))]);
    await putRaw(tableName, [{ ...keys.peopleMigration(), owner: 'someone-else', leaseExpiresAt: T0 + 600_000 }]);
    const store = storeOn(tableName);

    // Act: an update, a merge of the legacy email-only record, a snapshot that leaves person 3
    const updated = await store.applyPersonEvent('hr', person(1, { attributes: { department: 'ops' } }), iso(2));
    const merged = await store.applyPersonEvent('hr', { email: 'solo@example.com', employeeId: 'E9', status: 'active', attributes: {} }, iso(3));
    const replaced = await store.replaceSource('hr', [person(1, { attributes: { department: 'ops' } }), { email: 'solo@example.com', employeeId: 'E9', status: 'active', attributes: {} }], iso(4));
    const people = await store.listPeople();

    // Assess
    expect([updated, merged]).toEqual(['applied', 'applied']);
    expect(replaced).toMatchObject({ left: 1, unchanged: 2 });
    expect(await countPk(tableName, LEGACY_PEOPLE_PK)).toBe(0);
    expect(sorted(people).map((p) => [p.identity, p.leftSource])).toEqual([
      ['emp:E1', false],
      ['emp:E3', true],
      ['emp:E9', false],
    ]);
  });
});
