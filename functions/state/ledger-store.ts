// applier / reconcile --> LedgerStore port --> DynamoLedgerStore --> StateTable
// Item: ledger entry (pk `LEDGER#<instanceId>#<orgId>`, sk `<email>`, the LedgerEntry's fields).
import type { LedgerStore } from '../sync/ports.ts';
import type { LedgerEntry, TargetRef } from '../sync/types.ts';
import { LedgerItemSchema, toLedgerEntry } from './items.schema.ts';
import { keys } from './keys.ts';
import { lastPerEmail } from './store-rules.ts';
import type { StateTable } from './table.ts';

/**
 * The DynamoDB implementation of the `LedgerStore` port (writes in batches of 25, unprocessed items retried).
 * @example await new DynamoLedgerStore(table).putLedgerEntries(target, [intent]);
 */
export class DynamoLedgerStore implements LedgerStore {
  private readonly table: StateTable;

  constructor(table: StateTable) {
    this.table = table;
  }

  async getLedger(target: TargetRef): Promise<LedgerEntry[]> {
    return this.table.guard('getLedger', async () => {
      const items = await this.table.queryAll({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': keys.ledgerPk(target) },
        ConsistentRead: true,
      });
      return items.map((raw) => toLedgerEntry(this.table.parse(LedgerItemSchema, raw, 'ledger', raw)));
    });
  }

  async putLedgerEntries(target: TargetRef, entries: LedgerEntry[]): Promise<void> {
    return this.table.guard('putLedgerEntries', async () => {
      await this.table.batchWriteAll(
        'putLedgerEntries',
        lastPerEmail(entries).map((entry) => ({ PutRequest: { Item: { ...entry, ...keys.ledger(target, entry.email) } } })),
      );
    });
  }
}
