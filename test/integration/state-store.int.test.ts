// test --> DynamoStateStore --> DynamoDB Local (a real table per file): the store contract
// (test/helpers/store-contract.ts, also run on MemoryStateStore in test/unit) and what only DynamoDB shows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { DescribeTableCommand, DescribeTimeToLiveCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { SNAPSHOT_GZIP_THRESHOLD_BYTES } from '../../functions/state/people-store.ts';
import { TABLE_DESIGN, createTableIfMissing } from '../../functions/state/table-design.ts';
import { keys } from '../../functions/state/keys.ts';
import { StateError } from '../../functions/sync/errors.ts';
import { localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { T0, describeStoreContract, iso, ledgerEntry as entry, newTarget, person, uniqueId } from '../helpers/store-contract.ts';

const client: DynamoDBClient = localDynamoClient();
const tableName = uniqueTableName('state');

/** A store over the shared table with its own settable clock. */
function makeStore(options: { client?: DynamoDBClient; writeConcurrency?: number } = {}) {
  const clock = { ms: T0 };
  const store = new DynamoStateStore({ tableName, client: options.client ?? client, now: () => clock.ms, writeConcurrency: options.writeConcurrency });
  return { store, clock };
}

beforeAll(async () => {
  await createTableIfMissing(client, tableName);
});

afterAll(() => {
  client.destroy();
});

describeStoreContract('DynamoStateStore', ({ now, writeConcurrency }) => ({
  store: new DynamoStateStore({ tableName, client, now, writeConcurrency }),
  async blockedSnapshot(source, snapshotId) {
    const raw = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: `BLOCKED#${source}` }, sk: { S: snapshotId } } }));
    return raw.Item ? { code: String(raw.Item.code?.S), expiresAt: Number(raw.Item.expiresAt?.N) } : undefined;
  },
}));

describe('Function: createTableIfMissing', () => {
  it('returns quietly for an existing table and leaves the key design and TTL in place', async () => {
    // Act
    await createTableIfMissing(client, tableName);
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));

    // Assess
    expect(out.Table?.TableStatus).toBe('ACTIVE');
    expect(out.Table?.KeySchema).toEqual([
      { AttributeName: TABLE_DESIGN.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_DESIGN.sortKey, KeyType: 'RANGE' },
    ]);
    expect(out.Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: TABLE_DESIGN.ttlAttribute, TimeToLiveStatus: 'ENABLED' });
  });
});

