// tests --> functions/losant/schemas.ts: answers read tolerantly at every level, request bodies strict
import { describe, expect, it } from 'vitest';
import { InstanceOrgMembersSchema, OrgInviteCollectionSchema, OrgInvitePostSchema, OrgRoleInfoSchema } from '../../functions/losant/schemas.ts';

const ID = '575ec8687ae143cd83dc4a97';
const LINKS = { self: { href: `/instances/${ID}` } };

describe('Function: answer schemas', () => {
  it('returns success for unknown properties on the collection, its items and their nested roles', () => {
    // Arrange
    const roles = [{ resourceId: ID, role: 'view', _links: LINKS }];
    const invites = { _type: 'orgInvites', _links: LINKS, items: [{ id: ID, email: 'a@x.com', role: 'view', applicationRoles: roles, _type: 'orgInvite', newField: 1 }] };
    const members = { _type: 'instanceOrgMembers', _links: LINKS, items: [{ email: 'a@x.com', role: 'view', _type: 'instanceOrgMember', _links: LINKS, mfa: true }] };

    // Act
    const parsedInvites = OrgInviteCollectionSchema.safeParse(invites);
    const parsedMembers = InstanceOrgMembersSchema.safeParse(members);

    // Assess
    expect(parsedInvites.success).toBe(true);
    expect(parsedMembers.success).toBe(true);
  });

  it('returns failure for a known property with a wrong value, however tolerant of extras', () => {
    // Act
    const parsed = InstanceOrgMembersSchema.safeParse({ items: [{ email: 'a@x.com', role: 'owner', _type: 'instanceOrgMember' }] });

    // Assess
    expect(parsed.success).toBe(false);
  });
});

describe('Function: request body schemas', () => {
  it.each([
    ['a top-level extra', OrgInvitePostSchema, { email: 'a@x.com', role: 'view', _links: LINKS }],
    ['an extra inside applicationRoles', OrgInvitePostSchema, { email: 'a@x.com', role: 'view', applicationRoles: [{ resourceId: ID, role: 'view', x: 1 }] }],
    ['a resend extra', OrgRoleInfoSchema, { role: 'view', email: 'a@x.com' }],
    ['an extra inside a resend dashboardRoles', OrgRoleInfoSchema, { dashboardRoles: [{ resourceId: ID, role: 'view', x: 1 }] }],
  ] as const)('returns failure for %s', (_name, schema, body) => {
    // Act
    const parsed = schema.safeParse(body);

    // Assess
    expect(parsed.success).toBe(false);
  });
});
