// reconcile / ingest --> LeaseStore port --> DynamoLeaseStore --> StateTable
// Item: lease (pk `LEASE#<instanceId>#<orgId>`, sk `-`): owner?, leaseExpiresAt? (epoch ms), seq (the target's
// change counter). Acquire is conditional on free / expired / ours; release on ours and seq unchanged; markDirty adds 1.
import type { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { Lease, LeaseStore } from '../sync/ports.ts';
import type { TargetRef } from '../sync/types.ts';
import { LeaseItemSchema, RawLeaseImageSchema } from './items.schema.ts';
import { keys } from './keys.ts';
import { conditional, isConditionFailed } from './table.ts';
import type { ItemKey, StateTable } from './table.ts';

/**
 * The DynamoDB implementation of the `LeaseStore` port.
 * @example
 * const lease = await leases.acquireLease(target, owner, 60);
 * if (lease && (await leases.releaseLease(lease)) === 'dirty') { … reconcile again … }
 */
export class DynamoLeaseStore implements LeaseStore {
  private readonly table: StateTable;

  constructor(table: StateTable) {
    this.table = table;
  }

  async acquireLease(target: TargetRef, owner: string, leaseSeconds: number): Promise<Lease | null> {
    return this.table.guard('acquireLease', async () => {
      const now = this.table.now();
      const expiresAt = now + leaseSeconds * 1000;
      const key = keys.lease(target);
      try {
        const out = await this.table.update({
          Key: key,
          UpdateExpression: 'SET #owner = :me, #exp = :exp, #seq = if_not_exists(#seq, :zero)',
          ConditionExpression: 'attribute_not_exists(#owner) OR #exp < :now OR #owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner', '#exp': 'leaseExpiresAt', '#seq': 'seq' },
          ExpressionAttributeValues: { ':me': owner, ':exp': expiresAt, ':now': now, ':zero': 0 },
          ReturnValues: 'ALL_NEW',
        });
        const item = this.table.parse(LeaseItemSchema, out.Attributes, 'lease', key);
        return { target: { instanceId: target.instanceId, orgId: target.orgId }, owner, expiresAt, seenSeq: item.seq };
      } catch (err) {
        if (isConditionFailed(err)) return null;
        throw err;
      }
    });
  }

  /** Extends the lease (and `lease.expiresAt`); false when another owner holds it now. */
  async renewLease(lease: Lease, leaseSeconds: number): Promise<boolean> {
    return this.table.guard('renewLease', async () => {
      const expiresAt = this.table.now() + leaseSeconds * 1000;
      const renewed = await conditional(() =>
        this.table.update({
          Key: keys.lease(lease.target),
          UpdateExpression: 'SET #exp = :exp',
          ConditionExpression: '#owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner', '#exp': 'leaseExpiresAt' },
          ExpressionAttributeValues: { ':me': lease.owner, ':exp': expiresAt },
        }),
      );
      if (renewed) lease.expiresAt = expiresAt;
      return renewed;
    });
  }

  async releaseLease(lease: Lease): Promise<'released' | 'dirty' | 'lost'> {
    return this.table.guard('releaseLease', async () => {
      const key = keys.lease(lease.target);
      try {
        await this.table.update({
          Key: key,
          UpdateExpression: 'REMOVE #owner, #exp',
          ConditionExpression: '#owner = :me AND #seq = :seen',
          ExpressionAttributeNames: { '#owner': 'owner', '#exp': 'leaseExpiresAt', '#seq': 'seq' },
          ExpressionAttributeValues: { ':me': lease.owner, ':seen': lease.seenSeq },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        });
        return 'released';
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        const current = await this.leaseAfterConflict(err, key);
        if (current?.owner !== lease.owner) return 'lost';
        lease.seenSeq = current.seq;
        return 'dirty';
      }
    });
  }

  async markDirty(targets: TargetRef[]): Promise<void> {
    return this.table.guard('markDirty', async () => {
      const unique = new Map<string, TargetRef>();
      for (const target of targets) unique.set(keys.lease(target).pk, target);
      await this.table.mapWrites([...unique.values()], (target) =>
        this.table.update({
          Key: keys.lease(target),
          UpdateExpression: 'ADD #seq :one',
          ExpressionAttributeNames: { '#seq': 'seq' },
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    });
  }

  /** The lease item as it was when a conditional write failed (from the error, else a consistent read). */
  private async leaseAfterConflict(err: ConditionalCheckFailedException, key: ItemKey): Promise<{ owner?: string; seq: number } | null> {
    const image = RawLeaseImageSchema.safeParse(err.Item);
    if (err.Item && image.success) {
      return { owner: image.data.owner?.S, seq: Number(image.data.seq?.N ?? 0) };
    }
    const out = await this.table.get({ Key: key, ConsistentRead: true });
    if (!out.Item) return null;
    const item = this.table.parse(LeaseItemSchema, out.Item, 'lease', key);
    return { owner: item.owner, seq: item.seq };
  }
}