describe('Function: DynamoStateStore, what only DynamoDB shows', () => {
  it('round-trips a part over 300 KB, stored gzipped as binary', async () => {
    const { store } = makeStore();
    const source = uniqueId('hr');
    const snapshotId = uniqueId('big');
    const people = Array.from({ length: 1500 }, (_, i) =>
      person(i, { attributes: { title: randomUUID(), location: randomUUID(), manager: randomUUID(), team: `team-${i}` } }),
    );
    expect(Buffer.byteLength(JSON.stringify(people))).toBeGreaterThan(SNAPSHOT_GZIP_THRESHOLD_BYTES);

    const result = await store.putSnapshotPart(source, snapshotId, 1, 1, people);
    const raw = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: `SNAPSHOT#${source}#${snapshotId}` }, sk: { S: 'PART#000001' } } }),
    );

    expect(result.complete).toBe(true);
    expect(raw.Item?.people?.B).toBeInstanceOf(Uint8Array);
    expect(await store.readSnapshot(source, snapshotId)).toEqual(people);
  });

  it('writes every kind of item under the landed keys and attribute names', async () => {
    // Prepare
    const { store } = makeStore();
    const source = uniqueId('hr');
    const target = newTarget();
    const tk = `${target.instanceId}#${target.orgId}`;
    const runId = uniqueId('run');
    const raw = async (pk: string, sk: string) => {
      const out = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: sk } } }));
      return Object.keys(out.Item ?? {}).sort();
    };

    // Act: one item of each kind, ids upper-cased where keys lower-case them
    await store.applyPersonEvent(source, person(1), iso(1));
    await store.recordDelivery({ source, id: `${source}-d` }, 60);
    await store.putLedgerEntries({ instanceId: target.instanceId.toUpperCase(), orgId: target.orgId }, [entry(1)]);
    await store.acquireLease(target, 'a', 60, { holder: { host: 'h', pid: 7, processStart: 'linux:1' } });
    await store.markDirty([target]);
    await store.putRun({ mode: 'plan', runId, complete: true, targets: [], trigger: 'cli', startedAt: iso(0) }, 60);
    await store.putApproval(target, 'h1', runId);
    await store.putSnapshotPart(source, 's1', 1, 2, [person(2)]);
    await store.putBlockedSnapshot(source, 's2', 'emptySnapshot');

    // Assess
    expect(await raw(keys.person(source, 'emp:E1').pk, `${source}#emp:E1`)).toEqual(['attributes', 'email', 'employeeId', 'identity', 'lastEventAt', 'leftSource', 'pk', 'sk', 'source', 'status']);
    expect(await raw(`DELIVERY#${source}-d`, source)).toEqual(['expiresAt', 'pk', 'sk']);
    expect(await raw(`LEDGER#${tk}`, entry(1).email)).toEqual(['email', 'inviteId', 'invitedAt', 'personEventAt', 'pk', 'renewals', 'role', 'runId', 'sk', 'state', 'updatedAt']);
    expect(await raw(`LEASE#${tk}`, '-')).toEqual(['holder', 'leaseExpiresAt', 'owner', 'pk', 'renewedAt', 'seq', 'sk']);
    expect(await raw(`RUN#${runId}`, '-')).toEqual(['body', 'expiresAt', 'pk', 'sk']);
    expect(await raw(`RUNS#${iso(0).slice(0, 7)}`, `${iso(0)}#${runId}`)).toEqual(['body', 'expiresAt', 'pk', 'sk']);
    expect(await raw(`APPROVAL#${tk}`, 'h1')).toEqual(['expiresAt', 'pk', 'runId', 'sk']);
    expect(await raw(`SNAPSHOT#${source}#s1`, 'PART#000001')).toEqual(['expiresAt', 'part', 'parts', 'people', 'pk', 'sk']);
    expect(await raw(`BLOCKED#${source}`, 's2')).toEqual(['blockedAt', 'code', 'expiresAt', 'pk', 'sk']);
  });

  it('reads items as the landed version wrote them', async () => {
    // Prepare: raw items in the landed layout, written without the store
    const { store } = makeStore();
    const source = uniqueId('hr');
    const target = newTarget();
    const tk = `${target.instanceId}#${target.orgId}`;
    const put = (item: Record<string, AttributeValue>) => client.send(new PutItemCommand({ TableName: tableName, Item: item }));
    await put({
      pk: { S: 'PEOPLE' }, sk: { S: `${source}#email:ann@example.com` }, email: { S: 'ann@example.com' }, status: { S: 'active' },
      attributes: { M: { team: { S: 'x' } } }, source: { S: source }, identity: { S: 'email:ann@example.com' }, lastEventAt: { S: iso(1) }, leftSource: { BOOL: false },
    });
    await put({ pk: { S: `DELIVERY#${source}` }, sk: { S: '-' }, expiresAt: { N: String(T0 / 1000 + 60) } });
    await put({
      pk: { S: `LEDGER#${tk}` }, sk: { S: 'ann@example.com' }, email: { S: 'ann@example.com' }, state: { S: 'intent' }, role: { S: 'view' },
      updatedAt: { S: iso(1) }, renewals: { N: '0' }, runId: { S: 'r-1' },
    });
    await put({ pk: { S: `LEASE#${tk}` }, sk: { S: '-' }, seq: { N: '4' } });
    // a lease held in the landed shape: owner and expiry, no holder, no renewedAt
    const held = newTarget();
    await put({ pk: { S: `LEASE#${held.instanceId}#${held.orgId}` }, sk: { S: '-' }, owner: { S: 'r-old:1234abcd' }, leaseExpiresAt: { N: String(T0 + 30_000) }, seq: { N: '2' } });
    await put({ pk: { S: `APPROVAL#${tk}` }, sk: { S: 'h9' }, runId: { S: 'r-1' }, expiresAt: { N: String(T0 / 1000 + 60) } });
    await put({ pk: { S: `SNAPSHOT#${source}#s9` }, sk: { S: 'PART#000001' }, part: { N: '1' }, parts: { N: '1' }, people: { S: JSON.stringify([person(3)]) }, expiresAt: { N: '1' } });

    // Act
    const people = (await store.listPeople()).filter((p) => p.source === source);
    // the landed version deduped on the id alone: its item counts for any source until it expires
    const delivered = await store.hasDelivery({ source: 'another-source', id: source });
    const notDelivered = await store.hasDelivery({ source, id: `${source}-never` });
    const ledger = await store.getLedger(target);
    const lease = await store.acquireLease(target, 'a', 60);
    const oldLease = await store.readLease(held);
    const busy = await store.acquireLease(held, 'b', 60);
    const unlocked = await store.forceReleaseLease(held, 'r-old:1234abcd');
    const approved = await store.takeApproval(target, 'h9');
    const snapshot = await store.readSnapshot(source, 's9');

    // Assess
    expect(people).toEqual([{ email: 'ann@example.com', status: 'active', attributes: { team: 'x' }, identity: 'email:ann@example.com', source, lastEventAt: iso(1), leftSource: false }]);
    expect(delivered).toBe(true);
    expect(notDelivered).toBe(false);
    expect(ledger).toEqual([{ email: 'ann@example.com', state: 'intent', role: 'view', updatedAt: iso(1), renewals: 0, runId: 'r-1' }]);
    expect(lease).toMatchObject({ owner: 'a', seenSeq: 4 });
    expect(oldLease).toEqual({ owner: 'r-old:1234abcd', expiresAt: T0 + 30_000, seq: 2 });
    expect(busy).toBeNull();
    expect(unlocked).toBe(true);
    expect(await store.acquireLease(held, 'b', 60)).toMatchObject({ owner: 'b', seenSeq: 3 });
    expect(approved).toBe(true);
    expect(snapshot).toEqual([person(3)]);
  });

  it('reads a run stored before failures, warnings and removals were kept: they read as absent and 0', async () => {
    // Prepare: a run item as earlier versions wrote it (no failures, warnings or `remove` counts)
    const { store } = makeStore();
    const runId = uniqueId('r-old');
    const counts = { invite: 1, renew: 0, fixRole: 0, revoke: 0 };
    const skipped = { alreadyPending: 0, alreadyMember: 0, invitedRecently: 0, renewalsExhausted: 0, notOurs: 0, removedOutsideSync: 0 };
    const body = JSON.stringify({
      mode: 'apply', runId, complete: true, trigger: 'cli', startedAt: iso(0),
      targets: [{ name: 'eng', instanceId: 'a'.repeat(24), orgId: 'b'.repeat(24), desired: 1, pending: 0, members: 0, planned: counts, done: counts, failed: 0, skipped, blocked: null, complete: true }],
    });
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: `RUN#${runId}` }, sk: { S: '-' }, body: { S: body }, expiresAt: { N: String(T0 / 1000 + 600) } } }));

    // Act
    const run = await store.getRun(runId);

    // Assess
    expect(run?.targets[0]).toMatchObject({ planned: { ...counts, remove: 0 }, skipped: { lastAdmin: 0, ownUser: 0, missingScope: 0 } });
    expect(run?.targets[0]?.failures).toBeUndefined();
    expect(run?.targets[0]?.warnings).toBeUndefined();
  });

  it('retries items DynamoDB left unprocessed until all are written', async () => {
    // Prepare: a client that holds back half of each of the first batch calls, as a throttled table does
    const flaky = localDynamoClient();
    let heldBack = 0;
    flaky.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { RequestItems?: Record<string, unknown[]> };
        const requests = input.RequestItems?.[tableName];
        if (context.commandName !== 'BatchWriteItemCommand' || !requests || requests.length < 2 || heldBack >= 3) return next(args);
        heldBack += 1;
        const kept = requests.slice(0, Math.ceil(requests.length / 2));
        const held = requests.slice(kept.length);
        const result = await next({ ...args, input: { ...input, RequestItems: { [tableName]: kept } } });
        const output = result.output as { UnprocessedItems?: Record<string, unknown[]> };
        output.UnprocessedItems = { [tableName]: held };
        return result;
      },
      { step: 'initialize', name: 'holdBackBatchItems' },
    );
    const { store } = makeStore({ client: flaky });
    const target = newTarget();
    const entries = Array.from({ length: 40 }, (_, i) => entry(i));

    // Act
    await store.putLedgerEntries(target, entries);

    // Assess
    flaky.destroy();
    expect(heldBack).toBe(3);
    expect(store.stats().writes).toBeGreaterThan(2);
    expect(await makeStore().store.getLedger(target)).toHaveLength(40);
  });

  it('throws a StateError naming the key for a malformed run body', async () => {
    const { store } = makeStore();
    const runId = uniqueId('bad');
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { pk: { S: `RUN#${runId}` }, sk: { S: '-' }, body: { S: '{"mode":"sideways"}' }, expiresAt: { N: '1' } },
      }),
    );

    const read = store.getRun(runId);

    await expect(read).rejects.toBeInstanceOf(StateError);
    await expect(read).rejects.toThrow(`RUN#${runId}`);
  });
});

