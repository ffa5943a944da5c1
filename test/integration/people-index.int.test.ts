// test --> DynamoStateStore --> DynamoDB Local: the person index (pk `PERSONBYEMAIL#<source>#<email>` and
// `PERSONBYEMP#<source>#<employeeId>`, sk `<identity>`) that person events read instead of filtering all 17
// people partitions, and its backfill (marker `PEOPLEINDEX`) on tables today's landed code wrote: person items
// in their shards and in the legacy partition `PEOPLE`, and no index item. A fresh table per test.
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { BatchGetItemCommand, BatchWriteItemCommand, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, BatchGetItemCommandOutput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { PersonItemSchema } from '../../functions/state/items.schema.ts';
import { LEGACY_PEOPLE_PK, PEOPLE_SHARD_PKS, keys, peopleShard } from '../../functions/state/keys.ts';
import { personIdentity } from '../../functions/sync/people.ts';
import type { Person, StoredPerson } from '../../functions/sync/types.ts';
import { dyingClient, localDynamoClient } from '../helpers/dynamo.ts';
import { T0, iso, person } from '../helpers/store-contract.ts';
import { peopleTables, sortedPeople } from '../helpers/people-tables.ts';

const client: DynamoDBClient = localDynamoClient();

afterAll(() => {
  client.destroy();
});

const { freshTable, storeOn } = peopleTables(client);
const sorted = sortedPeople;
const emailOnly = (email: string, extra: Partial<Person> = {}): Person => ({ email, status: 'active', attributes: {}, ...extra });

/** A person item as today's landed code writes it: its shard (`legacy`: pk `PEOPLE`, as versions before the shards), no index item. */
function landedItem(source: string, p: Person, lastEventAt: string, legacy = false): Record<string, unknown> {
  const identity = personIdentity(p);
  const key = legacy ? keys.legacyPerson(source, identity) : keys.person(source, identity);
  return PersonItemSchema.parse({ ...key, ...p, source, identity, lastEventAt, leftSource: false });
}

async function putRaw(tableName: string, items: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    const RequestItems = { [tableName]: items.slice(i, i + 25).map((item) => ({ PutRequest: { Item: marshall(item, { removeUndefinedValues: true }) } })) };
    const out = await client.send(new BatchWriteItemCommand({ RequestItems }));
    expect(Object.keys(out.UnprocessedItems ?? {})).toEqual([]);
  }
}

/** Person items in today's format, and a digest token in every shard written (as today's writes leave them). */
async function seedLanded(tableName: string, items: Record<string, unknown>[]): Promise<void> {
  const shards = new Set(items.filter((i) => i.pk !== LEGACY_PEOPLE_PK).map((i) => peopleShard(String(i.sk))));
  await putRaw(tableName, [...items, ...[...shards].map((s) => ({ ...keys.peopleDigest(s), token: randomUUID() }))]);
}

async function rawItem(tableName: string, key: { pk: string; sk: string }): Promise<Record<string, AttributeValue> | undefined> {
  return (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: key.pk }, sk: { S: key.sk } }, ConsistentRead: true }))).Item;
}

/** Every item of a partition (raw Query). */
async function rawPartition(tableName: string, pk: string): Promise<Record<string, unknown>[]> {
  const out = await client.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } }, ConsistentRead: true }));
  return (out.Items ?? []).map((i) => unmarshall(i));
}

/** Every stored person item (legacy partition and shards, digests left out), read raw. */
async function storedItems(tableName: string): Promise<Record<string, unknown>[]> {
  const parts = await Promise.all([LEGACY_PEOPLE_PK, ...PEOPLE_SHARD_PKS].map((pk) => rawPartition(tableName, pk)));
  return parts.flat().filter((i) => i.sk !== '#DIGEST');
}

/** The index items (keys.personIndex) of the stored people that the table lacks. */
async function missingIndex(tableName: string): Promise<string[]> {
  const people = (await storedItems(tableName)).map((i) => PersonItemSchema.parse(i));
  const wanted = new Map(people.flatMap((p) => keys.personIndex(p)).map((k) => [`${k.pk} ${k.sk}`, k]));
  const found = new Set<string>();
  const list = [...wanted.values()];
  for (let i = 0; i < list.length; i += 100) {
    let pending: Record<string, AttributeValue>[] | undefined = list.slice(i, i + 100).map((k) => ({ pk: { S: k.pk }, sk: { S: k.sk } }));
    while (pending && pending.length > 0) {
      const out: BatchGetItemCommandOutput = await client.send(new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }));
      for (const item of out.Responses?.[tableName] ?? []) found.add(`${item.pk?.S} ${item.sk?.S}`);
      pending = out.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return [...wanted.keys()].filter((k) => !found.has(k));
}

