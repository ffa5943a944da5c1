// Losant answer / request body --> zod schemas mirroring schemas/losant/*.json (draft-07) --> typed data
//
// Read tolerantly, write strictly: every ANSWER schema ignores unknown properties at every level (real
// answers carry `_type`, `_links` and fields newer than the published schemas, which say
// `additionalProperties: false`); every REQUEST BODY schema is strict, as published.
import { z } from 'zod';
import { ORG_ROLES } from '../sync/types.ts';

/** `^[A-Fa-f\d]{24}$`: every Losant id. */
export const LosantIdSchema = z.string().regex(/^[A-Fa-f\d]{24}$/, 'must be 24 hexadecimal characters');

// ajv-formats' (full mode) `email` format, which the published schemas are validated with.
const FORMAT_EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;

/** `{ type: string, format: email, maxLength: 1024 }`. */
export const LosantEmailSchema = z.string().max(1024).regex(FORMAT_EMAIL, 'must be an email address');

export const OrgRoleSchema = z.enum(ORG_ROLES);

const RESOURCE_ROLE = {
  resourceId: LosantIdSchema,
  role: z.enum(['collaborate', 'view', 'none']),
};

/** `applicationRoles` / `dashboardRoles` items in an answer (unknown properties ignored). */
export const ResourceRoleSchema = z.looseObject(RESOURCE_ROLE);
export type ResourceRole = z.infer<typeof ResourceRoleSchema>;

/** The same items in a request body (additionalProperties: false, as published). */
export const ResourceRoleBodySchema = z.strictObject(RESOURCE_ROLE);

const ResourceRolesSchema = z.array(ResourceRoleSchema).max(100);
const ResourceRolesBodySchema = z.array(ResourceRoleBodySchema).max(100);
const SortDirectionSchema = z.enum(['asc', 'desc', 'ASC', 'DESC', '']);

/** `orgInvite.json`: one pending invite. No property is required by the schema; extras are allowed. */
export const OrgInviteSchema = z.looseObject({
  id: LosantIdSchema.optional(),
  email: LosantEmailSchema.optional(),
  role: OrgRoleSchema.optional(),
  applicationRoles: ResourceRolesSchema.optional(),
  dashboardRoles: ResourceRolesSchema.optional(),
  inviteDate: z.iso.datetime({ offset: true }).optional(),
  ttl: z.number().optional(),
  hasExpired: z.boolean().optional(),
  disallowTransfer: z.boolean().optional(),
});
export type OrgInvite = z.infer<typeof OrgInviteSchema>;

/** `instanceOrgMember.json`: one accepted member (published with additionalProperties: false; read tolerantly). */
export const InstanceOrgMemberSchema = z.looseObject({
  instanceId: LosantIdSchema.optional(),
  orgId: LosantIdSchema.optional(),
  userId: LosantIdSchema.optional(),
  email: LosantEmailSchema.optional(),
  firstName: z.string().min(1).max(1024).optional(),
  lastName: z.string().max(1024).optional(),
  role: OrgRoleSchema.optional(),
  avatarUrl: z.string().max(1024).regex(/^[a-z][a-z0-9+\-.]*:[^\s]*$/i, 'must be a URI').optional(),
  twoFactorAuthEnabled: z.boolean().optional(),
  ssoLinked: z.boolean().optional(),
});
export type InstanceOrgMember = z.infer<typeof InstanceOrgMemberSchema>;

/**
 * The collection envelope `orgInviteCollection.json` and `instanceOrgMembers.json` share: the items,
 * plus the ids, count, filter and sort the answer was made with.
 */
function collectionOf<T extends z.ZodType>(item: T) {
  return z.looseObject({
    items: z.array(item).optional(),
    instanceId: LosantIdSchema.optional(),
    orgId: LosantIdSchema.optional(),
    count: z.int().optional(),
    filter: z.string().optional(),
    filterField: z.string().optional(),
    sortField: z.string().optional(),
    sortDirection: SortDirectionSchema.optional(),
  });
}

/** `orgInviteCollection.json`: the 200 answer of GET invites and the 201 answer of POST invites. */
export const OrgInviteCollectionSchema = collectionOf(OrgInviteSchema);
export type OrgInviteCollection = z.infer<typeof OrgInviteCollectionSchema>;

/**
 * The 201 answer of POST invites is the whole collection (the n-th POST carries n invites). The client
 * checks the envelope here and then only the items of the email it created against OrgInviteSchema:
 * checking every item made the client's CPU the bottleneck of a large apply (`npm run bench`, scenario 2).
 */
export const OrgInviteCollectionEnvelopeSchema = collectionOf(z.unknown());

/** `instanceOrgMembers.json`: the 200 answer of GET members. */
export const InstanceOrgMembersSchema = collectionOf(InstanceOrgMemberSchema);
export type InstanceOrgMembers = z.infer<typeof InstanceOrgMembersSchema>;

/**
 * The org object of `GET /instances/{I}/orgs/{O}` (Losant's REST reference; no published schema is vendored):
 * only what the seat rule reads is checked. `limits.member` absent or null: no member limit.
 */
export const InstanceOrgSchema = z.looseObject({
  id: LosantIdSchema.optional(),
  name: z.string().optional(),
  limits: z.looseObject({ member: z.number().int().min(0).nullable().optional() }).nullable().optional(),
  summary: z
    .looseObject({ memberCount: z.number().int().min(0).optional(), pendingInviteCount: z.number().int().min(0).optional() })
    .nullable()
    .optional(),
});
export type InstanceOrg = z.infer<typeof InstanceOrgSchema>;

/** `orgInvitePost.json`: the POST invites body (no other properties allowed). */
export const OrgInvitePostSchema = z.strictObject({
  email: LosantEmailSchema,
  role: OrgRoleSchema,
  applicationRoles: ResourceRolesBodySchema.optional(),
  dashboardRoles: ResourceRolesBodySchema.optional(),
  disallowTransfer: z.boolean().optional(),
});
export type OrgInvitePost = z.infer<typeof OrgInvitePostSchema>;

/** `orgRoleInfo.json`: the resend body (no other properties allowed). */
export const OrgRoleInfoSchema = z.strictObject({
  role: OrgRoleSchema.optional(),
  applicationRoles: ResourceRolesBodySchema.optional(),
  dashboardRoles: ResourceRolesBodySchema.optional(),
});
export type OrgRoleInfo = z.infer<typeof OrgRoleInfoSchema>;

/** `success.json`: the DELETE answer. */
/** `GET /me`: the user the token belongs to (only `id` and `email` are read; everything else is ignored). */
export const MeSchema = z.looseObject({ id: LosantIdSchema, email: LosantEmailSchema.optional() });
export type Me = z.infer<typeof MeSchema>;

export const SuccessSchema = z.looseObject({ success: z.literal(true).optional() });
export type Success = z.infer<typeof SuccessSchema>;

/** `error.json`: every error body. */
export const LosantErrorBodySchema = z.looseObject({
  type: z.string().optional(),
  message: z.string().optional(),
});
export type LosantErrorBody = z.infer<typeof LosantErrorBodySchema>;
