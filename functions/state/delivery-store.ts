// ingest --> DeliveryStore port --> DynamoDeliveryStore --> StateTable
// Item: delivery (pk `DELIVERY#<id>`, sk `-`, expiresAt); a delivery past its expiresAt counts as absent.
import type { DeliveryStore } from '../sync/ports.ts';
import { DeliveryItemSchema } from './items.schema.ts';
import { keys } from './keys.ts';
import { conditional } from './table.ts';
import type { StateTable } from './table.ts';

/**
 * The DynamoDB implementation of the `DeliveryStore` port.
 * @example if (await new DynamoDeliveryStore(table).recordDelivery(eventId, 604_800)) { … first delivery … }
 */
export class DynamoDeliveryStore implements DeliveryStore {
  private readonly table: StateTable;

  constructor(table: StateTable) {
    this.table = table;
  }

  async hasDelivery(id: string): Promise<boolean> {
    return this.table.guard('hasDelivery', async () => {
      const key = keys.delivery(id);
      const out = await this.table.get({ Key: key, ConsistentRead: true });
      if (!out.Item) return false;
      const item = this.table.parse(DeliveryItemSchema, out.Item, 'delivery', key);
      return item.expiresAt > this.table.nowSeconds();
    });
  }

  async recordDelivery(id: string, ttlSeconds: number): Promise<boolean> {
    return this.table.guard('recordDelivery', async () => {
      const now = this.table.nowSeconds();
      return conditional(() =>
        this.table.put({
          Item: { ...keys.delivery(id), expiresAt: now + ttlSeconds },
          ConditionExpression: 'attribute_not_exists(#pk) OR #exp <= :now',
          ExpressionAttributeNames: { '#pk': 'pk', '#exp': 'expiresAt' },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
    });
  }
}
