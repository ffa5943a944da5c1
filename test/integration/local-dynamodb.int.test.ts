import { describe, it, expect } from 'vitest';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { localDynamoClient } from '../helpers/dynamo.ts';

describe('Function: startLocalDynamoDb (global setup)', () => {
  it('answers ListTables on the endpoint the global setup provides', async () => {
    const client = localDynamoClient();
    const out = await client.send(new ListTablesCommand({}));
    expect(Array.isArray(out.TableNames)).toBe(true);
    client.destroy();
  });
});
