// table.ts / *-store.ts --> items.schema (zod) : every item read from the table is validated here before it becomes a domain value.
import { z } from 'zod';
import { BLOCK_CODES, ORG_ROLES, SKIP_REASONS } from '../sync/types.ts';
import type { LedgerEntry, Person, TargetReport } from '../sync/types.ts';
import type { RunRecord } from '../sync/ports.ts';

/** A person as HR sent them (also the element of a snapshot part's `people`). */
export const PersonSchema = z.object({
  email: z.string().min(1),
  employeeId: z.string().optional(),
  status: z.enum(['active', 'terminated']),
  attributes: z.record(z.string(), z.string()),
}) satisfies z.ZodType<Person>;

export const PeopleSchema = z.array(PersonSchema);

/** Every item's key: `pk` and `sk` strings (the single-table layout is in keys.ts). */
const ItemKeySchema = z.object({ pk: z.string(), sk: z.string() });
/** The key of an item that is alone in its partition (sk `-`). */
const SingletonKeySchema = ItemKeySchema.extend({ sk: z.literal('-') });

/** pk `PEOPLE`, sk `<source>#<identity>` */
export const PersonItemSchema = PersonSchema.extend({
  pk: z.literal('PEOPLE'),
  sk: z.string(),
  source: z.string(),
  identity: z.string(),
  lastEventAt: z.string(),
  leftSource: z.boolean(),
});
export type PersonItem = z.infer<typeof PersonItemSchema>;

/** pk `DELIVERY#<id>`, sk `<source>` (or `-`: written by versions that deduped on the id alone) */
export const DeliveryItemSchema = ItemKeySchema.extend({ expiresAt: z.number() });
export type DeliveryItem = z.infer<typeof DeliveryItemSchema>;

/** pk `LEDGER#<instanceId>#<orgId>`, sk `<email>` */
export const LedgerItemSchema = ItemKeySchema.extend({
  email: z.string(),
  state: z.enum(['intent', 'sent', 'failed', 'revoked']),
  role: z.enum(ORG_ROLES),
  inviteId: z.string().optional(),
  updatedAt: z.string(),
  invitedAt: z.string().optional(),
  renewals: z.number().int().nonnegative(),
  runId: z.string(),
  personEventAt: z.string().optional(),
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
});
export type LeaseItem = z.infer<typeof LeaseItemSchema>;

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

/** pk `APPROVAL#<instanceId>#<orgId>`, sk `<planHash>` */
export const ApprovalItemSchema = ItemKeySchema.extend({ runId: z.string(), expiresAt: z.number() });
export type ApprovalItem = z.infer<typeof ApprovalItemSchema>;

/** pk `RUN#<runId>`, sk `-`; `body` is the RunRecord as JSON text */
export const RunItemSchema = SingletonKeySchema.extend({ body: z.string(), expiresAt: z.number() });
export type RunItem = z.infer<typeof RunItemSchema>;

const count = z.number().int().nonnegative();

export const ActionCountsSchema = z.object({ invite: count, renew: count, fixRole: count, revoke: count });
export const SkipCountsSchema = z.record(z.enum(SKIP_REASONS), count);

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
      code: z.enum(['leaseBusy', 'unauthorized', 'forbidden', 'unreachable', 'deadline', 'notFound', 'other']),
      message: z.string(),
    })
    .optional(),
  planHash: z.string().optional(),
}) satisfies z.ZodType<TargetReport>;

/** The JSON body of a run item. */
export const RunRecordSchema = z.object({
  mode: z.enum(['apply', 'plan']),
  runId: z.string(),
  complete: z.boolean(),
  targets: z.array(TargetReportSchema),
  trigger: z.enum(['cli', 'webhook', 'event', 'schedule', 'queue', 'demo']),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
}) satisfies z.ZodType<RunRecord>;
