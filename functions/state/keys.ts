// *-store.ts --> keys: how domain values map to pk/sk (the single-table layout in one place)
// Single-table item model (pk / sk are strings; `expiresAt` is the table's TTL attribute, epoch seconds;
// target ids in keys are lower-cased):
//
// | item          | pk                              | sk                        | attributes                                                                          |
// | ------------- | ------------------------------- | ------------------------- | ----------------------------------------------------------------------------------- |
// | person        | `PEOPLE`                        | `<source>#<identity>`     | email, employeeId?, status, attributes (map), source, identity, lastEventAt, leftSource |
// | delivery      | `DELIVERY#<id>`                 | `-`                       | expiresAt (a delivery past it counts as absent)                                     |
// | ledger entry  | `LEDGER#<instanceId>#<orgId>`   | `<email>`                 | the LedgerEntry: email, state, role, inviteId?, updatedAt, invitedAt?, renewals, runId, personEventAt?, error? |
// | lease         | `LEASE#<instanceId>#<orgId>`    | `-`                       | owner?, leaseExpiresAt? (epoch ms), seq (the target's change counter)              |
// | run           | `RUN#<runId>`                   | `-`                       | body (RunRecord as JSON), expiresAt                                                 |
// | approval      | `APPROVAL#<instanceId>#<orgId>` | `<planHash>`              | runId, expiresAt (7 days)                                                           |
// | snapshot part | `SNAPSHOT#<source>#<snapshotId>`| `PART#<000001>`           | part, parts, people (JSON text; gzipped JSON bytes when over 300 KB), expiresAt (2 days) |
// | blocked snap. | `BLOCKED#<source>`              | `<snapshotId>`            | code, blockedAt, expiresAt (30 days)                                                |
//
// identity = `emp:<employeeId>`, or `email:<normalised email>` without one.
// A person's identity comes from the domain's rule (sync/people.ts personIdentity).
import { maskEmails } from '../sync/email.ts';
import type { TargetRef } from '../sync/types.ts';

export const PEOPLE_PK = 'PEOPLE';
export const SINGLETON_SK = '-';

const targetKey = (t: TargetRef): string => `${t.instanceId.toLowerCase()}#${t.orgId.toLowerCase()}`;

export const keys = {
  person: (source: string, identity: string): { pk: typeof PEOPLE_PK; sk: string } => ({ pk: PEOPLE_PK, sk: `${source}#${identity}` }),
  personPrefix: (source: string) => `${source}#`,
  delivery: (source: string, id: string) => ({ pk: `DELIVERY#${id}`, sk: source }),
  /** the delivery as versions before `(source, id)` wrote it: any source's event with this id */
  legacyDelivery: (id: string) => ({ pk: `DELIVERY#${id}`, sk: SINGLETON_SK }),
  ledgerPk: (t: TargetRef) => `LEDGER#${targetKey(t)}`,
  ledger: (t: TargetRef, email: string) => ({ pk: `LEDGER#${targetKey(t)}`, sk: email }),
  lease: (t: TargetRef) => ({ pk: `LEASE#${targetKey(t)}`, sk: SINGLETON_SK }),
  run: (runId: string) => ({ pk: `RUN#${runId}`, sk: SINGLETON_SK }),
  approval: (t: TargetRef, planHash: string) => ({ pk: `APPROVAL#${targetKey(t)}`, sk: planHash }),
  snapshotPk: (source: string, snapshotId: string) => `SNAPSHOT#${source}#${snapshotId}`,
  snapshotPart: (source: string, snapshotId: string, part: number) => ({
    pk: `SNAPSHOT#${source}#${snapshotId}`,
    sk: `PART#${String(part).padStart(6, '0')}`,
  }),
  snapshotPartPrefix: 'PART#',
  blocked: (source: string, snapshotId: string) => ({ pk: `BLOCKED#${source}`, sk: snapshotId }),
} as const;

/** `pk: …, sk: …` with emails masked: how errors name an item. */
export function describeKey(key: { pk: unknown; sk: unknown }): string {
  return maskEmails(`pk: ${String(key.pk)}, sk: ${String(key.sk)}`);
}
