// unit: SCIM errors, User/Group input schemas and renderers (functions/scim/errors.ts, resources.ts)
import { describe, expect, it } from 'vitest';
import { ENTERPRISE_USER_SCHEMA, ERROR_SCHEMA, GROUP_SCHEMA, ScimError, scimErrorBody, USER_SCHEMA } from '../../functions/scim/errors.ts';
import { parseGroup, parseUser, replaceResource, stamp, toScimGroup, toScimUser } from '../../functions/scim/resources.ts';
import { scimError } from '../helpers/errors.ts';

const BASE = 'https://sync.example.com/scim/v2/';
const at = { id: 'u-1', now: '2026-01-02T03:04:05.000Z', version: 'W/"1"' };

describe('Function: scimErrorBody', () => {
  it('renders the RFC 7644 §3.12 error with status as a string', () => {
    expect(scimErrorBody(new ScimError(409, 'uniqueness', 'userName: already exists'))).toEqual({
      schemas: [ERROR_SCHEMA],
      status: '409',
      scimType: 'uniqueness',
      detail: 'userName: already exists',
    });
  });

  it('leaves scimType out when there is none', () => {
    const body = scimErrorBody(new ScimError(404, undefined, 'resource not found'));
    expect(body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404', detail: 'resource not found' });
    expect('scimType' in body).toBe(false);
  });
});

describe('Function: parseUser', () => {
  it('reads the user Okta POSTs (password and unknown attributes ignored)', () => {
    // Okta SCIM 2.0 guide, "Create the user"
    const user = parseUser({
      schemas: [USER_SCHEMA],
      userName: 'Test.User@okta.local',
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
      displayName: 'Test User',
      locale: 'en-US',
      externalId: '00ujl29u0le5T6Aj10h7',
      groups: [],
      password: '1mz050nq',
      active: true,
    });
    expect(user).toEqual({
      userName: 'Test.User@okta.local',
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
      displayName: 'Test User',
      locale: 'en-US',
      externalId: '00ujl29u0le5T6Aj10h7',
      active: true,
    });
    expect(JSON.stringify(user)).not.toContain('1mz050nq');
  });

  it('reads the user Entra POSTs ("False" strings, enterprise extension, names in any case)', () => {
    // Entra SCIM guide, "Create User" request
    const user = parseUser({
      schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      UserName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1',
      active: 'False',
      emails: [{ primary: 'True', type: 'work', value: 'Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com' }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user': { Department: 'Sales', employeeNumber: 701984, manager: { value: 'm-1' } },
      'urn:example:custom:2.0:User': { favourite: 'blue' },
    });
    expect(user).toEqual({
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      userName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1',
      active: false,
      emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com' }],
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      [ENTERPRISE_USER_SCHEMA]: { department: 'Sales', employeeNumber: '701984', manager: { value: 'm-1' } },
    });
  });

  it('reads null as unassigned and a single email object as a list of one', () => {
    expect(parseUser({ userName: 'a', title: null, emails: { value: 'a@x.com' } })).toEqual({ userName: 'a', emails: [{ value: 'a@x.com' }] });
  });

  it.each([
    [{}, 'userName: required'],
    [{ userName: '  ' }, 'userName: required'],
    [{ userName: 'a', active: 'maybe' }, 'active: must be true or false'],
    [{ userName: 'a', emails: [{ value: { nested: true } }] }, 'emails.0.value: must be a string'],
    [{ userName: 'a', name: 'Jane' }, 'name: must be an object'],
    [{ userName: 'a', title: 'x'.repeat(1025) }, 'title: longer than 1024 characters'],
  ])('refuses %j with 400 invalidValue naming the field', (body, detail) => {
    const e = scimError(() => parseUser(body));
    expect([e.status, e.scimType, e.message]).toEqual([400, 'invalidValue', detail]);
  });

  it('refuses a body that is not an object with 400 invalidSyntax', () => {
    expect(scimError(() => parseUser([{ userName: 'a' }])).scimType).toBe('invalidSyntax');
    expect(scimError(() => parseUser('userName')).scimType).toBe('invalidSyntax');
  });
});

describe('Function: parseGroup', () => {
  it('reads a group with members (Okta, Entra)', () => {
    expect(parseGroup({ schemas: [GROUP_SCHEMA], displayName: 'Losant-Admins', members: [{ value: 'u-1', display: 'Jane' }], id: 'ignored' })).toEqual({
      displayName: 'Losant-Admins',
      members: [{ value: 'u-1', display: 'Jane' }],
    });
  });

  it('needs displayName and member values', () => {
    expect(scimError(() => parseGroup({ members: [] })).message).toBe('displayName: required');
    expect(scimError(() => parseGroup({ displayName: 'G', members: [{ display: 'x' }] })).message).toBe('members.0.value: required');
  });
});

describe('Function: toScimUser / toScimGroup', () => {
  it('adds schemas, groups and meta.location to a stored user', () => {
    const stored = stamp(parseUser({ userName: 'jane@x.com', [ENTERPRISE_USER_SCHEMA]: { department: 'Ops' } }), 'User', at);
    expect(toScimUser(stored, BASE, [{ value: 'g-1', display: 'Losant-Admins' }])).toEqual({
      schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
      id: 'u-1',
      userName: 'jane@x.com',
      [ENTERPRISE_USER_SCHEMA]: { department: 'Ops' },
      groups: [{ value: 'g-1', $ref: 'https://sync.example.com/scim/v2/Groups/g-1', display: 'Losant-Admins', type: 'direct' }],
      meta: { resourceType: 'User', created: at.now, lastModified: at.now, version: 'W/"1"', location: 'https://sync.example.com/scim/v2/Users/u-1' },
    });
  });

  it('names only the core schema when there are no enterprise attributes, and never mutates the stored user', () => {
    const stored = stamp(parseUser({ userName: 'jane@x.com' }), 'User', at);
    const before = structuredClone(stored);
    const out = toScimUser(stored, BASE);
    out.userName = 'changed';
    expect(out.schemas).toEqual([USER_SCHEMA]);
    expect(stored).toEqual(before);
  });

  it('adds $ref to group members', () => {
    const g = stamp(parseGroup({ displayName: 'G', members: [{ value: 'u-1' }] }), 'Group', { ...at, id: 'g-1' });
    expect(toScimGroup(g, BASE)).toEqual({
      schemas: [GROUP_SCHEMA],
      id: 'g-1',
      displayName: 'G',
      members: [{ value: 'u-1', $ref: 'https://sync.example.com/scim/v2/Users/u-1' }],
      meta: { resourceType: 'Group', created: at.now, lastModified: at.now, version: 'W/"1"', location: 'https://sync.example.com/scim/v2/Groups/g-1' },
    });
  });
});

describe('Function: replaceResource (PUT)', () => {
  it('replaces every writable attribute and keeps id and meta', () => {
    const stored = stamp(parseUser({ userName: 'jane@x.com', title: 'Eng', active: true }), 'User', at);
    expect(replaceResource(stored, { id: 'u-1', userName: 'jane@x.com', active: false }, 'User')).toEqual({
      userName: 'jane@x.com',
      active: false,
      id: 'u-1',
      meta: stored.meta,
    });
  });

  it('refuses a body whose id differs with 400 mutability', () => {
    const stored = stamp(parseUser({ userName: 'jane@x.com' }), 'User', at);
    expect(scimError(() => replaceResource(stored, { id: 'other', userName: 'x' }, 'User')).scimType).toBe('mutability');
  });
});
