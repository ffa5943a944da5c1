// unit: SCIM filters (RFC 7644 §3.4.2.2), PATCH paths, indexed terms and paging (functions/scim/filter.ts)
import { describe, expect, it } from 'vitest';
import { filterMatches, indexedTerms, MAX_PAGE, pageWindow, parseFilter, parsePath } from '../../functions/scim/filter.ts';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from '../../functions/scim/errors.ts';
import { scimError } from '../helpers/errors.ts';

// the RFC 7643 §8.2 full user, trimmed
const bjensen = {
  schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: 'Bjensen-701984',
  userName: 'bjensen@example.com',
  name: { familyName: "O'Malley", givenName: 'Barbara' },
  title: 'Tour Guide',
  userType: 'Employee',
  active: true,
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  [ENTERPRISE_USER_SCHEMA]: { employeeNumber: '701984', department: 'Tour Operations', manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d' } },
  meta: { resourceType: 'User', created: '2010-01-23T04:56:22Z', lastModified: '2011-05-13T04:42:34Z', version: 'W/"3694e05e9dff591"' },
};

describe('Function: parseFilter + filterMatches (RFC 7644 §3.4.2.2 examples)', () => {
  it.each([
    ['userName eq "bjensen@example.com"', true],
    ['userName eq "BJensen@Example.COM"', true], // userName is caseExact=false
    ['USERNAME EQ "bjensen@example.com"', true], // names and operators ignore case
    ['name.familyName co "O\'Malley"', true],
    ['userName sw "J"', false],
    ['userName sw "b"', true],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName sw "B"', true],
    ['title pr', true],
    ['nickName pr', false],
    ['meta.lastModified gt "2011-05-13T04:42:34Z"', false],
    ['meta.lastModified ge "2011-05-13T04:42:34Z"', true],
    ['meta.lastModified lt "2011-05-13T04:42:35Z"', true],
    ['meta.lastModified le "2011-05-13T04:42:33Z"', false],
    ['meta.lastModified gt "2011-05-13T04:42:34.000+01:00"', true], // compared as times, not text
    ['title pr and userType eq "Employee"', true],
    ['title pr or userType eq "Intern"', true],
    ['schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"', true],
    ['userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', true],
    ['userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")', false],
    ['userType eq "Employee" and (emails.type eq "work")', true],
    ['userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', true],
    ['emails[type eq "home" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]', false],
    ['emails[type eq "work"].value eq "bjensen@example.com"', true], // Entra's lookup
    ['emails[type eq "home"].value eq "bjensen@example.com"', false],
    ['active eq true', true],
    ['active eq false', false],
    ['active ne false', true],
    ['nickName eq null', true],
    ['title ne null', true],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations"', true],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"', true],
    ['not (title pr)', false],
    ['userName eq "x" or userName eq "y" or title eq "tour guide"', true],
  ])('%s → %s', (text, expected) => {
    expect(filterMatches(bjensen, parseFilter(text))).toBe(expected);
  });

  it('compares id and externalId case-sensitively (caseExact=true)', () => {
    expect(filterMatches(bjensen, parseFilter('id eq "2819c223-7f76-453a-919d-413861904646"'))).toBe(true);
    expect(filterMatches(bjensen, parseFilter('id eq "2819C223-7F76-453A-919D-413861904646"'))).toBe(false);
    expect(filterMatches(bjensen, parseFilter('externalId eq "bjensen-701984"'))).toBe(false);
    expect(filterMatches(bjensen, parseFilter('externalId eq "Bjensen-701984"'))).toBe(true);
  });

  it('matches group members by value (Entra: members eq, members[value eq])', () => {
    const group = { id: 'g1', displayName: 'Losant-Admins', members: [{ value: 'u1' }, { value: 'u2' }] };
    expect(filterMatches(group, parseFilter('displayName eq "losant-admins"'))).toBe(true);
    expect(filterMatches(group, parseFilter('id eq "g1" and members eq "u2"'))).toBe(true);
    expect(filterMatches(group, parseFilter('members[value eq "u3"]'))).toBe(false);
    expect(filterMatches(group, parseFilter('members[value eq "U1"]'))).toBe(false); // member ids are caseExact
  });

  it('gives `and` precedence over `or`', () => {
    const f = parseFilter('title eq "nope" and userType eq "Employee" or active eq true');
    expect(f.op).toBe('or');
    expect(filterMatches(bjensen, f)).toBe(true);
  });

  it.each([
    ['', 'empty'],
    ['userName', 'expected an operator'],
    ['userName xx "a"', 'unsupported operator "xx"'],
    ['userName eq', 'unexpected end'],
    ['userName eq bjensen', 'expected a value'],
    ['userName eq "unterminated', 'unterminated string'],
    ['(userName eq "a"', 'expected ")"'],
    ['userName eq "a")', 'unexpected ")"'],
    ['active gt true', 'cannot compare a boolean'],
    ['title co null', 'cannot compare null'],
    ['emails[type eq "work" and x[y eq "z"]]', 'value filter inside a value filter'],
    ['a.b.c eq "x"', 'not an attribute path'],
    ['userName eq "a" and', 'unexpected end'],
  ])('refuses %j with 400 invalidFilter (%s)', (text, detail) => {
    const e = scimError(() => parseFilter(text));
    expect(e.status).toBe(400);
    expect(e.scimType).toBe('invalidFilter');
    expect(e.message).toContain(detail);
  });

  it('refuses very deep nesting and very long text instead of overflowing the stack', () => {
    expect(scimError(() => parseFilter(`${'('.repeat(500)}title pr${')'.repeat(500)}`)).scimType).toBe('invalidFilter');
    expect(scimError(() => parseFilter(`userName eq "${'a'.repeat(5000)}"`)).scimType).toBe('invalidFilter');
  });
});

describe('Function: indexedTerms', () => {
  it.each([
    ['userName eq "Jane@Example.com"', [{ attr: 'userName', value: 'Jane@Example.com' }]],
    ['externalId eq "00u1" and active eq true', [{ attr: 'externalId', value: '00u1' }]],
    ['id eq "a" and emails.value eq "j@x.com"', [{ attr: 'id', value: 'a' }, { attr: 'emails.value', value: 'j@x.com' }]],
    ['displayName eq "Losant-Admins"', [{ attr: 'displayName', value: 'Losant-Admins' }]],
    ['emails[type eq "work"].value eq "j@x.com"', [{ attr: 'emails.value', value: 'j@x.com' }]],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "j"', [{ attr: 'userName', value: 'j' }]],
    ['userName eq "a" or userName eq "b"', []],
    ['not (userName eq "a")', []],
    ['userName co "a"', []],
    ['title eq "x"', []],
  ])('%s', (text, expected) => {
    expect(indexedTerms(parseFilter(text))).toEqual(expected);
  });
});

describe('Function: parsePath', () => {
  it('parses attribute, sub-attribute, extension and value paths', () => {
    expect(parsePath('title')).toEqual({ path: { attr: 'title' } });
    expect(parsePath('name.givenName')).toEqual({ path: { attr: 'name', sub: 'givenName' } });
    expect(parsePath('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department')).toEqual({
      path: { uri: ENTERPRISE_USER_SCHEMA, attr: 'department' },
    });
    expect(parsePath('members[value eq "2819c223"]')).toEqual({
      path: { attr: 'members' },
      filter: { op: 'eq', path: { attr: 'value' }, value: '2819c223' },
    });
    expect(parsePath('emails[type eq "work"].value')).toEqual({
      path: { attr: 'emails' },
      filter: { op: 'eq', path: { attr: 'type' }, value: 'work' },
      sub: 'value',
    });
  });

  it.each(['', 'emails[type eq "work"', 'emails[]', 'emails.value[type eq "x"]', 'title extra', 'emails[type eq "work"].a.b'])(
    'refuses %j with 400 invalidPath',
    (text) => {
      const e = scimError(() => parsePath(text));
      expect(e.status).toBe(400);
      expect(e.scimType).toBe('invalidPath');
    },
  );
});

describe('Function: pageWindow', () => {
  it.each([
    [{}, { startIndex: 1, count: MAX_PAGE }],
    [{ startIndex: '0', count: '10' }, { startIndex: 1, count: 10 }],
    [{ startIndex: '-5', count: '-1' }, { startIndex: 1, count: 0 }],
    [{ startIndex: '101', count: '1000' }, { startIndex: 101, count: MAX_PAGE }],
  ])('%j → %j', (query, expected) => {
    expect(pageWindow(query)).toEqual(expected);
  });

  it('refuses a count that is not an integer', () => {
    const e = scimError(() => pageWindow({ count: 'ten' }));
    expect([e.status, e.scimType, e.message]).toEqual([400, 'invalidValue', 'count: must be an integer']);
  });
});
