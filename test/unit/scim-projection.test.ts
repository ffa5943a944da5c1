// unit: attributes= / excludedAttributes= (functions/scim/projection.ts) and discovery documents (functions/scim/discovery.ts)
import { describe, expect, it } from 'vitest';
import { project } from '../../functions/scim/projection.ts';
import { resourceTypes, schemaDocuments, serviceProviderConfig } from '../../functions/scim/discovery.ts';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, ScimError, USER_SCHEMA } from '../../functions/scim/errors.ts';
import { MAX_PAGE } from '../../functions/scim/filter.ts';
import { listResponse, parseGroup, parseUser, stamp, toScimGroup, toScimUser } from '../../functions/scim/resources.ts';

const BASE = 'https://sync.example.com/scim/v2';
const at = { id: 'u-1', now: '2026-01-02T03:04:05.000Z', version: 'W/"1"' };
const user = toScimUser(
  stamp(
    parseUser({
      userName: 'jane@x.com',
      name: { givenName: 'Jane', familyName: 'Doe' },
      title: 'Eng',
      emails: [{ value: 'jane@x.com', type: 'work', primary: true }, { value: 'j@home.com', type: 'home' }],
      [ENTERPRISE_USER_SCHEMA]: { department: 'Ops', costCenter: 'C1' },
    }),
    'User',
    at,
  ),
  BASE,
);
const group = toScimGroup(stamp(parseGroup({ displayName: 'Losant-Admins', members: [{ value: 'u-1' }] }), 'Group', { ...at, id: 'g-1' }), BASE);

describe('Function: project', () => {
  it('returns everything without parameters', () => {
    expect(project(user, {})).toEqual(user);
  });

  it('excludes members (Okta and Entra read groups with excludedAttributes=members)', () => {
    const out = project(group, { excludedAttributes: 'members' });
    expect(out).toEqual({ schemas: [GROUP_SCHEMA], id: 'g-1', displayName: 'Losant-Admins', meta: group.meta });
    expect(group.members).toHaveLength(1); // the input is untouched
  });

  it('returns only the asked attributes plus id, schemas and meta', () => {
    expect(project(user, { attributes: 'userName, Name.givenName,emails.value' })).toEqual({
      schemas: user.schemas,
      id: 'u-1',
      userName: 'jane@x.com',
      name: { givenName: 'Jane' },
      emails: [{ value: 'jane@x.com' }, { value: 'j@home.com' }],
      meta: user.meta,
    });
  });

  it('selects and excludes enterprise attributes by URN path, and the whole extension', () => {
    expect(project(user, { attributes: `${ENTERPRISE_USER_SCHEMA}:department` })).toEqual({
      schemas: user.schemas,
      id: 'u-1',
      [ENTERPRISE_USER_SCHEMA]: { department: 'Ops' },
      meta: user.meta,
    });
    expect(project(user, { excludedAttributes: [ENTERPRISE_USER_SCHEMA] })[ENTERPRISE_USER_SCHEMA]).toBeUndefined();
    expect(project(user, { excludedAttributes: `${ENTERPRISE_USER_SCHEMA}:costCenter` })[ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'Ops' });
  });

  it('never drops id, schemas or meta, and ignores unknown names', () => {
    expect(project(user, { excludedAttributes: 'id,schemas,meta,emails.type,nope' })).toEqual({
      ...user,
      emails: [{ value: 'jane@x.com', primary: true }, { value: 'j@home.com' }],
    });
    expect(project(user, { attributes: 'nope' })).toEqual({ schemas: user.schemas, id: 'u-1', meta: user.meta });
  });

  it('refuses a name that is no attribute path', () => {
    expect(() => project(user, { attributes: 'a.b.c' })).toThrow(ScimError);
  });
});

describe('Discovery (RFC 7643 §5-7)', () => {
  it('advertises patch, filter (maxResults = MAX_PAGE), etag and bearer tokens; no bulk, sort or changePassword', () => {
    const c = serviceProviderConfig(`${BASE}/`);
    expect(c).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 200 },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: true },
      meta: { location: `${BASE}/ServiceProviderConfig` },
    });
    expect(MAX_PAGE).toBe(200);
    expect(c.authenticationSchemes.map((s) => s.type)).toEqual(['oauthbearertoken']);
  });

  it('lists the User (with the enterprise extension) and Group resource types', () => {
    expect(resourceTypes(BASE).map((r) => [r.id, r.endpoint, r.schema, r.schemaExtensions.map((e) => e.schema), r.meta.location])).toEqual([
      ['User', '/Users', USER_SCHEMA, [ENTERPRISE_USER_SCHEMA], `${BASE}/ResourceTypes/User`],
      ['Group', '/Groups', GROUP_SCHEMA, [], `${BASE}/ResourceTypes/Group`],
    ]);
  });

  it('describes each schema from the attribute table the parsers use', () => {
    const docs = schemaDocuments(BASE);
    expect(docs.map((d) => d.id)).toEqual([USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA]);
    const userName = docs[0]!.attributes.find((a) => a.name === 'userName');
    expect(userName).toMatchObject({ type: 'string', required: true, caseExact: false, uniqueness: 'server', mutability: 'readWrite' });
    const emails = docs[0]!.attributes.find((a) => a.name === 'emails') as { multiValued: boolean; subAttributes: { name: string }[] };
    expect(emails.multiValued).toBe(true);
    expect(emails.subAttributes.map((s) => s.name)).toEqual(['value', 'display', 'type', 'primary']);
    expect(docs[2]!.attributes.map((a) => a.name)).toEqual(['displayName', 'members']);
    expect(docs[1]!.meta).toEqual({ resourceType: 'Schema', location: `${BASE}/Schemas/${ENTERPRISE_USER_SCHEMA}` });
  });

  it('wraps resources in a ListResponse', () => {
    expect(listResponse([group], { totalResults: 7, startIndex: 3 })).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 7,
      startIndex: 3,
      itemsPerPage: 1,
      Resources: [group],
    });
  });
});