describe('Function: DynamoStateStore errors and stats', () => {
  it('throws a StateError naming the key, with the email masked, for a malformed person item', async () => {
    // Prepare: a second table, so the malformed item does not disturb listPeople in the other tests
    const otherTable = uniqueTableName('state-bad');
    await createTableIfMissing(client, otherTable);
    await client.send(
      new PutItemCommand({
        TableName: otherTable,
        Item: { pk: { S: 'PEOPLE' }, sk: { S: 'hr#email:jane.doe@example.com' }, email: { S: 'jane.doe@example.com' }, status: { S: 'gone' } },
      }),
    );
    const store = new DynamoStateStore({ tableName: otherTable, client });

    // Act
    const error: unknown = await store.listPeople().catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(StateError);
    expect(String((error as Error).message)).toContain('sk: hr#email:j***@e***.com');
    expect(String((error as Error).message)).not.toContain('jane.doe');
  });

  it('wraps SDK failures in a StateError naming the operation, with the cause', async () => {
    const store = new DynamoStateStore({ tableName: uniqueTableName('missing'), client });

    const error: unknown = await store.getLedger(newTarget()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).message).toMatch(/^getLedger failed: ResourceNotFoundException/);
    expect((error as StateError).cause).toBeInstanceOf(Error);
  });

  it('counts reads, writes and consumed capacity, and resets them', async () => {
    const { store } = makeStore();
    const source = uniqueId('hr');
    // the people index is done once a listPeople saw it (or backfilled it): person events read through it
    await store.listPeople();
    store.resetStats();

    await store.applyPersonEvent(source, person(1), iso(1));
    await store.applyPersonEvent(source, person(1), iso(0));
    const delivery = { source, id: uniqueId('x') };
    await store.recordDelivery(delivery, 60);
    await store.hasDelivery(delivery);
    const counted = store.stats();
    store.resetStats();

    // a person event: the index items of its email and of its employeeId (2 Queries), the people they name (one
    // BatchGetItem, none for a new person) and the snapshot time (Get), then one transaction (the person, its 2 index
    // items, the shard's digest and the snapshot-time check: 5 items × 2 units, 4 of them on the person's shard);
    // the second is stale; the delivery: 1 unit
    expect(counted).toMatchObject({ reads: 3 + 4 + 1, writes: 2, computedWriteUnits: 2 * 5 + 1, maxWriteUnitsPerKeySecond: 4, maxWriteUnitsKey: keys.person(source, 'emp:E1').pk });
    expect(counted.writeUnits).toBeGreaterThan(0);
    expect(counted.readUnits).toBeGreaterThan(0);
    expect(store.stats()).toEqual({ reads: 0, writes: 0, readUnits: 0, writeUnits: 0, computedWriteUnits: 0, maxWriteUnitsPerKeySecond: 0 });
  });
});