/** Today's landed table: hr people in shards (with and without employeeId), legacy people (one also in its shard, older), and crm sharing an email. */
function landedPeople(): Record<string, unknown>[] {
  return [
    ...Array.from({ length: 40 }, (_, i) => landedItem('hr', person(i), iso(1))),
    ...Array.from({ length: 5 }, (_, i) => landedItem('hr', emailOnly(`solo${i}@example.com`), iso(1))),
    ...Array.from({ length: 5 }, (_, i) => landedItem('hr', person(100 + i), iso(1), true)),
    landedItem('hr', emailOnly('oldsolo@example.com'), iso(1), true),
    landedItem('hr', person(5, { attributes: { department: 'older' } }), iso(0), true),
    landedItem('crm', person(0, { attributes: { department: 'crm' } }), iso(1)),
  ];
}

/** The same events against either store: merges, an email change and both of its emails, legacy people, stale, a refusal, another source. */
const EVENTS: [string, Person, string][] = [
  ['hr', { email: 'solo0@example.com', employeeId: 'E900', status: 'active', attributes: { department: 'joined' } }, iso(10)],
  ['hr', person(1, { attributes: { department: 'ops' } }), iso(11)],
  ['hr', { ...person(2), email: 'changed2@example.com' }, iso(12)],
  ['hr', emailOnly('changed2@example.com', { attributes: { department: 'by new email' } }), iso(13)],
  ['hr', emailOnly('person2@example.com', { attributes: { department: 'by old email' } }), iso(14)],
  ['hr', person(100, { attributes: { department: 'legacy' } }), iso(15)],
  ['hr', { email: 'oldsolo@example.com', employeeId: 'E901', status: 'active', attributes: {} }, iso(16)],
  ['hr', person(5, { attributes: { department: 'newest' } }), iso(17)],
  ['hr', person(3, { attributes: { department: 'too old' } }), iso(0)],
  ['hr', { email: 'person4@example.com', employeeId: 'E904', status: 'active', attributes: {} }, iso(18)],
  ['crm', person(0, { attributes: { department: 'crm too' } }), iso(19)],
  ['hr', person(6, { status: 'terminated' }), iso(20)],
  ['hr', person(200), iso(21)],
  ['hr', emailOnly('solo1@example.com', { attributes: { department: 'solo again' } }), iso(22)],
];

/** Applies EVENTS one by one: each outcome (or error message) and the reads it took. */
async function applyAll(store: DynamoStateStore): Promise<{ outcomes: string[]; reads: number[] }> {
  const outcomes: string[] = [];
  const reads: number[] = [];
  for (const [source, p, at] of EVENTS) {
    store.resetStats();
    outcomes.push(await store.applyPersonEvent(source, p, at).catch((e: unknown) => `error: ${e instanceof Error ? e.message : String(e)}`));
    reads.push(store.stats().reads);
  }
  return { outcomes, reads };
}

