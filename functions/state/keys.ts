// *-store.ts --> keys: how domain values map to pk/sk (the single-table layout in one place)
// Single-table item model (pk / sk are strings; `expiresAt` is the table's TTL attribute, epoch seconds;
// target ids in keys are lower-cased):
//
// | item          | pk                              | sk                        | attributes                                                                          |
// | ------------- | ------------------------------- | ------------------------- | ----------------------------------------------------------------------------------- |
// | person        | `PEOPLE`                        | `<source>#<identity>`     | email, employeeId?, status, attributes (map), source, identity, lastEventAt, leftSource |
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
// | blocked snap. | `BLOCKED#<source>`              | `<snapshotId>`            | code, blockedAt, expiresAt (30 days)                                                |
//
// | source        | `SOURCES`                       | `<source>`                | snapshotAt: occurredAt of the source's newest snapshot (stamps every person of it)  |
// | last delivery | `DELIVERED`                     | `<source>`                | at: when the source last delivered anything (our clock; duplicates count)          |
//
// identity = `emp:<employeeId>`, or `email:<normalised email>` without one.
// A person's identity comes from the domain's rule (sync/people.ts personIdentity).
import { maskEmails } from '../sync/email.ts';
import type { TargetRef } from '../sync/types.ts';

export const PEOPLE_PK = 'PEOPLE';
export const SOURCES_PK = 'SOURCES';
export const DELIVERED_PK = 'DELIVERED';
export const SINGLETON_SK = '-';

const targetKey = (t: TargetRef): string => `${t.instanceId.toLowerCase()}#${t.orgId.toLowerCase()}`;

export const keys = {
  person: (source: string, identity: string): { pk: typeof PEOPLE_PK; sk: string } => ({ pk: PEOPLE_PK, sk: `${source}#${identity}` }),
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
} as const;

/** `pk: …, sk: …` with emails masked: how errors name an item. */
export function describeKey(key: { pk: unknown; sk: unknown }): string {
  return maskEmails(`pk: ${String(key.pk)}, sk: ${String(key.sk)}`);
}
