// table.ts / *-store.ts --> items.schema (zod) : every item read from the table is validated here before it becomes a domain value.
import { z } from 'zod';
import { BLOCK_CODES, ORG_ROLES, SKIP_REASONS } from '../sync/types.ts';
import type { LedgerEntry, Person, SkipReason, TargetReport } from '../sync/types.ts';
import type { RunAction, RunRecord } from '../sync/ports.ts';

/** A person as HR sent them (also the element of a snapshot part's `people`). */
export const PersonSchema = z.object({
  email: z.string().min(1),
  employeeId: z.string().optional(),
  status: z.enum(['active', 'terminated']),
  /** strings, or lists of strings (items written before lists existed hold strings only and still read) */
  attributes: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
}) satisfies z.ZodType<Person>;

export const PeopleSchema = z.array(PersonSchema);

/** Every item's key: `pk` and `sk` strings (the single-table layout is in keys.ts). */
export const ItemKeySchema = z.object({ pk: z.string(), sk: z.string() });
/** The key of an item that is alone in its partition (sk `-`). */
const SingletonKeySchema = ItemKeySchema.extend({ sk: z.literal('-') });

/** pk `PEOPLE#<shard>` (or `PEOPLE`: written before the shards, until the people migration moves it), sk `<source>#<identity>` */
export const PersonItemSchema = PersonSchema.extend({
  pk: z.string().regex(/^PEOPLE(#\d+)?$/),
  sk: z.string(),
  source: z.string(),
  identity: z.string(),
  lastEventAt: z.string(),
  leftSource: z.boolean(),
});
export type PersonItem = z.infer<typeof PersonItemSchema>;

/** pk `PEOPLE#<shard>`, sk `#DIGEST`: a new token with every person write of the shard */
export const PeopleDigestItemSchema = ItemKeySchema.extend({ token: z.string() });

/** pk `PEOPLEMIGRATION`, sk `-`: the lease (owner, expiry), the checkpoint and the end of the people migration */
export const PeopleMigrationItemSchema = ItemKeySchema.extend({
  owner: z.string().optional(),
  leaseExpiresAt: z.number().optional(),
  lastSk: z.string().optional(),
  doneAt: z.string().optional(),
  moved: z.number().int().nonnegative().optional(),
});

/** pk `PERSONBYEMAIL#<source>#<email>` or `PERSONBYEMP#<source>#<employeeId>`, sk `<identity>`: where a person of that email / id is stored */
export const PersonIndexItemSchema = ItemKeySchema.extend({ pk: z.string().regex(/^PERSONBY(EMAIL|EMP)#/) });

/** pk `PEOPLEINDEX`, sk `-`: the lease (owner, expiry), the checkpoint and the end of the people index backfill */
export const PeopleIndexItemSchema = SingletonKeySchema.extend({
  owner: z.string().optional(),
  leaseExpiresAt: z.number().optional(),
  checkpointPk: z.string().optional(),
  checkpointSk: z.string().optional(),
  doneAt: z.string().optional(),
  indexed: z.number().int().nonnegative().optional(),
});
export type PeopleIndexItem = z.infer<typeof PeopleIndexItemSchema>;

/** pk `SOURCES`, sk `<source>`: the occurredAt of the source's newest snapshot (absent before the first one) */
export const SourceItemSchema = ItemKeySchema.extend({ pk: z.literal('SOURCES'), snapshotAt: z.string() });
export type SourceItem = z.infer<typeof SourceItemSchema>;

/** pk `DELIVERY#<id>`, sk `<source>` (or `-`: written by versions that deduped on the id alone) */
export const DeliveryItemSchema = ItemKeySchema.extend({ expiresAt: z.number() });
export type DeliveryItem = z.infer<typeof DeliveryItemSchema>;

/** One problem of a failed delivery. */
export const FailedRowSchema = z.object({ line: z.number().optional(), field: z.string(), message: z.string() });
export const FailedRowsSchema = z.array(FailedRowSchema);

/** pk `DELIVERY#<id>`, sk `FAILED#<source>`: a delivery refused whole; rows as JSON text, gzipped bytes when large */
export const FailedDeliveryItemSchema = ItemKeySchema.extend({
  source: z.string(),
  id: z.string(),
  failedAt: z.string(),
  message: z.string(),
  rows: z.union([z.string(), z.instanceof(Uint8Array)]),
  rowCount: z.number().int().nonnegative(),
  expiresAt: z.number(),
});
/** pk `DELIVERED`, sk `<source>`: when the source last delivered anything */
export const SourceDeliveryItemSchema = ItemKeySchema.extend({ at: z.string() });

/** pk `LEDGER#<instanceId>#<orgId>`, sk `<email>` */
export const LedgerItemSchema = ItemKeySchema.extend({
  email: z.string(),
  state: z.enum(['intent', 'sent', 'failed', 'revoked', 'member']),
  role: z.enum(ORG_ROLES),
  inviteId: z.string().optional(),
  updatedAt: z.string(),
  invitedAt: z.string().optional(),
  renewals: z.number().int().nonnegative(),
  runId: z.string(),
  personEventAt: z.string().optional(),
  adopted: z.boolean().optional(),
  departedAt: z.string().optional(),
  unsent: z.boolean().optional(),
  error: z.string().optional(),
});
export type LedgerItem = z.infer<typeof LedgerItemSchema>;

/** The ledger entry part of a ledger item (what getLedger returns). */
export const toLedgerEntry = (item: LedgerItem): LedgerEntry => {
  const { pk: _pk, sk: _sk, ...entry } = item;
  return entry;
};

/** pk `LEASE#<instanceId>#<orgId>`, sk `-` */
export const LeaseItemSchema = SingletonKeySchema.extend({
  owner: z.string().optional(),
  leaseExpiresAt: z.number().optional(),
  seq: z.number().int(),
  /** epoch ms of the last acquire or renewal (absent on leases the landed version wrote) */
  renewedAt: z.number().optional(),
  /** who took the lease (absent on leases the landed version wrote; read tolerantly) */
  holder: z
    .object({ host: z.string(), pid: z.number().int(), processStart: z.string().optional() })
    .loose()
    .optional()
    .catch(undefined),
});
export type LeaseItem = z.infer<typeof LeaseItemSchema>;

/** pk `LEASE#<instanceId>#<orgId>`, sk `END#<owner>`: when that owner's lease ended (taken over or unlocked) */
export const LeaseEndItemSchema = ItemKeySchema.extend({ owner: z.string(), endedAt: z.number(), expiresAt: z.number() });

/** The `Item` a failed conditional write returns (raw attribute values: the document client does not unmarshall errors). */
export const RawLeaseImageSchema = z.object({
  owner: z.object({ S: z.string() }).optional(),
  seq: z.object({ N: z.string().regex(/^-?\d+$/) }).optional(),
});

/** pk `SNAPSHOT#<source>#<snapshotId>`, sk `PART#<000001>`; `people` is JSON text, or gzipped JSON bytes when large */
export const SnapshotPartItemSchema = ItemKeySchema.extend({
  part: z.number().int().positive(),
  parts: z.number().int().positive(),
  people: z.union([z.string(), z.instanceof(Uint8Array)]),
  expiresAt: z.number(),
});
export type SnapshotPartItem = z.infer<typeof SnapshotPartItemSchema>;

/** pk `APPROVAL#<instanceId>#<orgId>`, sk `<planHash>`; approvedBy (the approver's ARN) is absent when unknown and on items the landed version wrote */
export const ApprovalItemSchema = ItemKeySchema.extend({ runId: z.string(), approvedBy: z.string().optional(), expiresAt: z.number() });
export type ApprovalItem = z.infer<typeof ApprovalItemSchema>;

/** pk `RUN#<runId>`, sk `-`; `body` is the RunRecord as JSON text */
export const RunItemSchema = SingletonKeySchema.extend({ body: z.string(), expiresAt: z.number() });
export type RunItem = z.infer<typeof RunItemSchema>;

/** pk `RUNS#<yyyy-mm>`, sk `<startedAt>#<runId>`; `body` is the RunRecord as JSON text (the list of recent runs) */
export const RunListItemSchema = ItemKeySchema.extend({ body: z.string(), expiresAt: z.number() });

/** pk `RUN#<runId>`, sk `ACTIONS#<000001>`; `actions` is a JSON array of RunAction */
export const RunActionsItemSchema = ItemKeySchema.extend({ actions: z.string(), expiresAt: z.number() });

/** One stored change of a run (read tolerantly: unknown keys are kept out, not refused). */
export const RunActionSchema = z.object({
  target: z.string(),
  kind: z.enum(['invite', 'renew', 'fixRole', 'revoke', 'remove']),
  email: z.string(),
  role: z.enum(ORG_ROLES),
  inviteId: z.string().optional(),
  userId: z.string().optional(),
  fromRole: z.enum(ORG_ROLES).optional(),
  renewals: z.number().int().nonnegative().optional(),
  personEventAt: z.string().optional(),
  rule: z.object({ index: z.number().int(), when: z.record(z.string(), z.union([z.string(), z.array(z.string())])) }).optional(),
  reason: z.enum(['leftRoster', 'skipRule', 'noRule']).optional(),
  result: z.enum(['done', 'failed', 'notStarted', 'planned', 'blocked']),
  error: z.string().optional(),
}) satisfies z.ZodType<RunAction>;
export const RunActionsSchema = z.array(RunActionSchema);

const count = z.number().int().nonnegative();

/** `remove` reads as 0 on runs stored before removals existed. */
export const ActionCountsSchema = z.object({ invite: count, renew: count, fixRole: count, revoke: count, remove: count.default(0) });
/** Every skip reason; a reason a stored run lacks (written before the reason existed) reads as 0. */
export const SkipCountsSchema = z.object(Object.fromEntries(SKIP_REASONS.map((r) => [r, count.default(0)])) as Record<SkipReason, z.ZodDefault<typeof count>>);

export const TargetReportSchema = z.object({
  name: z.string(),
  instanceId: z.string(),
  orgId: z.string(),
  desired: count,
  pending: count,
  members: count,
  planned: ActionCountsSchema,
  done: ActionCountsSchema,
  failed: count,
  skipped: SkipCountsSchema,
  blocked: z.enum(BLOCK_CODES).nullable(),
  complete: z.boolean(),
  error: z
    .object({
      // a code a later version adds reads as `other`
      code: z.enum(['leaseBusy', 'unauthorized', 'forbidden', 'unreachable', 'deadline', 'notFound', 'interrupted', 'invalidResponse', 'other']).catch('other'),
      message: z.string(),
    })
    .optional(),
  planHash: z.string().optional(),
  // absent on runs stored before they were kept; read tolerantly (an entry that does not fit is dropped, not fatal)
  failures: z.array(z.object({ email: z.string(), reason: z.literal('ambiguous') })).optional().catch(undefined),
  failuresOmitted: count.optional().catch(undefined),
  warnings: z.array(z.object({ code: z.literal('missingScope'), scope: z.string() })).optional().catch(undefined),
  warningsOmitted: count.optional().catch(undefined),
  seats: z.object({ limit: count, reserve: count, used: count, free: count, noSeat: count }).optional(),
}) satisfies z.ZodType<TargetReport>;

/** The JSON body of a run item. */
export const RunRecordSchema = z.object({
  mode: z.enum(['apply', 'plan']),
  runId: z.string(),
  complete: z.boolean(),
  targets: z.array(TargetReportSchema),
  trigger: z.enum(['cli', 'webhook', 'event', 'schedule', 'queue', 'demo', 'scim', 's3', 'continuation']),
  continuation: z.object({ count: z.number().int().positive(), origin: z.string(), previous: z.string() }).optional().catch(undefined),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  held: z
    .object({ source: z.string(), snapshotId: z.string(), code: z.enum(BLOCK_CODES).optional(), occurredAt: z.string().optional(), people: z.number().optional() })
    .optional(),
}) satisfies z.ZodType<RunRecord>;

/** pk `BLOCKED#<source>`, sk `<snapshotId>`; runId, occurredAt and eventId are absent on items the landed version wrote */
export const BlockedItemSchema = ItemKeySchema.extend({
  code: z.enum(BLOCK_CODES),
  blockedAt: z.string(),
  expiresAt: z.number(),
  runId: z.string().optional(),
  occurredAt: z.string().optional(),
  eventId: z.string().optional(),
  people: z.number().optional(),
});
