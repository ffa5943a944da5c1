// ingest --> DeliveryStore port --> DynamoDeliveryStore --> StateTable
// Item: delivery (pk `DELIVERY#<id>`, sk `<source>`, expiresAt); a delivery past its expiresAt counts as absent.
// Failed delivery (pk `DELIVERY#<id>`, sk `FAILED#<source>`): a roster drop refused whole, with its bad rows.
// Versions that deduped on the id alone wrote sk `-`: such an item counts for every source until it expires (7 days).
import { gunzipSync, gzipSync } from 'node:zlib';
// Item: last delivery (pk `DELIVERED`, sk `<source>`, at): the newest arrival time per source (the source watch).
import type { DeliveryRef, DeliveryStore, FailedDelivery, SourceDelivery } from '../sync/ports.ts';
import { DeliveryItemSchema, FailedDeliveryItemSchema, FailedRowsSchema, SourceDeliveryItemSchema } from './items.schema.ts';
import { DELIVERED_PK, SINGLETON_SK, keys } from './keys.ts';
import { conditional } from './table.ts';
import type { StateTable } from './table.ts';

/** Above this the rows are gzipped; past FAILED_ROWS_MAX_BYTES (items are capped at 400 KB) the later rows are left out. */
const FAILED_ROWS_GZIP_BYTES = 300_000;
const FAILED_ROWS_MAX_BYTES = 340_000;

/** A failure's rows as stored: JSON text, or gzipped JSON when large; as many leading rows as fit. */
export function encodeFailedRows(rows: FailedDelivery['rows']): string | Uint8Array {
  for (let keep = rows.length; ; keep = Math.floor(keep / 2)) {
    const json = JSON.stringify(rows.slice(0, keep));
    if (Buffer.byteLength(json) <= FAILED_ROWS_GZIP_BYTES) return json;
    const gz = new Uint8Array(gzipSync(json));
    if (gz.byteLength <= FAILED_ROWS_MAX_BYTES) return gz;
  }
}

export function decodeFailedRows(stored: string | Uint8Array): FailedDelivery['rows'] {
  const text = typeof stored === 'string' ? stored : gunzipSync(stored).toString('utf8');
  return FailedRowsSchema.parse(JSON.parse(text)).map((r) => ({ ...(r.line !== undefined ? { line: r.line } : {}), field: r.field, message: r.message }));
}

/**
 * The DynamoDB implementation of the `DeliveryStore` port: one item per `(source, id)`, all ids' sources
 * in one small partition, so one consistent Query answers for the source and for an item the landed version wrote.
 * @example if (await new DynamoDeliveryStore(table).recordDelivery({ source: 'hr', id }, 604_800)) { … first delivery … }
 */
export class DynamoDeliveryStore implements DeliveryStore {
  private readonly table: StateTable;

  constructor(table: StateTable) {
    this.table = table;
  }

  async hasDelivery(delivery: DeliveryRef): Promise<boolean> {
    return this.table.guard('hasDelivery', async () => {
      const { pk } = keys.delivery(delivery.source, delivery.id);
      const items = await this.table.queryAll({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
      });
      const now = this.table.nowSeconds();
      return items.some((raw) => {
        const item = this.table.parse(DeliveryItemSchema, raw, 'delivery', raw);
        return (item.sk === delivery.source || item.sk === SINGLETON_SK) && item.expiresAt > now;
      });
    });
  }

  async recordDelivery(delivery: DeliveryRef, ttlSeconds: number): Promise<boolean> {
    return this.table.guard('recordDelivery', async () => {
      const now = this.table.nowSeconds();
      return conditional(() =>
        this.table.put({
          Item: { ...keys.delivery(delivery.source, delivery.id), expiresAt: now + ttlSeconds },
          ConditionExpression: 'attribute_not_exists(#pk) OR #exp <= :now',
          ExpressionAttributeNames: { '#pk': 'pk', '#exp': 'expiresAt' },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
    });
  }

  async recordFailedDelivery(failure: FailedDelivery, ttlSeconds: number): Promise<void> {
    await this.table.guard('recordFailedDelivery', async () => {
      await this.table.put({
        Item: {
          ...keys.failedDelivery(failure.source, failure.id),
          source: failure.source,
          id: failure.id,
          failedAt: failure.failedAt,
          message: failure.message,
          rows: encodeFailedRows(failure.rows),
          rowCount: failure.rowCount,
          expiresAt: this.table.nowSeconds() + ttlSeconds,
        },
      });
    });
  }

  async getFailedDelivery(delivery: DeliveryRef): Promise<FailedDelivery | null> {
    return this.table.guard('getFailedDelivery', async () => {
      const item = await this.table.getItem(FailedDeliveryItemSchema, keys.failedDelivery(delivery.source, delivery.id), 'failed delivery');
      if (!item || item.expiresAt <= this.table.nowSeconds()) return null;
      return { source: item.source, id: item.id, failedAt: item.failedAt, message: item.message, rows: decodeFailedRows(item.rows), rowCount: item.rowCount };
    });
  }

  async noteSourceDelivery(source: string, at: string): Promise<void> {
    return this.table.guard('noteSourceDelivery', async () => {
      // a later time wins; a delivery noted out of order (an earlier time) changes nothing
      await conditional(() =>
        this.table.update({
          Key: keys.sourceDelivery(source),
          UpdateExpression: 'SET #at = :at',
          ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    });
  }

  async listSourceDeliveries(): Promise<SourceDelivery[]> {
    return this.table.guard('listSourceDeliveries', async () => {
      const items = await this.table.queryAll({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': DELIVERED_PK },
        ConsistentRead: true,
      });
      return items.map((raw) => this.table.parse(SourceDeliveryItemSchema, raw, 'last delivery', raw)).map((item) => ({ source: item.sk, lastDeliveryAt: item.at }));
    });
  }
}
