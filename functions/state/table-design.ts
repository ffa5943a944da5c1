// CDK stack / cli / tests --> table design --> DynamoDB (CreateTable, UpdateTimeToLive)
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StateError } from '../sync/errors.ts';

/** Key schema and TTL attribute of the single state table (the CDK stack builds the same table). */
export const TABLE_DESIGN = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' } as const;

const ACTIVE_TIMEOUT_MS = 60_000;
const POLL_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const errorName = (err: unknown): string => (err instanceof Error ? err.name : 'UnknownError');

async function tableStatus(client: DynamoDBClient, tableName: string): Promise<string | null> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return out.Table?.TableStatus ?? 'UNKNOWN';
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return null;
    throw err;
  }
}

async function enableTtl(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
    if (status === 'ENABLED' || status === 'ENABLING') return;
  } catch {
    // DynamoDB Local builds without DescribeTimeToLive: try to enable anyway
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE_DESIGN.ttlAttribute, Enabled: true },
      }),
    );
  } catch (err) {
    // "TimeToLive is already enabled" (a race with another creator) is success; DynamoDB Local
    // versions without TTL support answer UnknownOperation: the store checks expiresAt itself anyway.
    const message = err instanceof Error ? err.message : '';
    if (/already enabled/i.test(message)) return;
    if (/UnknownOperation|not supported/i.test(`${errorName(err)} ${message}`)) return;
    throw err;
  }
}

/**
 * Creates the state table (on-demand, `pk`/`sk` strings) unless it exists, waits until it is ACTIVE,
 * then enables TTL on `expiresAt`. Safe to call concurrently and repeatedly.
 * @example await createTableIfMissing(new DynamoDBClient({ endpoint }), 'invite-sync-dev')
 */
export async function createTableIfMissing(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    if ((await tableStatus(client, tableName)) === null) {
      try {
        await client.send(
          new CreateTableCommand({
            TableName: tableName,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [
              { AttributeName: TABLE_DESIGN.partitionKey, AttributeType: 'S' },
              { AttributeName: TABLE_DESIGN.sortKey, AttributeType: 'S' },
            ],
            KeySchema: [
              { AttributeName: TABLE_DESIGN.partitionKey, KeyType: 'HASH' },
              { AttributeName: TABLE_DESIGN.sortKey, KeyType: 'RANGE' },
            ],
          }),
        );
      } catch (err) {
        if (!(err instanceof ResourceInUseException)) throw err;
      }
    }
    const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
    for (;;) {
      const status = await tableStatus(client, tableName);
      if (status === 'ACTIVE') break;
      if (Date.now() > deadline) throw new StateError(`table ${tableName} is not ACTIVE after ${ACTIVE_TIMEOUT_MS} ms (${status ?? 'missing'})`);
      await sleep(POLL_MS);
    }
    await enableTtl(client, tableName);
  } catch (err) {
    if (err instanceof StateError) throw err;
    const message = err instanceof Error ? err.message : '';
    throw new StateError(`createTableIfMissing ${tableName} failed: ${errorName(err)} ${message}`.trim(), { cause: err });
  }
}
