// ingest / reconcile --> PeopleStore port --> DynamoPeopleStore --> StateTable
// Items: person (pk `PEOPLE#<shard>`, sk `<source>#<identity>`), the shard's digest (pk `PEOPLE#<shard>`,
// sk `#DIGEST`), legacy person (pk `PEOPLE`: read beside the shards and migrated), the people migration
// (pk `PEOPLEMIGRATION`), the person index (pk `PERSONBYEMAIL#<source>#<email>` and
// `PERSONBYEMP#<source>#<employeeId>`, sk `<identity>`), its backfill's marker (pk `PEOPLEINDEX`) and
// snapshot part (pk `SNAPSHOT#<source>#<snapshotId>`, sk `PART#<000001>`); see keys.ts.
//
// Every write of a person is a transaction that also gives its shard's digest a new token, so a reader
// that read a shard's people under token T (read before them, consistently) may keep them while the
// digest still reads T: listPeople in a warm process reads 16 digests and no people when nothing changed.
//
// Every transaction that puts a person also puts its index items (by email, by employeeId: unconditional,
// idempotent), so a person event reads the people it may be by key (two index Queries, one BatchGetItem)
// instead of filtering all 17 partitions. Index items may be stale (readers check the person item they
// name) and are never deleted: a delete is the one way the index could lose an item a person still needs.
// Tables written before the index get it from a backfill (backfillPersonIndex, marker `PEOPLEINDEX`);
// person events read through the index once the marker says done, the 17 filtered Queries before.
// Limit: a person written by an older version (no index items) after the backfill passed its partition
// has none until it is written again; person events miss it until then (as the legacy migration's window),
// except one of its own identity: that write's condition fails, and the retry reads the filtered way.
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { personIdentity } from '../sync/people.ts';
import { indexRecords, resolvePersonEvent } from '../sync/identity.ts';
import { StateError } from '../sync/errors.ts';
import type { EventOutcome, PeopleStore, ReplacePreview, ReplaceSourceResult, SnapshotPartResult } from '../sync/ports.ts';
import type { Person, StoredPerson } from '../sync/types.ts';
import {
  PeopleDigestItemSchema,
  PeopleIndexItemSchema,
  PeopleMigrationItemSchema,
  PersonIndexItemSchema,
  PeopleSchema,
  PersonItemSchema,
  SnapshotPartItemSchema,
  SourceItemSchema,
} from './items.schema.ts';
import type { PersonItem, SnapshotPartItem } from './items.schema.ts';
import { LEGACY_PEOPLE_PK, describeKey, PEOPLE_DIGEST_SK, PEOPLE_SHARDS, PEOPLE_SHARD_PKS, SOURCES_PK, keys, peopleShard, peopleShardPk } from './keys.ts';
import { SNAPSHOT_TTL_SECONDS, assertCompleteSnapshot, canonicalTime, checkPartsAgree, checkSnapshotPart, effectiveLastEventAt, planReplaceSource, planStaleJoins, previewOf } from './store-rules.ts';
import { chunk, mapLimit } from './concurrency.ts';
import { conditional, isConditionFailed, transactWriteUnits } from './table.ts';
import type { Item, ItemKey, StateTable, TransactItem } from './table.ts';

/** How often a person event is read and written again after losing a race to another write of its source. */
const WRITE_ATTEMPTS = 5;
/** How often one transaction is sent again while other transactions hold one of its items (a shard's digest). */
const CONFLICT_ATTEMPTS = 10;
/**
 * Person writes in one transaction of replaceSource or the migration, each at most 4 actions (a move: the
 * shard's Put, the legacy Delete and 2 index Puts; an upsert 3; a leave 1, or 4 for a legacy one), plus the
 * shard's digest: 24 × 4 + 1 = 97 ≤ 100.
 */
export const PEOPLE_WRITES_PER_TRANSACTION = 24;
/** How long the people migration's lease lasts without a checkpoint renewing it. */
const MIGRATION_LEASE_MS = 60_000;
/** Legacy people the migration moves between two checkpoints. */
const MIGRATION_PAGE = 200;
/** People the index backfill indexes between two checkpoints. */
const INDEX_PAGE = 200;
/** The partitions the index backfill walks, in order: the legacy one, then the 16 shards. */
const INDEX_PARTITIONS: readonly string[] = [LEGACY_PEOPLE_PK, ...PEOPLE_SHARD_PKS];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One person write: its actions in a transaction, the shards whose digest it changes, and the index items
 * (keys.personIndex) it puts (on keys of their own: commit adds them, each once).
 */
interface PersonWrite {
  actions: TransactItem[];
  shards: number[];
  indexPuts?: ItemKey[];
}

/** A write of replaceSource or the migration, batched with others of its shard; `alone` when the batch's condition failed. */
interface ShardWrite<R> {
  shard: number;
  write: PersonWrite;
  ok: R;
  alone: () => Promise<R>;
}

/** What the people migration did: `done` (no legacy person left), `busy` (another process holds its lease). */
export interface PeopleMigrationResult {
  outcome: 'done' | 'busy';
  moved: number;
}

/** What the index backfill did: `done` (every person has index items; `indexed` by this call), `busy` (another process holds its lease). */
export interface PeopleIndexResult {
  outcome: 'done' | 'busy';
  indexed: number;
}

/** Where the index backfill goes on: a partition of INDEX_PARTITIONS and, within it, the sk to start after. */
interface IndexCheckpoint {
  pk: string;
  sk?: string;
}

