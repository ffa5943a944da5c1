// bench/lib/dynamo-meter.ts against DynamoDB Local: what it books per key prefix agrees with what DynamoDB reports
// (commands sent through the document client, as the state store sends them)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoMeter, itemBytes, prefixOf } from '../../bench/lib/dynamo-meter.ts';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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

describe('DynamoMeter on a DynamoDB Local table', () => {
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  const TableName = uniqueTableName('meter');
  const now = 1_000_000;

  beforeAll(async () => {
    client = localDynamoClient();
    doc = DynamoDBDocumentClient.from(client);
    await createTableIfMissing(client, TableName);
  });
  afterAll(async () => {
    await client?.send(new DeleteTableCommand({ TableName })).catch(() => undefined);
    client?.destroy();
  });

  it('books batch writes by item and key, and a Query\'s item bytes land in the capacity DynamoDB charges (⌈bytes ÷ 4 KB⌉)', async () => {
    const meter = DynamoMeter.attach(client, () => now);
    const items = Array.from({ length: 60 }, (_, i) => ({ pk: 'T#a', sk: `s${String(i).padStart(3, '0')}`, email: `person${i}@example.com`, n: i * 1001, ok: i % 2 === 0, attributes: { department: 'Engineering', title: 'Analyst' }, tags: ['x', 'y'] }));
    for (let i = 0; i < items.length; i += 25) {
      await doc.send(new BatchWriteCommand({ RequestItems: { [TableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) }, ReturnConsumedCapacity: 'TOTAL' }));
    }
    const written = meter.summary();
    expect(written.byPrefix.T).toMatchObject({ writes: 3, itemsWritten: 60, reads: 0 });
    expect(written.keysWritten).toBe(1);
    // every write in one (frozen) second, all on one key
    expect(written.maxKeyWriteUnitsPerSecond).toEqual({ pk: 'T#a', units: written.byPrefix.T!.writeUnits });

    meter.reset();
    const out = await doc.send(new QueryCommand({ TableName, KeyConditionExpression: '#p = :v', ExpressionAttributeNames: { '#p': 'pk' }, ExpressionAttributeValues: { ':v': 'T#a' }, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }));
    const read = meter.summary().byPrefix.T!;
    expect(read).toMatchObject({ reads: 1, itemsRead: 60, itemsWritten: 0 });
    expect(read.readUnits).toBe(out.ConsumedCapacity?.CapacityUnits);
    expect(Math.ceil(read.bytesRead / 4096)).toBe(read.readUnits);
    expect(meter.summary().maxKeyWriteUnitsPerSecond).toBeNull();
  });

  it("counts a transaction's items per key prefix (a ConditionCheck touches its key without writing it) and a BatchGet's items", async () => {
    const meter = DynamoMeter.attach(client, () => now);
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName, Item: { pk: 'U#1', sk: '-', v: 1 } } },
          { Put: { TableName, Item: { pk: 'U#2', sk: '-', v: 2 } } },
          { ConditionCheck: { TableName, Key: { pk: 'T#a', sk: 's000' }, ConditionExpression: 'attribute_exists(pk)' } },
        ],
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    await doc.send(new GetCommand({ TableName, Key: { pk: 'U#1', sk: '-' }, ReturnConsumedCapacity: 'TOTAL' }));
    await doc.send(new BatchGetCommand({ RequestItems: { [TableName]: { Keys: [{ pk: 'U#1', sk: '-' }, { pk: 'U#2', sk: '-' }, { pk: 'U#3', sk: '-' }] } }, ReturnConsumedCapacity: 'TOTAL' }));
    const s = meter.summary();
    // the Get's item and the two of three keys the BatchGet found
    expect(s.byPrefix.U).toMatchObject({ writes: 1, itemsWritten: 2, reads: 2, itemsRead: 3 });
    expect(s.byPrefix.T).toMatchObject({ writes: 1, itemsWritten: 0 });
    expect(s.keysWritten).toBe(3);
    expect(s.itemsWritten).toBe(2);
  });

  it('counts an item written twice (a lease taken, then released) once among the distinct items written', async () => {
    const meter = DynamoMeter.attach(client, () => now);
    await doc.send(new PutCommand({ TableName, Item: { pk: 'L#1', sk: '-', owner: 'a' } }));
    await doc.send(new UpdateCommand({ TableName, Key: { pk: 'L#1', sk: '-' }, UpdateExpression: 'REMOVE #o', ExpressionAttributeNames: { '#o': 'owner' } }));
    await doc.send(new PutCommand({ TableName, Item: { pk: 'L#1', sk: 'other' } }));
    const s = meter.summary();
    expect(s.byPrefix.L).toMatchObject({ writes: 3, itemsWritten: 3 });
    expect(s.itemsWritten).toBe(2);
  });
});
