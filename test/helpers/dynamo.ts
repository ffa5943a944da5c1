// Integration tests: a fresh table per test file on the shared DynamoDB Local.
import { inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../cli/local-dynamodb.ts';

export function dynamoEndpoint(): string {
  return inject('dynamoEndpoint');
}

export function localDynamoClient(endpoint = dynamoEndpoint()): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** A table name no other test file uses. */
export function uniqueTableName(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * A client that dies (throws, as a killed process stops) at its `n + 1`-th TransactWriteItems (or command whose
 * name `command` matches). The calls it let through before may still be on their way (a migration sends one per
 * shard at once): `settled()` waits for them, as a dead process's requests already sent still reach DynamoDB.
 */
export function dyingClient(n: number, command: RegExp = /TransactWrite/): { client: DynamoDBClient; settled: () => Promise<unknown> } {
  const dying = localDynamoClient();
  const sentCalls: Promise<unknown>[] = [];
  let sent = 0;
  dying.middlewareStack.add(
    (next, context) => async (args) => {
      if (command.test(String(context.commandName)) && ++sent > n) throw new Error('the process died here');
      const call = next(args);
      sentCalls.push(call.catch(() => undefined));
      return call;
    },
    { step: 'initialize', name: 'dieAfterTransactions' },
  );
  return { client: dying, settled: () => Promise.all(sentCalls) };
}