const unchangedCondition = (item: { lastEventAt: string }) => ({
  ConditionExpression: '#at = :seen',
  ExpressionAttributeNames: { '#at': 'lastEventAt' },
  ExpressionAttributeValues: { ':seen': item.lastEventAt },
});
/** A consistent Query of every item of partition `pk`. */
const wholePartition = (pk: string) => ({ KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': 'pk' }, ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true });
const isLegacy = (item: PersonItem): boolean => item.pk === LEGACY_PEOPLE_PK;
const shardOf = (item: { sk: string }): number => peopleShard(item.sk);
const describePerson = (item: { pk: string; sk: string }): string => describeKey(item);
const keyText = (key: ItemKey): string => `${key.pk}\n${key.sk}`;
/** The partition key an action of a transaction writes or checks. */
const actionPk = (t: TransactItem): unknown => (t.Put?.Item ?? t.Update?.Key ?? t.Delete?.Key ?? t.ConditionCheck?.Key)?.pk;
const bySk = (a: { sk: string }, b: { sk: string }): number => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0);
/** The order of shard items in the filtered read (shard by shard, each by sk): merged() keeps it. */
const byShardAndSk = (a: PersonItem, b: PersonItem): number => shardOf(a) - shardOf(b) || bySk(a, b);


/** Above this, a snapshot part's people are gzipped into a Binary attribute (items are capped at 400 KB). */
export const SNAPSHOT_GZIP_THRESHOLD_BYTES = 300_000;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

function toStoredPerson(item: PersonItem): StoredPerson {
  const person: StoredPerson = {
    email: item.email,
    status: item.status,
    attributes: item.attributes,
    identity: item.identity,
    source: item.source,
    lastEventAt: item.lastEventAt,
    leftSource: item.leftSource,
  };
  if (item.employeeId !== undefined) person.employeeId = item.employeeId;
  return person;
}

/**
 * The DynamoDB implementation of the `PeopleStore` port.
 * @example const people = new DynamoPeopleStore(table); await people.applyPersonEvent('hr', person, occurredAt);
 */
export class DynamoPeopleStore implements PeopleStore {
  private readonly table: StateTable;
  /** per shard: its people as read under the digest token read just before them */
  private readonly cache = new Map<number, { token: string; items: PersonItem[] }>();
  /** a winner of the merged read (shard or legacy) → the other copy of the same person, older: writes delete it too */
  private readonly shadows = new WeakMap<PersonItem, PersonItem>();
  /** the people migration's and the index backfill's lease owner: this store instance */
  private readonly migrationOwner = `people-${randomUUID()}`;
  /** true once the index marker was seen done (it never becomes undone): person events read through the index */
  private indexComplete = false;

  constructor(table: StateTable) {
    this.table = table;
  }

  /**
   * Every person: the 16 shards' digests first (one BatchGetItem), then only the shards whose token differs
   * from the one this instance read them under (parallel consistent Queries). People still in the legacy
   * partition are moved first (migrateLegacyPeople); what is left of them (another process holds the
   * migration) is read too, newest lastEventAt winning. Then, until the index marker says done (one GetItem,
   * none once seen done), the index backfill (backfillPersonIndex).
   */
  async listPeople(): Promise<StoredPerson[]> {
    return this.table.guard('listPeople', async () => {
      const [firstTokens, legacyLeft, snapshots, indexed] = await Promise.all([this.digestTokens(), this.hasLegacyPeople(), this.snapshotTimes(), this.personIndexDone()]);
      let tokens = firstTokens;
      let legacy: PersonItem[] = [];
      if (legacyLeft) {
        await this.migrateLegacyPeople();
        [tokens, legacy] = await Promise.all([this.digestTokens(), this.legacyPeople()]);
      }
      // the backfill writes index items only: no person, no digest, so the tokens read still hold
      if (!indexed) await this.backfillPersonIndex();
      const shards = await Promise.all(PEOPLE_SHARD_PKS.map((_, shard) => this.shardPeople(shard, tokens.get(shard))));
      return this.merged(shards.flat(), legacy, false).map((item) => {
        const person = toStoredPerson(item);
        // a snapshot stamps its occurredAt on every person of its source
        return { ...person, attributes: { ...person.attributes }, lastEventAt: effectiveLastEventAt(person.lastEventAt, snapshots.get(person.source)) };
      });
    });
  }

  /**
   * Resolves the event against the source's people (sync/identity.ts) and writes the result in one
   * transaction: the person conditional on what was read, merged records deleted, the source's snapshot
   * time unchanged, and the digest of each shard written. A lost race is read again (up to 5 times).
   * Reads the source's people with this email or employeeId (candidates): through the index once it is done
   * (at most 4 reads with the snapshot time), else one filtered Query per shard and the legacy partition;
   * after a lost race always the filtered way (the write then puts the index items such a person lacked).
   */
  async applyPersonEvent(source: string, person: Person, occurredAt: string): Promise<EventOutcome> {
    return this.table.guard('applyPersonEvent', async () => {
      const at = canonicalTime('applyPersonEvent', occurredAt);
      for (let attempt = 1; ; attempt += 1) {
        // a lost race reads again the filtered way: it also finds a person an older version wrote without index items
        const [candidates, snapshotAt] = await Promise.all([this.candidates(source, person, attempt > 1), this.snapshotTime(source)]);
        const r = resolvePersonEvent(indexRecords(candidates), person, at, { snapshotAt });
        if (r.kind === 'stale') return 'stale';
        if (await this.writeResolved(source, r.person, r.lastEventAt, r.current, r.remove, snapshotAt, r.leftSource)) return r.leftSource ? 'stale' : 'applied';
        if (attempt >= WRITE_ATTEMPTS) throw new StateError(`applyPersonEvent: source ${source} kept changing; ${WRITE_ATTEMPTS} attempts lost the race`);
      }
    });
  }

  /**
   * Upserts and leaves without merges go in transactions of up to 24 per shard (with the shard's digest),
   * one transaction per shard in flight, at most `keyWriteUnitsPerSecond` (800) a shard a second; a transaction whose
   * condition failed is sent again one person at a time. Writes that merge records go one by one.
   */
  async replaceSource(source: string, people: Person[], occurredAt: string): Promise<ReplaceSourceResult> {
    return this.table.guard('replaceSource', async () => {
      const at = canonicalTime('replaceSource', occurredAt);
      // the source's snapshot time first: from here on, person events older than this snapshot are stale
      const newest = await conditional(() =>
        this.table.put({
          Item: { ...keys.source(source), snapshotAt: at },
          ConditionExpression: 'attribute_not_exists(#pk) OR #snap <= :t',
          ExpressionAttributeNames: { '#pk': 'pk', '#snap': 'snapshotAt' },
          ExpressionAttributeValues: { ':t': at },
        }),
      );
      if (!newest) return this.joinStale(source, people, at);
      const { result, upserts, leaves } = planReplaceSource(await this.sourcePeople(source), people, at);
      const batched: ShardWrite<keyof ReplaceSourceResult>[] = [];
      const merges: (() => Promise<keyof ReplaceSourceResult>)[] = [];
      const single = (write: PersonWrite, ok: keyof ReplaceSourceResult) => async () => ((await this.commit([write])) ? ok : 'stale');
      for (const w of upserts) {
        if (w.remove.length === 0) {
          const write = this.ifNewerWrite(this.personItem(source, w.person, w.lastEventAt), w.lastEventAt);
          batched.push({ shard: write.shards[0] ?? 0, write, ok: 'upserted', alone: single(write, 'upserted') });
        } else {
          merges.push(async () => ((await this.writeResolved(source, w.person, w.lastEventAt, w.current, w.remove, null, w.leftSource)) ? 'upserted' : 'stale'));
        }
      }
      for (const current of leaves) {
        const write = this.leftWrite(current, at);
        batched.push({ shard: write.shards[0] ?? 0, write, ok: 'left', alone: single(write, 'left') });
      }
      const outcomes = [...(await this.writeByShard(batched)), ...(await this.table.mapWrites(merges, (write) => write()))];
      for (const outcome of outcomes) result[outcome] += 1;
      return result;
    });
  }

  /** What replaceSource would change now: nothing for a snapshot older than the source's last one (no write). */
  async previewReplaceSource(source: string, people: Person[], occurredAt: string): Promise<ReplacePreview> {
    return this.table.guard('previewReplaceSource', async () => {
      const at = canonicalTime('previewReplaceSource', occurredAt);
      const [stored, snapshotAt] = await Promise.all([this.sourcePeople(source), this.snapshotTime(source)]);
      return previewOf(stored, people, at, snapshotAt);
    });
  }

  /**
   * Moves every person of the legacy partition (pk `PEOPLE`, as versions before the shards wrote them) to
   * its shard, under the migration's lease (item `PEOPLEMIGRATION`: owner and expiry, renewed with each
   * checkpoint): a legacy person is copied when its shard holds no copy or an older one, then deleted
   * conditional on being unchanged, both in one transaction with the shard's digest. Resumable: each page
   * of 200 ends with a checkpoint (the last sk moved); idempotent: a moved person is gone from the legacy
   * partition. `busy` when another process holds the lease (readers read both meanwhile).
   * listPeople runs it when the legacy partition holds anyone (one Query of Limit 1 tells).
   */
  async migrateLegacyPeople(): Promise<PeopleMigrationResult> {
    return this.table.guard('migrateLegacyPeople', async () => {
      let state = await this.takeMigrationLease();
      if (state === null) return { outcome: 'busy', moved: 0 };
      let moved = 0;
      let startSk = state.lastSk;
      for (;;) {
        const page = await this.table.query({
          ...wholePartition(LEGACY_PEOPLE_PK),
          Limit: MIGRATION_PAGE,
          ...(startSk !== undefined ? { ExclusiveStartKey: { pk: LEGACY_PEOPLE_PK, sk: startSk } } : {}),
        });
        const items = (page.Items ?? []).map((raw) => this.table.parse(PersonItemSchema, raw, 'person', raw));
        if (items.length === 0) {
          // past the checkpoint nothing is left: anyone written before it since (an older version still running) is read from the start
          if (startSk !== undefined) {
            startSk = undefined;
            continue;
          }
          await this.endMigration(state.moved + moved);
          return { outcome: 'done', moved };
        }
        await this.moveLegacy(items);
        moved += items.length;
        startSk = items[items.length - 1]?.sk;
        state = await this.checkpointMigration(startSk ?? '', state.moved + moved);
        if (state === null) return { outcome: 'busy', moved };
      }
    });
  }

  /**
   * Puts the index items (keys.personIndex) of every stored person, for tables written before the index:
   * walks the legacy partition, then the 16 shards (digests skipped), 200 people a page, each page's items
   * put unconditionally (BatchWriteItem: idempotent, a stale one is harmless), then a checkpoint (the page's
   * last key) that renews the lease (item `PEOPLEINDEX`, 60 s). Resumable from the checkpoint; at the end
   * `doneAt`, after which person events read through the index (a done marker: `done` at once, nothing read
   * again). `busy` when another process holds the lease. listPeople runs it until it has seen it done.
   */
  async backfillPersonIndex(): Promise<PeopleIndexResult> {
    return this.table.guard('backfillPersonIndex', async () => {
      const lease = await this.takeIndexLease();
      if (lease === 'done') {
        this.indexComplete = true;
        return { outcome: 'done', indexed: 0 };
      }
      if (lease === null) return { outcome: 'busy', indexed: 0 };
      let indexed = 0;
      for (let at: IndexCheckpoint | undefined = lease.checkpoint; at !== undefined; ) {
        const page = await this.table.query({
          ...wholePartition(at.pk),
          Limit: INDEX_PAGE,
          ...(at.sk !== undefined ? { ExclusiveStartKey: { pk: at.pk, sk: at.sk } } : {}),
        });
        const people = (page.Items ?? []).filter((raw) => raw.sk !== PEOPLE_DIGEST_SK).map((raw) => this.table.parse(PersonItemSchema, raw, 'person', raw));
        await this.table.batchWriteAll('backfillPersonIndex', this.indexPutsOf(people.flatMap((p) => keys.personIndex(p))).map((Item) => ({ PutRequest: { Item } })));
        indexed += people.length;
        at = this.nextIndexCheckpoint(at.pk, page.LastEvaluatedKey);
        if (at !== undefined && !(await this.checkpointIndex(at, lease.indexed + indexed))) return { outcome: 'busy', indexed };
      }
      if (!(await this.endIndex(lease.indexed + indexed))) return { outcome: 'busy', indexed };
      this.indexComplete = true;
      return { outcome: 'done', indexed };
    });
  }

  async putSnapshotPart(source: string, snapshotId: string, part: number, parts: number, people: Person[], ttlSeconds = SNAPSHOT_TTL_SECONDS): Promise<SnapshotPartResult> {
    checkSnapshotPart(part, parts);
    return this.table.guard('putSnapshotPart', async () => {
      const stored = await this.table.queryAll({
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :part)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#parts': 'parts' },
        ExpressionAttributeValues: { ':pk': keys.snapshotPk(source, snapshotId), ':part': keys.snapshotPartPrefix },
        ProjectionExpression: '#parts',
        ConsistentRead: true,
      });
      checkPartsAgree(snapshotId, stored.map((item) => Number(item.parts)), parts);
      const json = JSON.stringify(people);
      const body = Buffer.byteLength(json) > SNAPSHOT_GZIP_THRESHOLD_BYTES ? new Uint8Array(await gzipAsync(json)) : json;
      await this.table.put({
        Item: {
          ...keys.snapshotPart(source, snapshotId, part),
          part,
          parts,
          people: body,
          expiresAt: this.table.nowSeconds() + ttlSeconds,
        },
      });
      let received = 0;
      let startKey: Item | undefined;
      do {
        const out = await this.table.query({
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :part)',
          FilterExpression: '#parts = :parts',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#parts': 'parts' },
          ExpressionAttributeValues: { ':pk': keys.snapshotPk(source, snapshotId), ':part': keys.snapshotPartPrefix, ':parts': parts },
          Select: 'COUNT',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        });
        received += out.Count ?? 0;
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return { received, parts, complete: received >= parts };
    });
  }

  /** All people of a complete snapshot, parts in order. Throws `StateError` when a part is missing. */
  async readSnapshot(source: string, snapshotId: string): Promise<Person[]> {
    return this.table.guard('readSnapshot', async () => {
      const items = (await this.snapshotItems(source, snapshotId)).map((raw) =>
        this.table.parse(SnapshotPartItemSchema, raw, 'snapshot part', raw),
      );
      assertCompleteSnapshot(source, snapshotId, items);
      const people: Person[] = [];
      for (const item of items) people.push(...(await this.decodePart(item)));
      return people;
    });
  }

  async deleteSnapshot(source: string, snapshotId: string): Promise<void> {
    return this.table.guard('deleteSnapshot', async () => {
      const items = await this.snapshotItems(source, snapshotId, true);
      await this.table.batchWriteAll(
        'deleteSnapshot',
        items.map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } })),
      );
    });
  }

  /** A snapshot older than the source's last one: only the merges its rows with an id imply (planStaleJoins). */
  private async joinStale(source: string, people: Person[], at: string): Promise<ReplaceSourceResult> {
    const snapshotAt = (await this.snapshotTime(source)) ?? at;
    const joins = planStaleJoins(await this.sourcePeople(source), people, at, snapshotAt);
    const written = await this.table.mapWrites(joins, (w) => this.writeResolved(source, w.person, w.lastEventAt, w.current, w.remove, null, w.leftSource));
    const upserted = written.filter(Boolean).length;
    return { upserted, left: 0, unchanged: 0, stale: people.length - upserted };
  }

  /** Every source's snapshot time (one small Query). */
  private async snapshotTimes(): Promise<Map<string, string>> {
    const items = await this.table.queryAll(wholePartition(SOURCES_PK));
    return new Map(items.map((raw) => this.table.parse(SourceItemSchema, raw, 'source', raw)).map((item) => [item.sk, item.snapshotAt]));
  }

  private async snapshotTime(source: string): Promise<string | undefined> {
    const key = keys.source(source);
    return (await this.table.getItem(SourceItemSchema, key, 'source'))?.snapshotAt;
  }

  /** Each shard's digest token (one consistent BatchGetItem of 16 small items); a shard never written has none. */
  private async digestTokens(): Promise<Map<number, string>> {
    const items = await this.table.batchGet(PEOPLE_SHARD_PKS.map((_, shard) => keys.peopleDigest(shard)));
    const tokens = new Map<number, string>();
    for (const raw of items) {
      const item = this.table.parse(PeopleDigestItemSchema, raw, 'people digest', raw);
      tokens.set(Number(item.pk.slice('PEOPLE#'.length)), item.token);
    }
    return tokens;
  }

  /** A shard's people: those this instance read under `token` when the digest still reads it, else one consistent Query. */
  private async shardPeople(shard: number, token: string | undefined): Promise<PersonItem[]> {
    const cached = this.cache.get(shard);
    if (token !== undefined && cached?.token === token) return cached.items;
    const raw = await this.table.queryAll(wholePartition(peopleShardPk(shard)));
    const items = raw.filter((r) => r.sk !== PEOPLE_DIGEST_SK).map((r) => this.table.parse(PersonItemSchema, r, 'person', r));
    // cached under the token read before the Query: a write since changed the token, so the next read reads again
    if (token !== undefined) this.cache.set(shard, { token, items });
    else this.cache.delete(shard);
    return items;
  }

  /** True when the legacy partition holds anyone (one consistent Query, Limit 1, keys only). */
  private async hasLegacyPeople(): Promise<boolean> {
    const out = await this.table.query({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': LEGACY_PEOPLE_PK },
      ProjectionExpression: '#pk, #sk',
      ConsistentRead: true,
      Limit: 1,
    });
    return (out.Items ?? []).length > 0;
  }

  private async legacyPeople(prefix?: string): Promise<PersonItem[]> {
    const raw = await this.table.queryAll({
      KeyConditionExpression: prefix === undefined ? '#pk = :pk' : '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', ...(prefix === undefined ? {} : { '#sk': 'sk' }) },
      ExpressionAttributeValues: { ':pk': LEGACY_PEOPLE_PK, ...(prefix === undefined ? {} : { ':prefix': prefix }) },
      ConsistentRead: true,
    });
    return raw.map((r) => this.table.parse(PersonItemSchema, r, 'person', r));
  }

  /**
   * One person per sk: the shard's copy, or the legacy one when strictly newer. With `record`, the other
   * copy is remembered (shadows) so that a write replacing or deleting the winner deletes it too.
   */
  private merged(sharded: readonly PersonItem[], legacy: readonly PersonItem[], record: boolean): PersonItem[] {
    if (record) for (const item of sharded) this.shadows.delete(item);
    if (legacy.length === 0) return [...sharded];
    const bySk = new Map(sharded.map((item) => [item.sk, item]));
    for (const old of legacy) {
      const current = bySk.get(old.sk);
      const winner = current === undefined || old.lastEventAt > current.lastEventAt ? old : current;
      const loser = winner === old ? current : old;
      if (record && loser !== undefined) this.shadows.set(winner, loser);
      bySk.set(old.sk, winner);
    }
    return [...bySk.values()];
  }

  /**
   * The source's people with this email or this employeeId (what identity resolution needs of them): through
   * the index when its marker says done (and not `filtered`), else filtered Queries of every partition. Both
   * return the same, but for a person an older version wrote after the backfill (no index items): only the
   * filtered read finds them.
   */
  private async candidates(source: string, person: Person, filtered = false): Promise<PersonItem[]> {
    return !filtered && (await this.personIndexDone()) ? this.indexedCandidates(source, person) : this.filteredCandidates(source, person);
  }

  /** Whether a stored person is one candidates() returns for `person`: of the source, with its email or its employeeId. */
  private static isCandidate(item: PersonItem, source: string, person: Person): boolean {
    return item.source === source && (item.email === person.email || (person.employeeId !== undefined && item.employeeId === person.employeeId));
  }

  /**
   * Through the index: a consistent Query of the email's index pk and (with an employeeId) of the id's, then
   * one consistent BatchGetItem of both keys (shard, legacy) of every identity they name; each copy checked
   * as the filtered read checks it (index items may be stale), then merged as that read merges.
   */
  private async indexedCandidates(source: string, person: Person): Promise<PersonItem[]> {
    const found = await Promise.all(
      keys.personIndexPks(source, person.email, person.employeeId).map((pk) => this.table.queryAll(wholePartition(pk))),
    );
    const identities = [...new Set(found.flat().map((raw) => this.table.parse(PersonIndexItemSchema, raw, 'person index', raw).sk))];
    if (identities.length === 0) return [];
    const raw = await this.table.batchGet(identities.flatMap((identity) => [keys.person(source, identity), keys.legacyPerson(source, identity)]));
    const items = raw.map((r) => this.table.parse(PersonItemSchema, r, 'person', r));
    const own = items.filter((item) => DynamoPeopleStore.isCandidate(item, source, person));
    return this.merged(own.filter((item) => !isLegacy(item)).sort(byShardAndSk), own.filter(isLegacy).sort(bySk), true);
  }

  /** Filtered: one Query per shard and one of the legacy partition, each reading all of the source's people there. */
  private async filteredCandidates(source: string, person: Person): Promise<PersonItem[]> {
    const byId = person.employeeId !== undefined;
    const query = (pk: string) =>
      this.table.queryAll({
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        FilterExpression: byId ? '#email = :email OR #emp = :emp' : '#email = :email',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#email': 'email', ...(byId ? { '#emp': 'employeeId' } : {}) },
        ExpressionAttributeValues: { ':pk': pk, ':prefix': keys.personPrefix(source), ':email': person.email, ...(byId ? { ':emp': person.employeeId } : {}) },
        ConsistentRead: true,
      });
    // the legacy partition before the shards: a person a migration moves meanwhile is then read at least once
    const legacy = await query(LEGACY_PEOPLE_PK);
    const shards = await Promise.all(PEOPLE_SHARD_PKS.map(query));
    const parse = (items: Item[]) => items.map((raw) => this.table.parse(PersonItemSchema, raw, 'person', raw)).filter((item) => item.source === source);
    return this.merged(parse(shards.flat()), parse(legacy), true);
  }

  /** True once the index marker was seen done (one consistent GetItem until then, none after). */
  private async personIndexDone(): Promise<boolean> {
    if (!this.indexComplete) this.indexComplete = (await this.table.getItem(PeopleIndexItemSchema, keys.peopleIndex(), 'people index'))?.doneAt !== undefined;
    return this.indexComplete;
  }

  /** The source's people: every shard through the digest cache (listPeople's), and the legacy partition. */
  private async sourcePeople(source: string): Promise<PersonItem[]> {
    const [tokens, legacy] = await Promise.all([this.digestTokens(), this.legacyPeople(keys.personPrefix(source))]);
    const shards = await Promise.all(PEOPLE_SHARD_PKS.map((_, shard) => this.shardPeople(shard, tokens.get(shard))));
    // a source named `a#b` shares the prefix of source `a`: keep only exact matches
    const own = (item: PersonItem) => item.source === source;
    return this.merged(shards.flat().filter(own), legacy.filter(own), true);
  }

  /** The index actions of `writes`: each Put once, unconditional (one action per item in a transaction). */
  private indexActions(writes: readonly PersonWrite[]): TransactItem[] {
    const TableName = this.table.tableName;
    return this.indexPutsOf(writes.flatMap((w) => w.indexPuts ?? [])).map((Item) => ({ Put: { TableName, Item } }));
  }

  /** `index` keys each once (a transaction and BatchWriteItem refuse a key twice). */
  private indexPutsOf(index: readonly ItemKey[]): ItemKey[] {
    return [...new Map(index.map((key) => [keyText(key), key])).values()];
  }

  /** The digest update of a shard: a new token, in the transaction of every person write of it. */
  private digestAction(shard: number): TransactItem {
    return {
      Update: {
        TableName: this.table.tableName,
        Key: keys.peopleDigest(shard),
        UpdateExpression: 'SET #token = :token',
        ExpressionAttributeNames: { '#token': 'token' },
        ExpressionAttributeValues: { ':token': randomUUID() },
      },
    };
  }

  /**
   * One transaction of `writes` and the digest of every shard they touch: true when written, false when a
   * condition failed. Sent again (backoff) while another transaction holds one of its items.
   */
  private async commit(writes: readonly PersonWrite[]): Promise<boolean> {
    const shards = [...new Set(writes.flatMap((w) => w.shards))];
    const actions = [...writes.flatMap((w) => w.actions), ...this.indexActions(writes), ...shards.map((shard) => this.digestAction(shard))];
    const outcome = await this.table.transactSettling(actions, CONFLICT_ATTEMPTS, 20, 1_000);
    if (outcome === 'conflict') throw new StateError(`people write: ${CONFLICT_ATTEMPTS} attempts met another transaction on the same items`);
    return outcome === 'ok';
  }

  /**
   * Batched writes: per shard, transactions of up to 24 writes sent one after another (a shard's digest is in
   * each, so two at once would conflict), `writeConcurrency` shards at once, each paced to at most
   * `keyWriteUnitsPerSecond` (StateTableOptions, default 800) counting the actions on the shard's key only
   * (its index items are on keys of their own); a batch whose condition failed is sent again write by write (`alone`).
   * Results keep the input order.
   */
  private async writeByShard<R>(writes: readonly ShardWrite<R>[]): Promise<R[]> {
    const results = new Array<R>(writes.length);
    const byShard = new Map<number, number[]>();
    writes.forEach((w, i) => {
      const list = byShard.get(w.shard);
      if (list) list.push(i);
      else byShard.set(w.shard, [i]);
    });
    const cap = this.table.keyWriteUnitsPerSecond;
    await mapLimit([...byShard.values()], this.shardsInFlight(), async (indexes) => {
      const pace = { second: -1, units: 0 };
      for (const batch of chunk(indexes, PEOPLE_WRITES_PER_TRANSACTION)) {
        const group = batch.map((i) => writes[i] as ShardWrite<R>);
        // only the units on the shard's own key (and its digest's 2): index items and legacy deletes are on other keys
        const pk = peopleShardPk(group[0]?.shard ?? 0);
        const units = transactWriteUnits(group.flatMap((w) => w.write.actions).filter((a) => actionPk(a) === pk)) + 2;
        // wait for the next second of the clock the per-key counts use while this batch would pass the cap
        for (let second = Math.floor(this.table.wallClock() / 1000); ; second = Math.floor(this.table.wallClock() / 1000)) {
          if (second !== pace.second) {
            pace.second = second;
            pace.units = 0;
          }
          if (pace.units === 0 || pace.units + units <= cap) break;
          await sleep(Math.max(1, (second + 1) * 1000 - this.table.wallClock()));
        }
        pace.units += units;
        if (await this.commit(group.map((w) => w.write))) batch.forEach((i, k) => (results[i] = group[k]?.ok as R));
        else for (const [k, i] of batch.entries()) results[i] = await (group[k] as ShardWrite<R>).alone();
      }
    });
    return results;
  }


  /** Shards written at once: the table's write concurrency (one transaction in flight per shard). */
  private shardsInFlight(): number {
    return Math.min(PEOPLE_SHARDS, this.table.writeConcurrency);
  }

  /**
   * Puts `item` (its shard's key) and its index items in place of `current` as read: conditional on it
   * unchanged (or absent). A legacy `current` is deleted in the same transaction (unchanged), as is the older
   * copy behind `current`. The index items of an email or employeeId it had before stay (stale: harmless).
   */
  private replaceWrite(item: PersonItem, current: PersonItem | undefined): PersonWrite {
    const TableName = this.table.tableName;
    const actions: TransactItem[] = [];
    const shadow = current === undefined ? undefined : this.shadows.get(current);
    if (current === undefined) actions.push({ Put: { TableName, Item: item, ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } } });
    else if (isLegacy(current)) {
      // the shard's copy, if any, still older than the legacy one read
      actions.push({
        Put: { TableName, Item: item, ConditionExpression: 'attribute_not_exists(#pk) OR #at < :seen', ExpressionAttributeNames: { '#pk': 'pk', '#at': 'lastEventAt' }, ExpressionAttributeValues: { ':seen': current.lastEventAt } },
      });
      actions.push({ Delete: { TableName, Key: { pk: current.pk, sk: current.sk }, ...unchangedCondition(current) } });
    } else {
      actions.push({ Put: { TableName, Item: item, ...unchangedCondition(current) } });
      if (shadow !== undefined) actions.push({ Delete: { TableName, Key: { pk: shadow.pk, sk: shadow.sk }, ...unchangedCondition(shadow) } });
    }
    return { actions, shards: [shardOf(item)], indexPuts: keys.personIndex(item) };
  }

  /** Deletes `item` (unchanged) and the older copy behind it (their index items stay, stale). */
  private removeWrite(item: PersonItem): PersonWrite {
    const TableName = this.table.tableName;
    const copies = [item, ...[this.shadows.get(item)].filter((c): c is PersonItem => c !== undefined)];
    return {
      actions: copies.map((c) => ({ Delete: { TableName, Key: { pk: c.pk, sk: c.sk }, ...unchangedCondition(c) } })),
      shards: copies.filter((c) => !isLegacy(c)).map(shardOf),
    };
  }

  /** Put `item` and its index items when its shard holds no copy or an older one (`lastEventAt < at`). */
  private ifNewerWrite(item: PersonItem, at: string): PersonWrite {
    return {
      indexPuts: keys.personIndex(item),
      actions: [
        {
          Put: {
            TableName: this.table.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#pk) OR #at < :t',
            ExpressionAttributeNames: { '#pk': 'pk', '#at': 'lastEventAt' },
            ExpressionAttributeValues: { ':t': at },
          },
        },
      ],
      shards: [shardOf(item)],
    };
  }

  /**
   * Marks `current` left as of `at` (when it still exists and is older): its email and employeeId stay, so
   * its index items too. A legacy one moves to its shard with its index items.
   */
  private leftWrite(current: PersonItem, at: string): PersonWrite {
    const TableName = this.table.tableName;
    if (isLegacy(current)) {
      return this.replaceWrite({ ...current, pk: peopleShardPk(shardOf(current)), leftSource: true, lastEventAt: at }, current);
    }
    return {
      actions: [
        {
          Update: {
            TableName,
            Key: { pk: current.pk, sk: current.sk },
            UpdateExpression: 'SET #left = :true, #at = :t',
            ConditionExpression: 'attribute_exists(#pk) AND #at < :t',
            ExpressionAttributeNames: { '#pk': 'pk', '#at': 'lastEventAt', '#left': 'leftSource' },
            ExpressionAttributeValues: { ':t': at, ':true': true },
          },
        },
      ],
      shards: [shardOf(current)],
    };
  }

  /**
   * One transaction: put the person (conditional on the record read being unchanged, or absent), delete
   * the merged records (each unchanged), for a person event check the source's snapshot time is still
   * what was read, and give each shard touched a new digest token. False when any of it changed meanwhile.
   */
  private async writeResolved(
    source: string,
    person: Person,
    at: string,
    current: PersonItem | undefined,
    remove: readonly PersonItem[],
    snapshotAt?: string | null,
    leftSource = false,
  ): Promise<boolean> {
    const TableName = this.table.tableName;
    const check: PersonWrite[] =
      snapshotAt === null
        ? []
        : [
            {
              shards: [],
              actions: [
                {
                  ConditionCheck: {
                    TableName,
                    Key: keys.source(source),
                    ...(snapshotAt === undefined
                      ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }
                      : { ConditionExpression: '#snap = :snap', ExpressionAttributeNames: { '#snap': 'snapshotAt' }, ExpressionAttributeValues: { ':snap': snapshotAt } }),
                  },
                },
              ],
            },
          ];
    return this.commit([this.replaceWrite(this.personItem(source, person, at, leftSource), current), ...remove.map((item) => this.removeWrite(item)), ...check]);
  }

  /**
   * Puts a person under an identity its channel assigns (SCIM: `scim:<id>`), unconditionally: the
   * channel orders its own writes (a SCIM resource's version). Other sources still meet it by email
   * and employeeId (speakingPeople). A legacy copy of it is deleted in the same transaction; its index items
   * are put with it (those of an email it had before stay, stale: nothing read says which they are).
   */
  async putIdentifiedPerson(source: string, identity: string, person: Person, lastEventAt: string): Promise<void> {
    await this.table.guard('putIdentifiedPerson', async () => {
      const at = canonicalTime('putIdentifiedPerson', lastEventAt);
      const item: PersonItem = { ...this.personItem(source, person, at), ...keys.person(source, identity), identity };
      const TableName = this.table.tableName;
      await this.commit([
        { actions: [{ Put: { TableName, Item: item } }, { Delete: { TableName, Key: keys.legacyPerson(source, identity) } }], shards: [shardOf(item)], indexPuts: keys.personIndex(item) },
      ]);
    });
  }

  /** True when a person is stored under this identity (its shard, or the legacy partition a migration has not emptied yet). */
  async hasIdentifiedPerson(source: string, identity: string): Promise<boolean> {
    return this.table.guard('hasIdentifiedPerson', async () => {
      for (const key of [keys.person(source, identity), keys.legacyPerson(source, identity)]) {
        if (await this.table.getItem(PersonItemSchema, key, 'person')) return true;
      }
      return false;
    });
  }

  private personItem(source: string, person: Person, at: string, leftSource = false): PersonItem {
    const identity = personIdentity(person);
    return {
      ...keys.person(source, identity),
      email: person.email,
      employeeId: person.employeeId,
      status: person.status,
      attributes: { ...person.attributes },
      source,
      identity,
      lastEventAt: at,
      leftSource,
    };
  }

  /**
   * One update of a marker that carries a lease (`PEOPLEMIGRATION`, `PEOPLEINDEX`): `fields` written (one whose
   * value is undefined is removed) and the lease renewed, conditional on this instance holding it. `take`: the
   * lease taken instead, when free, expired or ours (`takeOpen`: and no doneAt yet); `end`: doneAt set and the
   * lease released. The item after the update, or null when the condition failed.
   */
  private async markerUpdate(key: ItemKey, fields: Record<string, unknown>, how: 'take' | 'takeOpen' | 'renew' | 'end'): Promise<Item | null> {
    const now = this.table.now();
    const names: Record<string, string> = { '#owner': 'owner', '#exp': 'leaseExpiresAt' };
    const values: Record<string, unknown> = { ':me': this.migrationOwner };
    const sets: string[] = [];
    const removes: string[] = [];
    Object.entries(how === 'end' ? { ...fields, doneAt: new Date(now).toISOString() } : fields).forEach(([field, value], i) => {
      names[`#f${i}`] = field;
      if (value === undefined) removes.push(`#f${i}`);
      else {
        values[`:f${i}`] = value;
        sets.push(`#f${i} = :f${i}`);
      }
    });
    let condition = '#owner = :me';
    if (how === 'end') removes.push('#owner', '#exp');
    else {
      values[':exp'] = now + MIGRATION_LEASE_MS;
      sets.push('#exp = :exp');
    }
    if (how === 'take' || how === 'takeOpen') {
      sets.push('#owner = :me');
      values[':now'] = now;
      condition = 'attribute_not_exists(#owner) OR #exp < :now OR #owner = :me';
      if (how === 'takeOpen') {
        names['#done'] = 'doneAt';
        condition = `attribute_not_exists(#done) AND (${condition})`;
      }
    }
    try {
      const out = await this.table.update({
        Key: key,
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      });
      return out.Attributes ?? {};
    } catch (err) {
      if (isConditionFailed(err)) return null;
      throw err;
    }
  }

  /** The migration's lease: taken when free, expired or ours; null when another process holds it. */
  private async takeMigrationLease(): Promise<{ lastSk?: string; moved: number } | null> {
    const raw = await this.markerUpdate(keys.peopleMigration(), {}, 'take');
    if (raw === null) return null;
    const item = this.table.parse(PeopleMigrationItemSchema, raw, 'people migration', keys.peopleMigration());
    return { ...(item.lastSk !== undefined ? { lastSk: item.lastSk } : {}), moved: item.moved ?? 0 };
  }

  /** Records the last sk moved and renews the lease; null when the lease was lost (another owner took it over). */
  private async checkpointMigration(lastSk: string, moved: number): Promise<{ lastSk: string; moved: number } | null> {
    return (await this.markerUpdate(keys.peopleMigration(), { lastSk, moved }, 'renew')) === null ? null : { lastSk, moved };
  }

  /** The end: doneAt set, lease and checkpoint removed (the next migration, if an old version wrote again, starts over). */
  private async endMigration(moved: number): Promise<void> {
    await this.markerUpdate(keys.peopleMigration(), { moved, lastSk: undefined }, 'end');
  }

  /**
   * The index backfill's lease: taken when free, expired or ours, with where to go on (the checkpoint, else
   * the legacy partition's start); `done` when the marker has doneAt; null when another process holds it.
   */
  private async takeIndexLease(): Promise<{ checkpoint: IndexCheckpoint; indexed: number } | 'done' | null> {
    const raw = await this.markerUpdate(keys.peopleIndex(), {}, 'takeOpen');
    // either done (for good) or another owner's live lease
    if (raw === null) return (await this.personIndexDone()) ? 'done' : null;
    const item = this.table.parse(PeopleIndexItemSchema, raw, 'people index', keys.peopleIndex());
    const checkpoint: IndexCheckpoint = { pk: item.checkpointPk ?? LEGACY_PEOPLE_PK, ...(item.checkpointSk !== undefined ? { sk: item.checkpointSk } : {}) };
    return { checkpoint, indexed: item.indexed ?? 0 };
  }

  /** After a page of partition `pk`: the rest of it, else the next partition's start, else undefined (every partition walked). */
  private nextIndexCheckpoint(pk: string, lastKey: Item | undefined): IndexCheckpoint | undefined {
    if (lastKey !== undefined) return { pk, sk: String(lastKey.sk) };
    const next = INDEX_PARTITIONS[INDEX_PARTITIONS.indexOf(pk) + 1];
    return next === undefined ? undefined : { pk: next };
  }

  /** Records where the backfill goes on and renews the lease; false when the lease was lost (another owner took it over). */
  private async checkpointIndex(at: IndexCheckpoint, indexed: number): Promise<boolean> {
    return (await this.markerUpdate(keys.peopleIndex(), { checkpointPk: at.pk, checkpointSk: at.sk, indexed }, 'renew')) !== null;
  }

  /** The end: doneAt set, lease and checkpoint removed; from here on person events read through the index. False when the lease was lost. */
  private async endIndex(indexed: number): Promise<boolean> {
    return (await this.markerUpdate(keys.peopleIndex(), { indexed, checkpointPk: undefined, checkpointSk: undefined }, 'end')) !== null;
  }

  /** Moves a page of legacy people: their shard copies read (one BatchGetItem), then batched moves per shard. */
  private async moveLegacy(items: readonly PersonItem[]): Promise<void> {
    const sharded = await this.shardCopies(items);
    await this.writeByShard(
      items.map((old) => ({ shard: shardOf(old), write: this.moveWrite(old, sharded.get(old.sk)), ok: true, alone: () => this.moveAlone(old, sharded.get(old.sk)) })),
    );
  }

  private async shardCopies(items: readonly PersonItem[]): Promise<Map<string, PersonItem>> {
    const found = await this.table.batchGet(items.map((old) => ({ pk: peopleShardPk(shardOf(old)), sk: old.sk })));
    return new Map(found.map((raw) => this.table.parse(PersonItemSchema, raw, 'person', raw)).map((item) => [item.sk, item]));
  }

  /**
   * Copy `old` to its shard (with its index items) when the shard's copy is absent or older, and delete it
   * (unchanged): one transaction.
   */
  private moveWrite(old: PersonItem, sharded: PersonItem | undefined): PersonWrite {
    const TableName = this.table.tableName;
    const del: TransactItem = { Delete: { TableName, Key: { pk: old.pk, sk: old.sk }, ...unchangedCondition(old) } };
    if (sharded !== undefined && sharded.lastEventAt >= old.lastEventAt) return { actions: [del], shards: [] };
    const item: PersonItem = { ...old, pk: peopleShardPk(shardOf(old)) };
    const put: TransactItem = {
      Put: { TableName, Item: item, ...(sharded ? unchangedCondition(sharded) : { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }) },
    };
    return { actions: [put, del], shards: [shardOf(old)], indexPuts: keys.personIndex(item) };
  }

  /** One legacy person moved on its own: read again and retried while either copy keeps changing. */
  private async moveAlone(old: PersonItem, sharded: PersonItem | undefined): Promise<true> {
    let legacy: PersonItem | null = old;
    let copy = sharded;
    for (let attempt = 1; legacy !== null; attempt += 1) {
      if (await this.commit([this.moveWrite(legacy, copy)])) return true;
      if (attempt >= WRITE_ATTEMPTS) throw new StateError(`migrateLegacyPeople: ${describePerson(old)} kept changing; ${WRITE_ATTEMPTS} attempts lost the race`);
      [legacy, copy] = await Promise.all([
        this.table.getItem(PersonItemSchema, { pk: old.pk, sk: old.sk }, 'person'),
        this.table.getItem(PersonItemSchema, { pk: peopleShardPk(shardOf(old)), sk: old.sk }, 'person').then((c) => c ?? undefined),
      ]);
    }
    return true;
  }

  private async snapshotItems(source: string, snapshotId: string, keysOnly = false): Promise<Item[]> {
    return this.table.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :part)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': keys.snapshotPk(source, snapshotId), ':part': keys.snapshotPartPrefix },
      ConsistentRead: true,
      ScanIndexForward: true,
      ...(keysOnly ? { ProjectionExpression: '#pk, #sk' } : {}),
    });
  }

  private async decodePart(item: SnapshotPartItem): Promise<Person[]> {
    const text = typeof item.people === 'string' ? item.people : (await gunzipAsync(item.people)).toString('utf8');
    return this.table.parse(PeopleSchema, this.table.parseJson(text, 'snapshot part', item), 'snapshot part', item);
  }
}
