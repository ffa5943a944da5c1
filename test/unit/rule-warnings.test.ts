// unit: ruleWarnings (functions/sync/rule-warnings.ts)
import { describe, expect, it } from 'vitest';
import { ruleWarnings } from '../../functions/sync/rule-warnings.ts';
import type { Rule, StoredPerson, Target } from '../../functions/sync/types.ts';

const ID = 'a'.repeat(24);
const target = (name: string, rules: Rule[]): Target => ({ name, instanceId: ID, orgId: ID, rules });
const person = (email: string, attributes: Record<string, string>, over: Partial<StoredPerson> = {}): StoredPerson => ({
  email,
  identity: `email:${email}`,
  source: 'hr',
  status: 'active',
  lastEventAt: '2020-01-01T00:00:00.000Z',
  attributes,
  ...over,
});
const PEOPLE = [person('a@example.com', { department: 'Engineering', employeeType: 'contractor' }), person('b@example.com', { department: 'Sales' })];

describe('Function: ruleWarnings', () => {
  it('returns a key no person has, with the closest column as a hint', () => {
    // Act
    const w = ruleWarnings([target('eng', [{ when: { departmnet: 'Engineering' }, role: 'edit' }, { when: {}, role: 'view' }])], PEOPLE);

    // Assess
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ code: 'unknownKey', target: 'eng', rule: 1, key: 'departmnet' });
    expect(w[0]!.message).toContain('did you mean "department"?');
  });

  it('returns rules after a catch-all, and targets whose rules give nobody a role', () => {
    // Act
    const w = ruleWarnings(
      [
        target('all', [{ when: { email: '*' }, role: 'view' }, { when: { department: 'Sales' }, role: 'edit' }]),
        target('none', [{ when: { department: 'Legal' }, role: 'view' }]),
      ],
      PEOPLE,
    );

    // Assess
    expect(w.map((x) => [x.code, x.target, x.rule])).toEqual([
      ['afterCatchAll', 'all', 2],
      ['matchesNobody', 'none', undefined],
    ]);
  });

  it('returns nothing for sound rules, for keys email/employeeId/status, and when there are no people', () => {
    // Arrange
    const people = [...PEOPLE, person('c@example.com', {}, { employeeId: 'E1' })];
    const rules: Rule[] = [{ when: { employeeId: 'E*', status: 'active' }, role: 'admin' }, { when: { department: 'Eng*' }, role: 'edit' }, { when: {}, role: 'view' }];

    // Act
    const sound = ruleWarnings([target('eng', rules)], people);
    const empty = ruleWarnings([target('none', [{ when: { nope: 'x' }, role: 'view' }])], []);

    // Assess
    expect([sound, empty]).toEqual([[], []]);
  });

  it('returns no key warning for a person left out (terminated people do not count as having the key)', () => {
    // Arrange
    const people = [person('t@example.com', { costCenter: '42' }, { status: 'terminated' }), person('a@example.com', {})];

    // Act
    const w = ruleWarnings([target('cc', [{ when: { costCenter: '42' }, role: 'view' }, { when: {}, role: 'view' }])], people);

    // Assess
    expect(w.map((x) => x.code)).toEqual(['unknownKey']);
  });
});
