// unit: globs, first-match rules and the desired set (functions/sync/rules.ts)
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileRules, desiredRoles, globToRegExp, latestPeople, matchGlob, roleFor, roleIn } from '../../functions/sync/rules.ts';
import type { Person, Rule, StoredPerson } from '../../functions/sync/types.ts';

const person = (over: Partial<Person> = {}): Person => ({
  email: 'jane@example.com',
  status: 'active',
  attributes: { department: 'Engineering', title: 'Engineering Manager' },
  ...over,
});

const stored = (over: Partial<StoredPerson> = {}): StoredPerson => ({
  ...person(),
  identity: 'email:jane@example.com',
  source: 'hr',
  lastEventAt: '2024-05-01T00:00:00.000Z',
  ...over,
});

describe('Function: matchGlob', () => {
  it.each([
    ['Engineering', 'engineering', true],
    ['*manager*', 'Engineering Manager', true],
    ['*Manager', 'Manager of things', false],
    ['eng*', 'Engineering', true],
    ['*', '', true],
    ['', '', true],
    ['', 'x', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['ab*ba', 'aba', false],
    ['a**b', 'ab', true],
    ['*@example.com', 'Jane@EXAMPLE.com', true],
    ['a.c', 'abc', false],
    ['a?c', 'abc', false],
    ['a?c', 'A?C', true],
    ['[a]', '[A]', true],
    ['(x)+', '(X)+', true],
    ['MÜLLER*', 'müller gmbh', true],
    ['*ß', 'GROß', true],
    ['k*', '\u212Aelvin', true],
    ['*i̇stanbul', 'İstanbul', true],
  ])('returns for glob %j and value %j: %s', (glob, value, expected) => {
    expect(matchGlob(glob, value)).toBe(expected);
  });

  it('returns quickly for a glob with many stars against a long value (no exponential backtracking)', () => {
    // Arrange
    const glob = `${'*a'.repeat(30)}*b`;
    const value = 'a'.repeat(1000);

    // Act
    const started = performance.now();
    const result = matchGlob(glob, value);

    // Assert
    expect(result).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000); // a backtracking matcher takes minutes here
  });

  it('returns the same as globToRegExp for any glob and value', () => {
    const alphabet = fc.constantFrom('a', 'B', '*', '.', '?', '+', '(', 'é', 'É', '\\', '[', ' ');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 8 }).map((c) => c.join('')), fc.array(alphabet.filter((c) => c !== '*'), { maxLength: 10 }).map((c) => c.join('')), (glob, value) => {
        expect(matchGlob(glob, value)).toBe(globToRegExp(glob).test(value));
      }),
      { numRuns: 500 },
    );
  });

  it('returns true for a glob made of a value with stars put in anywhere', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }).filter((s) => !s.includes('*')), fc.array(fc.nat(20)), (value, cuts) => {
        let glob = value;
        for (const cut of [...cuts].sort((a, b) => b - a)) glob = `${glob.slice(0, cut)}*${glob.slice(cut)}`;
        expect(matchGlob(glob.toUpperCase(), value)).toBe(true);
      }),
    );
  });
});

describe('Function: globToRegExp', () => {
  it('returns an anchored, case-insensitive RegExp with only * special', () => {
    const re = globToRegExp('*.Manager?');
    expect([re.test('Sr.manager?'), re.test('Sr.manager'), re.test('SrXmanager?')]).toEqual([true, false, false]);
  });
});

describe('Function: roleFor', () => {
  const rules: Rule[] = [
    { when: { title: '*Manager*', department: 'Engineering' }, role: 'admin' },
    { when: { employeeType: 'contractor' }, role: 'skip' },
    { when: { department: ['Engineering', 'Platform*'] }, role: 'edit' },
    { when: {}, role: 'view' },
  ];

  it('returns the role of the first rule that matches', () => {
    expect(roleFor(person(), rules)).toBe('admin');
  });

  it('returns null for a skip rule even when a later rule would match', () => {
    expect(roleFor(person({ attributes: { department: 'Engineering', employeeType: 'Contractor' } }), rules)).toBeNull();
  });

  it('returns a match when any item of a list matches (OR) and all keys match (AND)', () => {
    expect(roleFor(person({ attributes: { department: 'platform ops', title: 'Manager' } }), rules)).toBe('edit');
  });

  it('returns the catch-all role for everyone else ({} matches all)', () => {
    expect(roleFor(person({ attributes: {} }), rules)).toBe('view');
  });

  it('returns null when no rule matches', () => {
    expect(roleFor(person(), [{ when: { department: 'Sales' }, role: 'view' }])).toBeNull();
  });

  it('returns no match for a missing attribute, not even for *', () => {
    // Arrange
    const rules2: Rule[] = [{ when: { employeeId: '*' }, role: 'edit' }, { when: { location: '*' }, role: 'admin' }];

    // Act / Assert
    expect(roleFor(person(), rules2)).toBeNull();
    expect(roleFor(person({ employeeId: 'E1' }), rules2)).toBe('edit');
    expect(roleFor(person({ attributes: { location: '' } }), rules2)).toBe('admin');
  });

  it('returns matches on email and status as well as attributes', () => {
    const rules2: Rule[] = [{ when: { email: '*@partner.example', status: 'active' }, role: 'collaborate' }];
    expect(roleFor(person({ email: 'joe@partner.example' }), rules2)).toBe('collaborate');
    expect(roleFor(person({ email: 'joe@partner.example', status: 'terminated' }), rules2)).toBeNull();
  });

  it('returns no match for attribute names inherited from Object.prototype', () => {
    expect(roleFor(person(), [{ when: { constructor: '*' }, role: 'admin' }])).toBeNull();
  });

  it('returns the same role through compileRules + roleIn', () => {
    const set = compileRules(rules);
    const people = [person(), person({ attributes: {} }), person({ attributes: { employeeType: 'contractor' } })];
    expect(people.map((p) => roleIn(p, set))).toEqual(people.map((p) => roleFor(p, rules)));
  });
});

