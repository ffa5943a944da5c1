// reconcile / approve / ingest --> RunStore port --> DynamoRunStore --> StateTable
// Items: run (pk `RUN#<runId>`, sk `-`, body JSON), approval (pk `APPROVAL#<instanceId>#<orgId>`, sk `<planHash>`),
// blocked snapshot (pk `BLOCKED#<source>`, sk `<snapshotId>`); each with the TTL attribute expiresAt.
import type { RunRecord, RunStore } from '../sync/ports.ts';
import type { BlockCode, TargetRef } from '../sync/types.ts';
import { RunItemSchema, RunRecordSchema } from './items.schema.ts';
import { keys } from './keys.ts';
import { APPROVAL_TTL_SECONDS, BLOCKED_TTL_SECONDS } from './store-rules.ts';
import { conditional } from './table.ts';
import type { StateTable } from './table.ts';

/**
 * The DynamoDB implementation of the `RunStore` port.
 * @example await runs.putApproval(target, planHash, runId); const released = await runs.takeApproval(target, planHash);
 */
export class DynamoRunStore implements RunStore {
  private readonly table: StateTable;

  constructor(table: StateTable) {
    this.table = table;
  }

  async putRun(run: RunRecord, ttlSeconds: number): Promise<void> {
    return this.table.guard('putRun', async () => {
      await this.table.put({ Item: { ...keys.run(run.runId), body: JSON.stringify(run), expiresAt: this.table.nowSeconds() + ttlSeconds } });
    });
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    return this.table.guard('getRun', async () => {
      const key = keys.run(runId);
      const out = await this.table.get({ Key: key, ConsistentRead: true });
      if (!out.Item) return null;
      const item = this.table.parse(RunItemSchema, out.Item, 'run', key);
      return this.table.parse(RunRecordSchema, this.table.parseJson(item.body, 'run', key), 'run body', key);
    });
  }

  async putApproval(target: TargetRef, planHash: string, runId: string): Promise<void> {
    return this.table.guard('putApproval', async () => {
      await this.table.put({ Item: { ...keys.approval(target, planHash), runId, expiresAt: this.table.nowSeconds() + APPROVAL_TTL_SECONDS } });
    });
  }

  async takeApproval(target: TargetRef, planHash: string): Promise<boolean> {
    return this.table.guard('takeApproval', async () =>
      conditional(() =>
        this.table.delete({
          Key: keys.approval(target, planHash),
          ConditionExpression: 'attribute_exists(#pk) AND #exp > :now',
          ExpressionAttributeNames: { '#pk': 'pk', '#exp': 'expiresAt' },
          ExpressionAttributeValues: { ':now': this.table.nowSeconds() },
        }),
      ),
    );
  }

  async putBlockedSnapshot(source: string, snapshotId: string, code: BlockCode): Promise<void> {
    return this.table.guard('putBlockedSnapshot', async () => {
      await this.table.put({
        Item: {
          ...keys.blocked(source, snapshotId),
          code,
          blockedAt: new Date(this.table.now()).toISOString(),
          expiresAt: this.table.nowSeconds() + BLOCKED_TTL_SECONDS,
        },
      });
    });
  }
}
