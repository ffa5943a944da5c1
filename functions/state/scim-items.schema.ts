// scim-store.ts --> scim-items.schema (zod): the SCIM store's items, validated as they are read. Apart from
// items.schema.ts because only the HTTP function (SCIM) reads them: the reconcile function's bundle does not carry them.
import { z } from 'zod';
import { ItemKeySchema } from './items.schema.ts';

/** pk `SCIM#<source>#<kind>`, sk `<id>`: a SCIM user or group (doc: its attributes as JSON text) */
export const ScimResourceItemSchema = ItemKeySchema.extend({
  id: z.string(),
  kind: z.enum(['User', 'Group']),
  doc: z.string(),
  version: z.number().int().positive(),
  created: z.string(),
  lastModified: z.string(),
  /** a group whose members are group-member items (absent on groups the landed version wrote: members in `doc`) */
  membersApart: z.boolean().optional(),
});
export type ScimResourceItem = z.infer<typeof ScimResourceItemSchema>;

/** pk `SCIMIDX#<source>#<kind>`, sk `<attr>#<lower-cased value>`: who holds a unique value */
export const ScimUniqueItemSchema = ItemKeySchema.extend({ id: z.string() });

/** pk `SCIMMEMBER#<source>#<userId>`, sk `<groupId>`: one group membership */
export const ScimMemberItemSchema = ItemKeySchema;

/** pk `SCIMGROUPMEMBER#<source>#<groupId>`, sk `<member value>`: one member of a group (member: its JSON; n: its place) */
export const ScimGroupMemberItemSchema = ItemKeySchema.extend({ member: z.string(), n: z.number().int().nonnegative() });
