// bench setup --> seedPeople --> BatchWriteItem of person items (the store's own schema checks each item)
// in their shards (pk `PEOPLE#<shard>`), then a new digest token in every shard written (keys.ts), as the
// store's own writes do: a store that read a shard before the seed reads it again.
//
// A fast initial fill for large rosters: StateStore.replaceSource writes each person conditionally (one
// PutItem each), which on DynamoDB Local takes ~1.5 ms a person. The measured runs read these items
// back through DynamoStateStore, so an item the store could not read fails the bench loudly.
import { randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient, BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PersonItemSchema } from '../../functions/state/items.schema.ts';
import { keys, peopleShard } from '../../functions/state/keys.ts';
import { personIdentity } from '../../functions/sync/people.ts';
import type { LedgerEntry, Person } from '../../functions/sync/types.ts';

const BATCH = 25;
const IN_FLIGHT = 8;

/**
 * Writes `people` as stored people of `source` (not left, lastEventAt as given), 25 per BatchWriteItem.
 * @example await seedPeople(client, tableName, people(10_000), 'default', new Date().toISOString());
 */
export async function seedPeople(client: DynamoDBClient, tableName: string, list: readonly Person[], source: string, lastEventAt: string): Promise<void> {
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const items = list.map((p) => {
    const identity = personIdentity(p);
    return PersonItemSchema.parse({ ...keys.person(source, identity), ...p, source, identity, lastEventAt, leftSource: false });
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < items.length) {
        let pending: Record<string, unknown>[] = items.slice(next, next + BATCH).map((Item) => ({ PutRequest: { Item } }));
        next += BATCH;
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * attempt));
          const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
          pending = (out.UnprocessedItems?.[tableName] ?? []) as Record<string, unknown>[];
          if (attempt > 8) throw new Error(`seedPeople: ${pending.length} items unprocessed after ${attempt} attempts`);
        }
      }
    }),
  );
  const shards = [...new Set(items.map((item) => peopleShard(item.sk)))];
  await Promise.all(shards.map((shard) => doc.send(new PutCommand({ TableName: tableName, Item: { ...keys.peopleDigest(shard), token: randomUUID() } }))));
}

/**
 * The ledger entry of each pending invite, as the run that sent it wrote it (state `sent`, no renewals): what
 * the converged scenarios seed beside the emulator's invites.
 * @example await store.putLedgerEntries(target, sentLedger(await emu.invites(instanceId, orgId)))
 */
export function sentLedger(invites: readonly { email: string; role: string; id: string; inviteDate: string }[]): LedgerEntry[] {
  return invites.map((inv) => ({
    email: inv.email,
    state: 'sent',
    role: inv.role as LedgerEntry['role'],
    inviteId: inv.id,
    updatedAt: inv.inviteDate,
    invitedAt: inv.inviteDate,
    renewals: 0,
    runId: 'r-bench-seed',
  }));
}