describe('Function: latestPeople', () => {
  it('returns one person per email: the newest lastEventAt, whatever the order', () => {
    // Arrange
    const older = stored({ source: 'hr', lastEventAt: '2024-05-01T00:00:00.000Z' });
    const newer = stored({ source: 'contractors', identity: 'emp:C1', lastEventAt: '2024-05-02T00:00:00.000Z' });

    // Act / Assert
    expect(latestPeople([older, newer]).get('jane@example.com')).toBe(newer);
    expect(latestPeople([newer, older]).get('jane@example.com')).toBe(newer);
  });

  it('returns the same winner for a tie in either order', () => {
    const a = stored({ source: 'a' });
    const b = stored({ source: 'b' });
    expect(latestPeople([a, b]).get('jane@example.com')).toBe(latestPeople([b, a]).get('jane@example.com'));
  });
});

describe('Function: desiredRoles', () => {
  const rules: Rule[] = [{ when: { department: 'Engineering' }, role: 'edit' }, { when: { department: 'Sales' }, role: 'skip' }, { when: {}, role: 'view' }];

  it('returns email → role and the lastEventAt of the person it comes from', () => {
    const map = desiredRoles([stored()], rules);
    expect([...map]).toEqual([['jane@example.com', { role: 'edit', personEventAt: '2024-05-01T00:00:00.000Z' }]]);
  });

  it('returns no entry for terminated people, people who left their source, or skipped people', () => {
    // Arrange
    const people = [
      stored({ email: 'gone@example.com', status: 'terminated' }),
      stored({ email: 'left@example.com', leftSource: true }),
      stored({ email: 'sales@example.com', attributes: { department: 'Sales' } }),
      stored({ email: 'ops@example.com', attributes: { department: 'Ops' } }),
    ];

    // Act / Assert
    expect([...desiredRoles(people, rules).keys()]).toEqual(['ops@example.com']);
  });

  it('returns the role of the newest of two sources sharing an email', () => {
    // Arrange
    const hr = stored({ source: 'hr', attributes: { department: 'Engineering' }, lastEventAt: '2024-05-03T00:00:00.000Z' });
    const crm = stored({ source: 'crm', attributes: { department: 'Ops' }, lastEventAt: '2024-05-02T00:00:00.000Z' });

    // Act
    const map = desiredRoles([crm, hr], rules);

    // Assert
    expect(map.get('jane@example.com')).toEqual({ role: 'edit', personEventAt: '2024-05-03T00:00:00.000Z' });
  });

  it('returns no role when another source terminated the same email more recently (the newest record wins)', () => {
    const active = stored({ source: 'hr', lastEventAt: '2024-05-01T00:00:00.000Z' });
    const ended = stored({ source: 'contractors', status: 'terminated', lastEventAt: '2024-05-09T00:00:00.000Z' });
    expect(desiredRoles([ended, active], rules).get('jane@example.com')).toBeUndefined();
    expect(desiredRoles([active, ended], rules).get('jane@example.com')).toBeUndefined();
  });

  it('returns the role when the active record is newer than another source\'s termination', () => {
    const active = stored({ source: 'hr', lastEventAt: '2024-05-09T00:00:00.000Z' });
    const ended = stored({ source: 'contractors', status: 'terminated', lastEventAt: '2024-05-01T00:00:00.000Z' });
    expect(desiredRoles([ended, active], rules).get('jane@example.com')?.role).toBe('edit');
  });

  it('returns no role for an old email of a person whose newer record in another source has another email', () => {
    const moved = stored({ source: 'hr', employeeId: 'E1', identity: 'emp:E1', lastEventAt: '2024-05-01T00:00:00.000Z' });
    const now = stored({ source: 'contractors', employeeId: 'E1', identity: 'emp:E1', email: 'jane.new@example.com', lastEventAt: '2024-05-09T00:00:00.000Z' });
    const desired = desiredRoles([moved, now], rules);
    expect(desired.get('jane@example.com')).toBeUndefined();
    expect(desired.get('jane.new@example.com')?.role).toBe('edit');
  });
});
