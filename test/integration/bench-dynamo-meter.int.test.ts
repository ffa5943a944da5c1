// bench/lib/dynamo-meter.ts against DynamoDB Local: what it books per key prefix agrees with what DynamoDB reports
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoMeter, itemBytes, prefixOf } from '../../bench/lib/dynamo-meter.ts';
import { people } from '../../bench/lib/roster.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';

describe('itemBytes (AWS item size rules)', () => {
  it('counts attribute names and values: strings in UTF-8, numbers by digits, maps and lists with their overhead', () => {
    expect(itemBytes({ pk: 'PEOPLE' })).toBe(2 + 6);
    expect(itemBytes({ n: 12 })).toBe(1 + 2);
    expect(itemBytes({ n: 123_456 })).toBe(1 + 4);
    expect(itemBytes({ é: 'ü' })).toBe(2 + 2);
    expect(itemBytes({ b: true, z: null })).toBe(1 + 1 + 1 + 1);
    expect(itemBytes({ m: { a: 'xy' } })).toBe(1 + 3 + 1 + 2 + 1);
    expect(itemBytes({ l: ['a', 'b'] })).toBe(1 + 3 + (1 + 1) * 2);
  });
  it('names the key kind by the text before the first #', () => {
    expect(prefixOf('LEDGER#abc#def')).toBe('LEDGER');
    expect(prefixOf('PEOPLE')).toBe('PEOPLE');
  });
});

describe('DynamoMeter on a state store', () => {
  let client: DynamoDBClient;
  const tableName = uniqueTableName('meter');
  let now = 1_000_000;

  beforeAll(async () => {
    client = localDynamoClient();
    await createTableIfMissing(client, tableName);
  });
  afterAll(async () => {
    await client?.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
    client?.destroy();
  });

  it("books a snapshot's writes and a listing's reads under PEOPLE, as the store's totals and DynamoDB's capacity say", async () => {
    const meter = DynamoMeter.attach(client, () => now);
    const store = new DynamoStateStore({ tableName, client });
    const list = people(60);
    await store.replaceSource('default', list, '2025-06-01T00:00:00.000Z');
    const written = meter.summary();
    // 60 conditional puts of people and the source's snapshot time, all in one (frozen) second
    expect(written.byPrefix.PEOPLE).toMatchObject({ itemsWritten: 60, writes: 60, reads: 1, itemsRead: 0 });
    expect(written.byPrefix.SOURCES).toMatchObject({ itemsWritten: 1 });
    expect(written.maxKeyWriteUnitsPerSecond).toEqual({ pk: 'PEOPLE', units: store.stats().writeUnits - 1 });
    expect(written.keysWritten).toBe(2);

    meter.reset();
    store.resetStats();
    now += 5_000;
    const listed = await store.listPeople();
    expect(listed).toHaveLength(60);
    const read = meter.summary();
    expect(read.byPrefix.PEOPLE).toMatchObject({ reads: 1, itemsRead: 60, itemsWritten: 0 });
    // one page, consistent: DynamoDB charges ⌈bytes ÷ 4 KB⌉, so the meter's bytes land in that unit
    const units = read.byPrefix.PEOPLE!.readUnits;
    expect(units).toBeGreaterThan(0);
    expect(Math.ceil(read.byPrefix.PEOPLE!.bytesRead / 4096)).toBe(units);
    expect(units + (read.byPrefix.SOURCES?.readUnits ?? 0)).toBe(store.stats().readUnits);
    expect(read.maxKeyWriteUnitsPerSecond).toBeNull();
  });

  it('counts the items of a transaction and a batch, not the calls, and ConditionCheck items as touched only', async () => {
    const meter = DynamoMeter.attach(client, () => now);
    const store = new DynamoStateStore({ tableName, client });
    const target = { instanceId: '575ec8687ae143cd83dc4a97', orgId: '575ec8687ae143cd83dc4a98' };
    const entries = Array.from({ length: 30 }, (_, i) => ({ email: `p${i}@example.com`, state: 'sent' as const, role: 'view' as const, updatedAt: '2025-06-01T00:00:00.000Z', renewals: 0, runId: 'r-1' }));
    await store.putLedgerEntries(target, entries);
    // a person event: a transaction of the person's put and a ConditionCheck of the source's snapshot time
    await store.applyPersonEvent('default', { email: 'new@example.com', status: 'active', employeeId: 'E-new', attributes: {} }, '2025-06-02T00:00:00.000Z');
    const s = meter.summary();
    expect(s.byPrefix.LEDGER).toMatchObject({ itemsWritten: 30, writes: 2 }); // two batches of ≤ 25
    expect(s.byPrefix.PEOPLE?.itemsWritten).toBe(1);
    expect(s.byPrefix.SOURCES).toMatchObject({ writes: 1, itemsWritten: 0 }); // touched by the check, not written
  });
});
