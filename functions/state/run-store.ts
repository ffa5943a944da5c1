// reconcile / approve / ingest --> RunStore port --> DynamoRunStore --> StateTable
// Items: run (pk `RUN#<runId>`, sk `-`, body JSON), its actions (same pk, sk `ACTIONS#<000001>`, 250 a chunk),
// its entry in the run list (pk `RUNS#<yyyy-mm>`, sk `<startedAt>#<runId>`, body JSON: recent runs by Query,
// newest first, never a Scan), approval (pk `APPROVAL#<instanceId>#<orgId>`, sk `<planHash>`),
// blocked snapshot (pk `BLOCKED#<source>`, sk `<snapshotId>`); each with the TTL attribute expiresAt.
import type { HeldSnapshot, RunAction, RunRecord, RunStore } from '../sync/ports.ts';
import type { BlockCode, TargetRef } from '../sync/types.ts';
import { BlockedItemSchema, RunActionsItemSchema, RunActionsSchema, RunItemSchema, RunListItemSchema, RunRecordSchema } from './items.schema.ts';
import { keys } from './keys.ts';
import { APPROVAL_TTL_SECONDS, BLOCKED_TTL_SECONDS, RUN_ACTIONS_PER_ITEM, boundedRunRecord, runHasTarget, runListMonths } from './store-rules.ts';
import { chunk } from './concurrency.ts';
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
      // failures and warnings are kept, bounded (store-rules.ts RUN_LIST_CAP)
      const body = JSON.stringify(boundedRunRecord(run));
      const expiresAt = this.table.nowSeconds() + ttlSeconds;
      await this.table.batchWriteAll('putRun', [
        { PutRequest: { Item: { ...keys.run(run.runId), body, expiresAt } } },
        { PutRequest: { Item: { ...keys.runList(run.startedAt, run.runId), body, expiresAt } } },
      ]);
    });
  }

  async listRuns(opts: { limit: number; target?: string }): Promise<RunRecord[]> {
    return this.table.guard('listRuns', async () => {
      const runs: RunRecord[] = [];
      const now = this.table.nowSeconds();
      for (const month of runListMonths(this.table.now())) {
        let startKey: Record<string, unknown> | undefined;
        do {
          const out = await this.table.query({
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': 'pk' },
            ExpressionAttributeValues: { ':pk': keys.runListPk(month) },
            ScanIndexForward: false,
            Limit: Math.max(25, opts.limit),
            ExclusiveStartKey: startKey,
          });
          for (const raw of out.Items ?? []) {
            const item = this.table.parse(RunListItemSchema, raw, 'run list', raw);
            if (item.expiresAt <= now) continue;
            const run = this.table.parse(RunRecordSchema, this.table.parseJson(item.body, 'run list', item), 'run list body', item);
            if (runHasTarget(run, opts.target)) runs.push(run);
            if (runs.length >= opts.limit) return runs;
          }
          startKey = out.LastEvaluatedKey;
        } while (startKey);
      }
      return runs;
    });
  }

  async putRunActions(runId: string, actions: RunAction[], ttlSeconds: number): Promise<void> {
    return this.table.guard('putRunActions', async () => {
      const expiresAt = this.table.nowSeconds() + ttlSeconds;
      await this.table.batchWriteAll(
        'putRunActions',
        chunk(actions, RUN_ACTIONS_PER_ITEM).map((part, i) => ({ PutRequest: { Item: { ...keys.runActions(runId, i + 1), actions: JSON.stringify(part), expiresAt } } })),
      );
    });
  }

  async getRunActions(runId: string): Promise<RunAction[]> {
    return this.table.guard('getRunActions', async () => {
      const items = await this.table.queryAll({
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': keys.run(runId).pk, ':prefix': keys.runActionsPrefix },
        ConsistentRead: true,
      });
      return items.flatMap((raw) => {
        const item = this.table.parse(RunActionsItemSchema, raw, 'run actions', raw);
        return this.table.parse(RunActionsSchema, this.table.parseJson(item.actions, 'run actions', item), 'run actions', item);
      });
    });
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    return this.table.guard('getRun', async () => {
      const key = keys.run(runId);
      const item = await this.table.getItem(RunItemSchema, key, 'run');
      if (!item) return null;
      return this.table.parse(RunRecordSchema, this.table.parseJson(item.body, 'run', key), 'run body', key);
    });
  }

  async putApproval(target: TargetRef, planHash: string, runId: string, approvedBy?: string): Promise<void> {
    return this.table.guard('putApproval', async () => {
      await this.table.put({ Item: { ...keys.approval(target, planHash), runId, ...(approvedBy ? { approvedBy } : {}), expiresAt: this.table.nowSeconds() + APPROVAL_TTL_SECONDS } });
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

  async putBlockedSnapshot(source: string, snapshotId: string, code: BlockCode, held: Pick<HeldSnapshot, 'runId' | 'occurredAt' | 'eventId' | 'people'> = {}): Promise<void> {
    return this.table.guard('putBlockedSnapshot', async () => {
      await this.table.put({
        Item: {
          ...keys.blocked(source, snapshotId),
          code,
          blockedAt: new Date(this.table.now()).toISOString(),
          expiresAt: this.table.nowSeconds() + BLOCKED_TTL_SECONDS,
          ...held,
        },
      });
    });
  }

  async takeBlockedSnapshot(source: string, snapshotId: string): Promise<HeldSnapshot | null> {
    return this.table.guard('takeBlockedSnapshot', async () => {
      const key = keys.blocked(source, snapshotId);
      let old: Record<string, unknown> | undefined;
      const taken = await conditional(async () => {
        const out = await this.table.delete({
          Key: key,
          ConditionExpression: 'attribute_exists(#pk) AND #exp > :now',
          ExpressionAttributeNames: { '#pk': 'pk', '#exp': 'expiresAt' },
          ExpressionAttributeValues: { ':now': this.table.nowSeconds() },
          ReturnValues: 'ALL_OLD',
        });
        old = out.Attributes;
      });
      if (!taken || !old) return null;
      const item = this.table.parse(BlockedItemSchema, old, 'blocked snapshot', key);
      const { code, runId, occurredAt, eventId, people } = item;
      return { source, snapshotId, code, ...(runId ? { runId } : {}), ...(occurredAt ? { occurredAt } : {}), ...(eventId ? { eventId } : {}), ...(people ? { people } : {}) };
    });
  }
}