describe('Function: DynamoPeopleStore person index on a table today\'s code wrote', () => {
  it('resolves person events through the index exactly as the filtered read did, in at most 4 reads instead of 18', async () => {
    // Prepare: two tables seeded alike; on one the backfill ran (legacy items kept: no listPeople, no migration)
    const [filtered, indexed] = await Promise.all([freshTable('pidx-filtered'), freshTable('pidx-indexed')]);
    await Promise.all([seedLanded(filtered, landedPeople()), seedLanded(indexed, landedPeople())]);
    const before = await missingIndex(indexed);
    const backfill = await storeOn(indexed).people.backfillPersonIndex();
    const missingAfter = await missingIndex(indexed);

    // Act
    const old = await applyAll(storeOn(filtered));
    const store = storeOn(indexed);
    await store.people.backfillPersonIndex(); // this instance sees the marker done
    const now = await applyAll(store);
    const [peopleOld, peopleNow] = await Promise.all([storeOn(filtered).listPeople(), storeOn(indexed).listPeople()]);
    console.log(`[person index] reads per event: filtered ${old.reads.join(' ')}; indexed ${now.reads.join(' ')}`);

    // Assess
    expect(before.length).toBe(2 * 40 + 5 + 2 * 5 + 1 + 2); // the older legacy copy of person 5 needs the same two as its shard copy
    expect(backfill).toEqual({ outcome: 'done', indexed: 40 + 5 + 5 + 1 + 1 + 1 });
    expect(missingAfter).toEqual([]);
    expect(now.outcomes).toEqual(old.outcomes);
    expect(old.outcomes).toEqual(['applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'stale', expect.stringContaining('another active person'), 'applied', 'applied', 'applied', 'applied']);
    expect(sorted(peopleNow)).toEqual(sorted(peopleOld));
    expect(Math.max(...now.reads)).toBeLessThanOrEqual(4);
    // the filtered read: the marker, 17 Queries, the snapshot time
    expect(Math.min(...old.reads)).toBeGreaterThanOrEqual(19);
    const hr = (p: StoredPerson) => p.source === 'hr';
    expect(peopleNow.filter(hr).find((p) => p.identity === 'emp:E900')).toMatchObject({ email: 'solo0@example.com', attributes: { department: 'joined' } });
    expect(peopleNow.find((p) => p.identity === 'email:solo0@example.com')).toBeUndefined();
    expect(peopleNow.filter(hr).find((p) => p.identity === 'emp:E2')).toMatchObject({ email: 'changed2@example.com', attributes: { department: 'by new email' } });
    expect(peopleNow.filter(hr).find((p) => p.identity === 'email:person2@example.com')).toMatchObject({ attributes: { department: 'by old email' } });
    expect(peopleNow.filter(hr).find((p) => p.identity === 'emp:E5')).toMatchObject({ attributes: { department: 'newest' } });
    expect(peopleNow.find((p) => p.source === 'crm')).toMatchObject({ attributes: { department: 'crm too' } });
  });

  it('backfills on the first listPeople after the legacy migration: marker done, every person indexed; a second backfill does nothing', async () => {
    // Prepare
    const tableName = await freshTable('pidx-list');
    await seedLanded(tableName, landedPeople());
    const store = storeOn(tableName);
    store.resetStats();
    const first = await store.applyPersonEvent('hr', { email: 'solo0@example.com', employeeId: 'E900', status: 'active', attributes: {} }, iso(10));
    const readsBefore = store.stats().reads;

    // Act
    const people = await store.listPeople();
    const marker = await rawItem(tableName, keys.peopleIndex());
    const missing = await missingIndex(tableName);
    const legacyLeft = (await rawPartition(tableName, LEGACY_PEOPLE_PK)).length;
    const again = await storeOn(tableName).people.backfillPersonIndex();
    store.resetStats();
    const second = await store.applyPersonEvent('hr', { email: 'solo1@example.com', employeeId: 'E901', status: 'active', attributes: {} }, iso(11));
    const readsAfter = store.stats().reads;
    const fresh = await storeOn(tableName).listPeople();

    // Assess: before the backfill the filtered read merged the email-only record (the marker, 17 Queries, the snapshot time)
    expect(first).toBe('applied');
    expect(readsBefore).toBeGreaterThanOrEqual(19);
    expect(people.find((p) => p.identity === 'email:solo0@example.com')).toBeUndefined();
    expect(people.find((p) => p.identity === 'emp:E900')?.email).toBe('solo0@example.com');
    expect(legacyLeft).toBe(0);
    expect(marker?.doneAt?.S).toBeDefined();
    expect(marker?.owner).toBeUndefined();
    expect(missing).toEqual([]);
    expect(again).toEqual({ outcome: 'done', indexed: 0 });
    expect(second).toBe('applied');
    expect(readsAfter).toBeLessThanOrEqual(4);
    expect(fresh.find((p) => p.identity === 'email:solo1@example.com')).toBeUndefined();
    expect(fresh.find((p) => p.identity === 'emp:E901')?.email).toBe('solo1@example.com');
  });

  it('resumes a backfill that died from its checkpoint once its lease ran out; meanwhile person events read the filtered way', async () => {
    // Prepare: 450 people, ~28 a shard (one page each, 3 BatchWriteItems of index items)
    const tableName = await freshTable('pidx-resume');
    await seedLanded(tableName, Array.from({ length: 450 }, (_, i) => landedItem('hr', person(i), iso(1))));
    const dying = dyingClient(20, /BatchWrite/);

    // Act: the first backfill dies at its 21st BatchWriteItem (past some shards)
    const crashed: unknown = await storeOn(tableName, { client: dying.client }).people.backfillPersonIndex().catch((e: unknown) => e);
    await dying.settled();
    const checkpoint = await rawItem(tableName, keys.peopleIndex());
    // a reader while the dead owner's lease runs: its listPeople's backfill is busy, its events read the filtered way
    const reader = storeOn(tableName, { now: T0 + 1_000 });
    const during = await reader.listPeople();
    const busy = await reader.people.backfillPersonIndex();
    reader.resetStats();
    const event = await reader.applyPersonEvent('hr', { ...person(7), email: 'new7@example.com' }, iso(2));
    const eventReads = reader.stats().reads;
    const later = storeOn(tableName, { now: T0 + 120_000 });
    const resumed = await later.people.backfillPersonIndex();
    const done = await rawItem(tableName, keys.peopleIndex());
    const missing = await missingIndex(tableName);
    later.resetStats();
    const byNewEmail = await later.applyPersonEvent('hr', emailOnly('new7@example.com', { attributes: { department: 'found' } }), iso(3));
    const laterReads = later.stats().reads;
    const people = await storeOn(tableName).listPeople();

    // Assess
    expect(String(crashed)).toContain('the process died here');
    expect(checkpoint?.checkpointPk?.S).toMatch(/^PEOPLE#\d+$/);
    expect(checkpoint?.doneAt).toBeUndefined();
    expect(during).toHaveLength(450);
    expect(busy).toEqual({ outcome: 'busy', indexed: 0 });
    expect(event).toBe('applied');
    expect(eventReads).toBeGreaterThanOrEqual(19);
    expect(resumed.outcome).toBe('done');
    expect(resumed.indexed).toBeGreaterThan(0);
    expect(resumed.indexed).toBeLessThan(450);
    expect(Number(done?.indexed?.N)).toBeGreaterThanOrEqual(450);
    expect(done?.doneAt?.S).toBeDefined();
    expect(missing).toEqual([]);
    expect(byNewEmail).toBe('applied');
    expect(laterReads).toBeLessThanOrEqual(4);
    expect(people).toHaveLength(450);
    expect(people.find((p) => p.identity === 'emp:E7')).toMatchObject({ email: 'new7@example.com', attributes: { department: 'found' } });
  });
});

describe('Function: DynamoPeopleStore person index and older versions', () => {
  it('finds a person an older version wrote after the backfill (no index items) once an event of theirs loses the race, and indexes them', async () => {
    // Prepare: the backfill done; then today's landed code writes a new person (shard item, no index item)
    const tableName = await freshTable('pidx-older');
    const store = storeOn(tableName);
    await store.listPeople();
    await seedLanded(tableName, [landedItem('hr', person(1), iso(1))]);
    const before = await missingIndex(tableName);

    // Act: the index finds nobody, the write's condition (no item at emp:E1) fails, the retry reads the filtered way
    const outcome = await store.applyPersonEvent('hr', person(1, { attributes: { department: 'ops' } }), iso(2));
    const after = await missingIndex(tableName);
    store.resetStats();
    const next = await store.applyPersonEvent('hr', emailOnly('person1@example.com', { attributes: { department: 'by email' } }), iso(3));
    const reads = store.stats().reads;
    const people = await storeOn(tableName).listPeople();

    // Assess
    expect(before).toHaveLength(2);
    expect(outcome).toBe('applied');
    expect(after).toEqual([]);
    expect(next).toBe('applied');
    expect(reads).toBeLessThanOrEqual(4);
    expect(people.map((p) => [p.identity, p.attributes.department])).toEqual([['emp:E1', 'by email']]);
  });
});

describe('Function: DynamoPeopleStore person index writes', () => {
  it('follows an email change: the new email finds the person, the old one no longer does (its index item stays, stale, and finds nobody)', async () => {
    // Prepare: a fresh table (its first listPeople marks the index done)
    const tableName = await freshTable('pidx-email');
    const store = storeOn(tableName);
    await store.listPeople();
    await store.applyPersonEvent('hr', person(1), iso(1));
    const oldKey = keys.personIndex({ source: 'hr', identity: 'emp:E1', email: 'person1@example.com' })[0]!;
    const hadOld = await rawItem(tableName, oldKey);

    // Act
    const changed = await store.applyPersonEvent('hr', { ...person(1), email: 'new1@example.com' }, iso(2));
    const oldAfter = await rawItem(tableName, oldKey);
    const byNew = await store.applyPersonEvent('hr', emailOnly('new1@example.com', { attributes: { department: 'by new' } }), iso(3));
    const byOld = await store.applyPersonEvent('hr', emailOnly('person1@example.com', { attributes: { department: 'by old' } }), iso(4));
    const people = sorted(await storeOn(tableName).listPeople());

    // Assess
    expect(hadOld).toBeDefined();
    expect(changed).toBe('applied');
    // index items are never deleted: the stale one names emp:E1, whose email no longer matches
    expect(oldAfter).toEqual(hadOld);
    expect([byNew, byOld]).toEqual(['applied', 'applied']);
    expect(people.map((p) => [p.identity, p.email, p.attributes.department])).toEqual([
      ['email:person1@example.com', 'person1@example.com', 'by old'],
      ['emp:E1', 'new1@example.com', 'by new'],
    ]);
    expect(await missingIndex(tableName)).toEqual([]);
  });

  it('writes index items with replaceSource; those of merged people stay, stale, and find nobody', async () => {
    // Prepare
    const tableName = await freshTable('pidx-snapshot');
    const store = storeOn(tableName);
    await store.listPeople();
    const roster = Array.from({ length: 60 }, (_, i) => person(i));
    await store.replaceSource('hr', roster, iso(1));
    const afterSnapshot = await missingIndex(tableName);

    // Act: an email-only record merged by a person event, another by a snapshot; someone's email changed by a snapshot
    await store.applyPersonEvent('hr', emailOnly('solo@example.com'), iso(2));
    await store.applyPersonEvent('hr', emailOnly('solo2@example.com'), iso(3));
    const soloKey = keys.personIndex({ source: 'hr', identity: 'email:solo@example.com', email: 'solo@example.com' })[0]!;
    const hadSolo = await rawItem(tableName, soloKey);
    await store.applyPersonEvent('hr', { email: 'solo@example.com', employeeId: 'E900', status: 'active', attributes: {} }, iso(4));
    const soloAfter = await rawItem(tableName, soloKey);
    const next = [...roster.slice(1), { ...person(0), email: 'renamed0@example.com' }, { email: 'solo2@example.com', employeeId: 'E901', status: 'active' as const, attributes: {} }, person(900, { email: 'solo@example.com' })];
    const replaced = await store.replaceSource('hr', next, iso(10));
    const byStaleEmail = await store.applyPersonEvent('hr', emailOnly('person0@example.com', { attributes: { department: 'a new one' } }), iso(11));
    const bySolo2 = await store.applyPersonEvent('hr', emailOnly('solo2@example.com', { attributes: { department: 'merged' } }), iso(12));
    const people = await storeOn(tableName).listPeople();

    // Assess
    expect(afterSnapshot).toEqual([]);
    expect(hadSolo).toBeDefined();
    expect(soloAfter).toEqual(hadSolo);
    expect(replaced.upserted).toBeGreaterThanOrEqual(2);
    expect([byStaleEmail, bySolo2]).toEqual(['applied', 'applied']);
    expect(people.find((p) => p.identity === 'emp:E0')).toMatchObject({ email: 'renamed0@example.com' });
    expect(people.find((p) => p.identity === 'email:person0@example.com')).toMatchObject({ attributes: { department: 'a new one' } });
    expect(people.find((p) => p.identity === 'email:solo2@example.com')).toBeUndefined();
    expect(people.find((p) => p.identity === 'emp:E901')).toMatchObject({ email: 'solo2@example.com', attributes: { department: 'merged' } });
    expect(await missingIndex(tableName)).toEqual([]);
  });
});
