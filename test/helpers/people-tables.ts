// people store tests --> people-tables: a fresh table per test and a store over it with a fixed clock
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import type { StoredPerson } from '../../functions/sync/types.ts';
import { uniqueTableName } from './dynamo.ts';
import { T0 } from './store-contract.ts';

/** `freshTable(prefix)`: a new table on `client`; `storeOn(table)`: a store over it, its clock at `opts.now` (default T0), optionally on another client. */
export function peopleTables(client: DynamoDBClient) {
  return {
    freshTable: async (prefix: string): Promise<string> => {
      const tableName = uniqueTableName(prefix);
      await createTableIfMissing(client, tableName);
      return tableName;
    },
    storeOn: (tableName: string, opts: { now?: number; client?: DynamoDBClient } = {}): DynamoStateStore =>
      new DynamoStateStore({ tableName, client: opts.client ?? client, now: () => opts.now ?? T0 }),
  };
}

/** People in `<source>#<identity>` order: comparisons that do not depend on read order. */
export const sortedPeople = (people: StoredPerson[]): StoredPerson[] => [...people].sort((a, b) => `${a.source}#${a.identity}`.localeCompare(`${b.source}#${b.identity}`));
