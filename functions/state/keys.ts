// *-store.ts --> keys: how domain values map to pk/sk (the single-table layout in one place)
// Single-table item model (pk / sk are strings; `expiresAt` is the table's TTL attribute, epoch seconds;
// target ids in keys are lower-cased):
//
// | item          | pk                              | sk                        | attributes                                                                          |
// | ------------- | ------------------------------- | ------------------------- | ----------------------------------------------------------------------------------- |
// | person        | `PEOPLE#<shard>`                | `<source>#<identity>`     | email, employeeId?, status, attributes (map), source, identity, lastEventAt, leftSource; |
// |               |                                 |                           | shard = FNV-1a 32 of the sk mod PEOPLE_SHARDS (16): people spread over 16 partitions  |
// | people digest | `PEOPLE#<shard>`                | `#DIGEST`                 | token (random, new in the same transaction as every person write of the shard): a    |
// |               |                                 |                           | reader that holds the shard's people read under this token need not read them again  |
// | legacy person | `PEOPLE`                        | `<source>#<identity>`     | a person as versions before the shards wrote it; read beside the shards (newest      |
// |               |                                 |                           | lastEventAt wins) and moved to its shard by the people migration                     |
// | people migr.  | `PEOPLEMIGRATION`               | `-`                       | owner?, leaseExpiresAt? (epoch ms), lastSk? (checkpoint), doneAt?, moved             |
// | person/email  | `PERSONBYEMAIL#<source>#<email>`| `<identity>`              | (none): a person of the source with this email is stored under this identity (its   |
// |               |                                 |                           | shard or legacy key); put in the transaction of every person write; may be stale     |
// |               |                                 |                           | (readers check the person item), never missing once the people index is done        |
// | person/emp.id | `PERSONBYEMP#<source>#<empId>`  | `<identity>`              | (none): the same for the person's employeeId (people without one have none)         |
// | people index  | `PEOPLEINDEX`                   | `-`                       | owner?, leaseExpiresAt? (epoch ms), checkpointPk?, checkpointSk? (where the backfill |
// |               |                                 |                           | resumes), doneAt? (every person stored before it has its index items), indexed      |
// | delivery      | `DELIVERY#<id>`                 | `<source>`                | expiresAt (a delivery past it counts as absent); sk `-`: written by versions that   |
// |               |                                 |                           | deduped on the id alone, counts for every source until it expires                   |
// | failed deliv. | `DELIVERY#<id>`                 | `FAILED#<source>`         | source, id, failedAt, message, rows (JSON text; gzipped when over 300 KB), rowCount, |
// |               |                                 |                           | expiresAt (30 days); a refused roster drop, never counted by hasDelivery            |
// | ledger entry  | `LEDGER#<instanceId>#<orgId>`   | `<email>`                 | the LedgerEntry: email, state, role, inviteId?, updatedAt, invitedAt?, renewals, runId, personEventAt?, adopted?, departedAt?, unsent?, error? |
// | lease         | `LEASE#<instanceId>#<orgId>`    | `-`                       | owner?, leaseExpiresAt? (epoch ms), seq (the target's change counter)              |
// | lease end     | `LEASE#<instanceId>#<orgId>`    | `END#<owner>`             | owner, endedAt (epoch ms: when a taken-over or unlocked lease ended), expiresAt (30 days) |
// | run           | `RUN#<runId>`                   | `-`                       | body (RunRecord as JSON), expiresAt                                                 |
// | run actions   | `RUN#<runId>`                   | `ACTIONS#<000001>`        | actions (JSON array of RunAction, at most 250), expiresAt (30 days)                 |
// | run list      | `RUNS#<yyyy-mm>` (startedAt's)  | `<startedAt>#<runId>`     | body (RunRecord as JSON), expiresAt: recent runs by Query, newest first, no Scan    |
// | approval      | `APPROVAL#<instanceId>#<orgId>` | `<planHash>`              | runId, approvedBy? (the approver's ARN), expiresAt (7 days)                         |
// | snapshot part | `SNAPSHOT#<source>#<snapshotId>`| `PART#<000001>`           | part, parts, people (JSON text; gzipped JSON bytes when over 300 KB), expiresAt (2 days) |
// | SCIM resource | `SCIM#<source>#<User|Group>`    | `<id>`                    | id, kind, doc (attributes as JSON text), version, created, lastModified             |
// | SCIM unique   | `SCIMIDX#<source>#<User|Group>` | `<attr>#<lower value>`    | id: who holds this userName / externalId / displayName (same transaction as it)     |
// | SCIM member   | `SCIMMEMBER#<source>#<userId>`  | `<groupId>`               | (none): the user is a member of the group                                           |
// | SCIM g.member | `SCIMGROUPMEMBER#<source>#<gid>`| `<member value>`          | member (its JSON), n (its place): one member of the group (the group's item says     |
// |               |                                 |                           | membersApart; groups written before keep `members` in their doc until their next write) |
// | blocked snap. | `BLOCKED#<source>`              | `<snapshotId>`            | code, blockedAt, expiresAt (30 days)                                                |
//
// | source        | `SOURCES`                       | `<source>`                | snapshotAt: occurredAt of the source's newest snapshot (stamps every person of it)  |
// | last delivery | `DELIVERED`                     | `<source>`                | at: when the source last delivered anything (our clock; duplicates count)          |
//
// identity = `emp:<employeeId>`, or `email:<normalised email>` without one.
// A person's identity comes from the domain's rule (sync/people.ts personIdentity).
import { maskEmails } from '../sync/email.ts';
import type { TargetRef } from '../sync/types.ts';

