// One DynamoDB Local for the whole integration run; each test file makes its own table.
import type { TestProject } from 'vitest/node';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../cli/local-dynamodb.ts';

let ddb: LocalDynamoDb | undefined;

export async function setup(project: TestProject): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  ddb = await startLocalDynamoDb();
  project.provide('dynamoEndpoint', ddb.endpoint);
}

export async function teardown(): Promise<void> {
  await ddb?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
