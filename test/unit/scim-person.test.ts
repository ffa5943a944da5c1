// unit: a SCIM user as the domain Person (functions/scim/person.ts) and group rules on it (functions/sync/rules.ts)
import { describe, expect, it } from 'vitest';
import { SCIM_IDENTITY_PREFIX, scimIdentity, scimUserToPerson } from '../../functions/scim/person.ts';
import { ENTERPRISE_USER_SCHEMA } from '../../functions/scim/errors.ts';
import { parseUser, stamp, type ScimUser } from '../../functions/scim/resources.ts';
import { roleFor } from '../../functions/sync/rules.ts';
import type { Rule } from '../../functions/sync/types.ts';
import { scimError } from '../helpers/errors.ts';

const scimUser = (body: Record<string, unknown>): ScimUser =>
  stamp(parseUser({ userName: 'jdoe', ...body }), 'User', { id: 'u-1', now: '2026-01-01T00:00:00.000Z', version: 'W/"1"' });

describe('Function: scimUserToPerson', () => {
  it('maps an Okta/Entra user with the enterprise extension', () => {
    const user = scimUser({
      userName: 'Jane.Doe@Example.com',
      title: 'Engineer',
      userType: 'Employee',
      locale: 'en-US',
      active: true,
      emails: [{ value: 'Jane.Doe@Example.com', type: 'work', primary: true }],
      [ENTERPRISE_USER_SCHEMA]: {
        employeeNumber: ' 701984 ',
        department: 'Engineering',
        division: 'R&D',
        organization: 'Acme',
        costCenter: 'CC-4',
        manager: { value: 'm-1', displayName: 'Boss' },
      },
    });
    expect(scimUserToPerson(user, ['Losant-Editors', 'All Staff', 'Losant-Editors'])).toEqual({
      email: 'jane.doe@example.com',
      employeeId: '701984',
      status: 'active',
      attributes: {
        userName: 'Jane.Doe@Example.com',
        title: 'Engineer',
        userType: 'Employee',
        locale: 'en-US',
        department: 'Engineering',
        division: 'R&D',
        organization: 'Acme',
        costCenter: 'CC-4',
        manager: 'm-1',
        groups: ['All Staff', 'Losant-Editors'],
      },
    });
  });

  it('turns active:false into terminated and leaves absent attributes out', () => {
    const p = scimUserToPerson(scimUser({ userName: 'a@x.com', active: false }), []);
    expect(p).toEqual({ email: 'a@x.com', status: 'terminated', attributes: { userName: 'a@x.com' } });
    expect('employeeId' in p).toBe(false);
  });

  it.each([
    [[{ value: 'home@x.com', type: 'home' }, { value: 'work@x.com', type: 'work' }, { value: 'p@x.com', type: 'other', primary: true }], 'p@x.com'],
    [[{ value: 'home@x.com', type: 'home' }, { value: 'work@x.com', type: 'Work' }], 'work@x.com'],
    [[{ value: 'first@x.com', type: 'home' }, { value: 'second@x.com', type: 'other' }], 'first@x.com'],
    [[{ type: 'work' }, { value: 'has@x.com' }], 'has@x.com'],
  ])('picks primary, else work, else the first email (%j → %s)', (emails, expected) => {
    expect(scimUserToPerson(scimUser({ emails }), []).email).toBe(expected);
  });

  it('falls back to userName when it is an address, else refuses naming emails', () => {
    expect(scimUserToPerson(scimUser({ userName: 'Bob@Example.COM' }), []).email).toBe('bob@example.com');
    const e = scimError(() => scimUserToPerson(scimUser({ userName: 'bob' }), []));
    expect([e.status, e.scimType]).toEqual([400, 'invalidValue']);
    expect(e.message).toMatch(/^emails: required/);
    expect(scimError(() => scimUserToPerson(scimUser({ emails: [{ value: 'not an address', primary: true }] }), [])).message).toBe('emails: invalid email');
  });

  it('refuses more than 100 group names, and names over 256 characters, naming groups', () => {
    const many = Array.from({ length: 101 }, (_, i) => `g${i}`);
    expect(scimError(() => scimUserToPerson(scimUser({ userName: 'a@x.com' }), many)).message).toBe('groups: more than 100 items');
    expect(scimError(() => scimUserToPerson(scimUser({ userName: 'a@x.com' }), ['x'.repeat(257)])).message).toBe('groups.0: longer than 256 characters');
  });

  it('refuses an employeeNumber longer than an employeeId may be, naming employeeNumber', () => {
    const e = scimError(() => scimUserToPerson(scimUser({ userName: 'a@x.com', [ENTERPRISE_USER_SCHEMA]: { employeeNumber: 'e'.repeat(300) } }), []));
    expect(e.message).toBe('employeeNumber: longer than 256 characters');
  });

  it('names the stored identity scim:<id>', () => {
    expect(SCIM_IDENTITY_PREFIX).toBe('scim:');
    expect(scimIdentity('2819c223-7f76')).toBe('scim:2819c223-7f76');
  });
});

describe('Group-based rules on a SCIM person', () => {
  const rules: Rule[] = [
    { when: { groups: 'Losant-Admins' }, role: 'admin' },
    { when: { groups: ['Losant-Edit*', 'Losant-Writers'] }, role: 'edit' },
    { when: { groups: 'Losant-*', department: 'Support' }, role: 'collaborate' },
    { when: { groups: '*' }, role: 'view' },
  ];
  const person = (groups: string[], department?: string) =>
    scimUserToPerson(scimUser({ userName: 'a@x.com', ...(department ? { [ENTERPRISE_USER_SCHEMA]: { department } } : {}) }), groups);

  it.each([
    [['All Staff', 'losant-admins'], undefined, 'admin'], // any element, case-insensitive
    [['Losant-Editors'], undefined, 'edit'],
    [['Losant-Writers', 'x'], undefined, 'edit'],
    [['Losant-Viewers'], 'Support', 'collaborate'],
    [['Losant-Viewers'], 'Sales', 'view'],
    [[], undefined, null], // no groups: no list, and `*` needs a value
  ])('groups %j, department %s → %s', (groups, department, role) => {
    expect(roleFor(person(groups, department), rules)).toBe(role);
  });
});
