// reconcile / ingest --> LeaseStore port --> DynamoLeaseStore --> StateTable
// Item: lease (pk `LEASE#<instanceId>#<orgId>`, sk `-`): owner?, leaseExpiresAt? (epoch ms), renewedAt? (epoch ms),
// holder? ({host, pid, processStart?}), seq (the target's change counter). Acquire is conditional on free / expired /
// ours / held by an owner known to be gone; release on ours and seq unchanged; markDirty adds 1; forceRelease
// (unlock) on the owner shown, adding 1 to seq.
// Item: lease end (pk `LEASE#<instanceId>#<orgId>`, sk `END#<owner>`): owner, endedAt (epoch ms), expiresAt (30 days),
// written when an acquire takes over another owner's lease or unlock removes it (ownership.ts reads it: a run's end).
import type { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { AcquireLeaseOptions, Lease, LeaseEnds, LeaseState, LeaseStore } from '../sync/ports.ts';
import type { TargetRef } from '../sync/types.ts';
import { LeaseEndItemSchema, LeaseItemSchema, RawLeaseImageSchema } from './items.schema.ts';
import { SINGLETON_SK, keys } from './keys.ts';
import { LEASE_END_TTL_SECONDS } from './store-rules.ts';
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

  async acquireLease(target: TargetRef, owner: string, leaseSeconds: number, opts: AcquireLeaseOptions = {}): Promise<Lease | null> {
    return this.table.guard('acquireLease', async () => {
      const now = this.table.now();
      const expiresAt = now + leaseSeconds * 1000;
      const key = keys.lease(target);
      const replacing = opts.replacing !== undefined && opts.replacing !== owner;
      try {
        const out = await this.table.update({
          Key: key,
          UpdateExpression: `SET #owner = :me, #exp = :exp, #renewed = :now, #seq = if_not_exists(#seq, :zero)${opts.holder ? ', #holder = :holder' : ''}${opts.holder ? '' : ' REMOVE #holder'}`,
          ConditionExpression: `attribute_not_exists(#owner) OR #exp < :now OR #owner = :me${replacing ? ' OR #owner = :gone' : ''}`,
          ExpressionAttributeNames: { '#owner': 'owner', '#exp': 'leaseExpiresAt', '#seq': 'seq', '#renewed': 'renewedAt', '#holder': 'holder' },
          ExpressionAttributeValues: {
            ':me': owner,
            ':exp': expiresAt,
            ':now': now,
            ':zero': 0,
            ...(opts.holder ? { ':holder': { ...opts.holder } } : {}),
            ...(replacing ? { ':gone': opts.replacing } : {}),
          },
          ReturnValues: 'ALL_OLD',
        });
        // the item as it was: a lease another owner held (expired, or of a process known to be gone) ended at its expiry
        const old = out.Attributes ? this.table.parse(LeaseItemSchema, out.Attributes, 'lease', key) : undefined;
        if (old?.owner !== undefined && old.owner !== owner) await this.recordEnd(target, old.owner, old.leaseExpiresAt ?? now);
        return { target: { instanceId: target.instanceId, orgId: target.orgId }, owner, expiresAt, seenSeq: old?.seq ?? 0 };
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
          UpdateExpression: 'SET #exp = :exp, #renewed = :now',
          ConditionExpression: '#owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner', '#exp': 'leaseExpiresAt', '#renewed': 'renewedAt' },
          ExpressionAttributeValues: { ':me': lease.owner, ':exp': expiresAt, ':now': this.table.now() },
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
          UpdateExpression: 'REMOVE #owner, #exp, #renewed, #holder',
          ConditionExpression: '#owner = :me AND #seq = :seen',
          ExpressionAttributeNames: { '#owner': 'owner', '#exp': 'leaseExpiresAt', '#seq': 'seq', '#renewed': 'renewedAt', '#holder': 'holder' },
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

  async readLease(target: TargetRef): Promise<LeaseState | null> {
    return this.table.guard('readLease', async () => {
      const item = await this.table.getItem(LeaseItemSchema, keys.lease(target), 'lease');
      if (item?.owner === undefined) return null;
      return {
        owner: item.owner,
        expiresAt: item.leaseExpiresAt ?? 0,
        seq: item.seq,
        ...(item.renewedAt !== undefined ? { renewedAt: item.renewedAt } : {}),
        ...(item.holder ? { holder: { host: item.holder.host, pid: item.holder.pid, ...(item.holder.processStart ? { processStart: item.holder.processStart } : {}) } } : {}),
      };
    });
  }

  async forceReleaseLease(target: TargetRef, owner: string): Promise<boolean> {
    return this.table.guard('forceReleaseLease', async () => {
      const released = await conditional(() =>
        this.table.update({
          Key: keys.lease(target),
          UpdateExpression: 'REMOVE #owner, #exp, #renewed, #holder ADD #seq :one',
          ConditionExpression: '#owner = :shown',
          ExpressionAttributeNames: { '#owner': 'owner', '#exp': 'leaseExpiresAt', '#seq': 'seq', '#renewed': 'renewedAt', '#holder': 'holder' },
          ExpressionAttributeValues: { ':shown': owner, ':one': 1 },
        }),
      );
      // its process is gone: its run ended now (what it may still have in flight is covered by SETTLE_SECONDS)
      if (released) await this.recordEnd(target, owner, this.table.now());
      return released;
    });
  }

  async leaseEnds(target: TargetRef): Promise<LeaseEnds> {
    return this.table.guard('leaseEnds', async () => {
      const pk = keys.lease(target).pk;
      const items = await this.table.queryAll({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
      });
      const ends: LeaseEnds = { ended: [] };
      for (const raw of items) {
        if (raw.sk === SINGLETON_SK) {
          const lease = this.table.parse(LeaseItemSchema, raw, 'lease', raw);
          if (lease.owner !== undefined) ends.holder = { owner: lease.owner, expiresAt: lease.leaseExpiresAt ?? 0 };
        } else if (typeof raw.sk === 'string' && raw.sk.startsWith(keys.leaseEndPrefix)) {
          const end = this.table.parse(LeaseEndItemSchema, raw, 'lease end', raw);
          ends.ended.push({ owner: end.owner, endedAt: end.endedAt });
        }
      }
      return ends;
    });
  }

  /** Records when `owner`'s lease of `target` ended (kept LEASE_END_TTL_SECONDS): the end of that owner's run there. */
  private async recordEnd(target: TargetRef, owner: string, endedAt: number): Promise<void> {
    await this.table.put({ Item: { ...keys.leaseEnd(target, owner), owner, endedAt, expiresAt: this.table.nowSeconds() + LEASE_END_TTL_SECONDS } });
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
    const item = await this.table.getItem(LeaseItemSchema, key, 'lease');
    return item && { owner: item.owner, seq: item.seq };
  }
}