/** The one partition every person lived in before the shards (legacy: read and migrated, never written). */
export const LEGACY_PEOPLE_PK = 'PEOPLE';
/** How many partitions people spread over (`PEOPLE#0` … `PEOPLE#15`). Changing it moves every person: don't. */
export const PEOPLE_SHARDS = 16;
/** The sk of a shard's digest item (no person's sk starts with `#`: sources are not empty). */
export const PEOPLE_DIGEST_SK = '#DIGEST';
export const PEOPLE_MIGRATION_PK = 'PEOPLEMIGRATION';
export const PEOPLE_INDEX_PK = 'PEOPLEINDEX';
export const SOURCES_PK = 'SOURCES';
export const DELIVERED_PK = 'DELIVERED';
export const SINGLETON_SK = '-';

/** FNV-1a (32 bit) of the UTF-8 bytes: a stable hash, the same in every process and version. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The shard of a person's sk `<source>#<identity>`. */
export const peopleShard = (sk: string): number => fnv1a(sk) % PEOPLE_SHARDS;
export const peopleShardPk = (shard: number): `PEOPLE#${number}` => `PEOPLE#${shard}`;
/** Every shard's pk, `PEOPLE#0` first. */
export const PEOPLE_SHARD_PKS: readonly string[] = Array.from({ length: PEOPLE_SHARDS }, (_, i) => peopleShardPk(i));

/** What the person index items of a person are made of (a person item has more). */
export interface IndexedPerson {
  source: string;
  identity: string;
  email: string;
  employeeId?: string | undefined;
}

/** The pk of the index items of a source's people with this email (sources have no `#`: no two sources share one). */
const personByEmailPk = (source: string, email: string): string => `PERSONBYEMAIL#${source}#${email}`;
/** The pk of the index items of a source's people with this employeeId. */
const personByEmployeeIdPk = (source: string, employeeId: string): string => `PERSONBYEMP#${source}#${employeeId}`;

const targetKey = (t: TargetRef): string => `${t.instanceId.toLowerCase()}#${t.orgId.toLowerCase()}`;

