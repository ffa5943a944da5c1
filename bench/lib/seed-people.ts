// bench setup --> seedPeople --> BatchWriteItem of person items (the store's own schema checks each item)
// in their shards (pk `PEOPLE#<shard>`) and their index items (keys.personIndex), then a new digest token in
// every shard written and the people index marker done (keys.ts), as the store's own writes leave a table: a
// store that read a shard before the seed reads it again, and none backfills the index.
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
  const people = list.map((p) => {
    const identity = personIdentity(p);
    return PersonItemSchema.parse({ ...keys.person(source, identity), ...p, source, identity, lastEventAt, leftSource: false });
  });
  // each person's index items too, as the store's own writes put them
  const items: Record<string, unknown>[] = [...people, ...people.flatMap((p) => keys.personIndex(p))];
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
  const shards = [...new Set(people.map((item) => peopleShard(item.sk)))];
  await Promise.all(shards.map((shard) => doc.send(new PutCommand({ TableName: tableName, Item: { ...keys.peopleDigest(shard), token: randomUUID() } }))));
  // the marker of a table whose index is complete (the store's first listPeople would otherwise backfill it)
  await doc.send(new PutCommand({ TableName: tableName, Item: { ...keys.peopleIndex(), doneAt: new Date().toISOString(), indexed: people.length } }));
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