export const keys = {
  person: (source: string, identity: string): { pk: `PEOPLE#${number}`; sk: string } => {
    const sk = `${source}#${identity}`;
    return { pk: peopleShardPk(peopleShard(sk)), sk };
  },
  /** a person's key as versions before the shards wrote it */
  legacyPerson: (source: string, identity: string): { pk: typeof LEGACY_PEOPLE_PK; sk: string } => ({ pk: LEGACY_PEOPLE_PK, sk: `${source}#${identity}` }),
  peopleDigest: (shard: number) => ({ pk: peopleShardPk(shard), sk: PEOPLE_DIGEST_SK }),
  peopleMigration: () => ({ pk: PEOPLE_MIGRATION_PK, sk: SINGLETON_SK }),
  /** the people index backfill's marker: lease, checkpoint, doneAt */
  peopleIndex: () => ({ pk: PEOPLE_INDEX_PK, sk: SINGLETON_SK }),
  /** the index pks to Query for a source's people with this email or (when given) this employeeId */
  personIndexPks: (source: string, email: string, employeeId?: string): string[] =>
    employeeId === undefined ? [personByEmailPk(source, email)] : [personByEmailPk(source, email), personByEmployeeIdPk(source, employeeId)],
  /** the index items a stored person needs: by email, and by employeeId when it has one (sk: the identity) */
  personIndex: (p: IndexedPerson): { pk: string; sk: string }[] => keys.personIndexPks(p.source, p.email, p.employeeId).map((pk) => ({ pk, sk: p.identity })),
  personPrefix: (source: string) => `${source}#`,
  /** per HR source, the occurredAt of its newest snapshot */
  source: (source: string): { pk: typeof SOURCES_PK; sk: string } => ({ pk: SOURCES_PK, sk: source }),
  delivery: (source: string, id: string) => ({ pk: `DELIVERY#${id}`, sk: source }),
  /** a delivery refused whole (source names have no `#`, so this never reads as a delivery) */
  failedDelivery: (source: string, id: string) => ({ pk: `DELIVERY#${id}`, sk: `FAILED#${source}` }),
  /** per HR source, when it last delivered anything */
  sourceDelivery: (source: string): { pk: typeof DELIVERED_PK; sk: string } => ({ pk: DELIVERED_PK, sk: source }),
  /** the delivery as versions before `(source, id)` wrote it: any source's event with this id */
  legacyDelivery: (id: string) => ({ pk: `DELIVERY#${id}`, sk: SINGLETON_SK }),
  ledgerPk: (t: TargetRef) => `LEDGER#${targetKey(t)}`,
  ledger: (t: TargetRef, email: string) => ({ pk: `LEDGER#${targetKey(t)}`, sk: email }),
  lease: (t: TargetRef) => ({ pk: `LEASE#${targetKey(t)}`, sk: SINGLETON_SK }),
  leaseEnd: (t: TargetRef, owner: string) => ({ pk: `LEASE#${targetKey(t)}`, sk: `END#${owner}` }),
  leaseEndPrefix: 'END#',
  run: (runId: string) => ({ pk: `RUN#${runId}`, sk: SINGLETON_SK }),
  runActions: (runId: string, chunk: number) => ({ pk: `RUN#${runId}`, sk: `ACTIONS#${String(chunk).padStart(6, '0')}` }),
  runActionsPrefix: 'ACTIONS#',
  /** the month partition of the run list: `RUNS#2025-03` for a run started in March 2025 (UTC) */
  runListPk: (month: string) => `RUNS#${month}`,
  runList: (startedAt: string, runId: string) => ({ pk: `RUNS#${startedAt.slice(0, 7)}`, sk: `${startedAt}#${runId}` }),
  approval: (t: TargetRef, planHash: string) => ({ pk: `APPROVAL#${targetKey(t)}`, sk: planHash }),
  snapshotPk: (source: string, snapshotId: string) => `SNAPSHOT#${source}#${snapshotId}`,
  snapshotPart: (source: string, snapshotId: string, part: number) => ({
    pk: `SNAPSHOT#${source}#${snapshotId}`,
    sk: `PART#${String(part).padStart(6, '0')}`,
  }),
  snapshotPartPrefix: 'PART#',
  blocked: (source: string, snapshotId: string) => ({ pk: `BLOCKED#${source}`, sk: snapshotId }),
  scimResourcePk: (source: string, kind: string) => `SCIM#${source}#${kind}`,
  scimResource: (source: string, kind: string, id: string) => ({ pk: `SCIM#${source}#${kind}`, sk: id }),
  scimUnique: (source: string, kind: string, attr: string, lowerValue: string) => ({ pk: `SCIMIDX#${source}#${kind}`, sk: `${attr}#${lowerValue}` }),
  scimMemberPk: (source: string, userId: string) => `SCIMMEMBER#${source}#${userId}`,
  scimMember: (source: string, userId: string, groupId: string) => ({ pk: `SCIMMEMBER#${source}#${userId}`, sk: groupId }),
  scimGroupMemberPk: (source: string, groupId: string) => `SCIMGROUPMEMBER#${source}#${groupId}`,
  scimGroupMember: (source: string, groupId: string, value: string) => ({ pk: `SCIMGROUPMEMBER#${source}#${groupId}`, sk: value }),
} as const;

/** `pk: …, sk: …` with emails masked: how errors name an item. */
export function describeKey(key: { pk: unknown; sk: unknown }): string {
  return maskEmails(`pk: ${String(key.pk)}, sk: ${String(key.sk)}`);
}
