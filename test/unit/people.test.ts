// unit: raw person --> Person (functions/sync/people.ts)
import { describe, expect, it } from 'vitest';
import { personIdentity, PersonInputSchema, toPerson } from '../../functions/sync/people.ts';
import { inputError } from '../helpers/errors.ts';


describe('Function: toPerson', () => {
  it('returns the email normalised, status active and other fields as string attributes', () => {
    // Arrange
    const raw = { email: ' Jane@Müller.DE ', employeeId: ' E1 ', department: 'Engineering', fte: 0.8, remote: true };

    // Act
    const person = toPerson(raw);

    // Assert
    expect(person).toEqual({
      email: 'jane@xn--mller-kva.de',
      employeeId: 'E1',
      status: 'active',
      attributes: { department: 'Engineering', fte: '0.8', remote: 'true' },
    });
  });

  it('returns status terminated in any letter case', () => {
    expect(toPerson({ email: 'a@b.co', status: ' Terminated ' }).status).toBe('terminated');
  });

  it('returns a numeric employeeId as a string', () => {
    expect(toPerson({ email: 'a@b.co', employeeId: 1042 }).employeeId).toBe('1042');
  });

  it('returns null and empty values as absent', () => {
    // Act
    const person = toPerson({ email: 'a@b.co', employeeId: null, status: null, title: null, location: '  ' });

    // Assert
    expect(person).toEqual({ email: 'a@b.co', status: 'active', attributes: {} });
    expect('employeeId' in person).toBe(false);
  });

  it.each([
    [{}, 'email: required'],
    [{ email: 'nope' }, 'email: invalid email'],
    [{ email: 42 }, 'email: must be a string'],
    [{ email: 'a@b.co', employeeId: '  ' }, 'employeeId: must not be empty'],
    [{ email: 'a@b.co', status: 'retired' }, 'status: must be "active" or "terminated"'],
    [{ email: 'a@b.co', manager: { email: 'b@b.co' } }, 'manager: must be a string, number or boolean, or a list of strings'],
    [{ email: 'a@b.co', tags: [['x']] }, 'tags.0: must be a string, number or boolean'],
    ['a@b.co', '(root): must be an object'],
    [[{ email: 'a@b.co' }], '(root): must be an object'],
  ])('throws InputError naming the field for %j', (raw, message) => {
    // Act
    const err = inputError(() => toPerson(raw));

    // Assert
    expect(err.message).toBe(message);
    expect(err.issues[0]?.path).toBe(message.split(':')[0]);
  });

  it('throws InputError for an attribute value over 1024 characters', () => {
    expect(() => toPerson({ email: 'a@b.co', note: 'x'.repeat(1025) })).toThrow(/note: longer than 1024/);
  });

  it('throws InputError for more than 100 attributes', () => {
    const raw: Record<string, string> = { email: 'a@b.co' };
    for (let i = 0; i <= 100; i++) raw[`a${i}`] = 'x';
    expect(() => toPerson(raw)).toThrow(/more than 100 attributes/);
  });

  it('throws InputError for a __proto__ key instead of inheriting its fields', () => {
    // Arrange
    const raw: unknown = JSON.parse('{"__proto__": {"email": "a@b.co", "status": "terminated"}}');

    // Act
    const err = inputError(() => toPerson(raw));

    // Assert
    expect(err.issues).toContainEqual({ path: '__proto__', message: 'is a reserved name (__proto__, constructor, prototype) and cannot be used' });
  });

  it.each(['constructor', 'prototype'])('throws InputError naming a %s attribute', (name) => {
    // Arrange
    const raw: unknown = JSON.parse(`{"email": "a@b.co", "${name}": "x"}`);

    // Act
    const err = inputError(() => toPerson(raw));

    // Assert
    expect(err.message).toBe(`${name}: is a reserved name (__proto__, constructor, prototype) and cannot be used`);
  });

  it('lists every bad field in issues', () => {
    const err = inputError(() => toPerson({ email: 'x', status: 'gone', boss: {} }));
    expect(err.issues.map((i) => i.path).sort()).toEqual(['boss', 'email', 'status']);
  });
});

describe('Function: PersonInputSchema', () => {
  it('returns the flat validated record (email normalised, attributes kept at the top level)', () => {
    const parsed = PersonInputSchema.parse({ email: 'X@Y.io', site: 'HQ' });
    expect(parsed).toEqual({ email: 'x@y.io', status: 'active', site: 'HQ' });
  });
});

describe('Function: personIdentity', () => {
  it('returns the employeeId when there is one', () => {
    expect(personIdentity({ email: 'jane@x.com', employeeId: 'E123' })).toBe('emp:E123');
  });

  it('returns the email when there is no employeeId', () => {
    expect(personIdentity({ email: 'jane@x.com' })).toBe('email:jane@x.com');
  });

  it('returns different identities for an employeeId that looks like an email', () => {
    expect(personIdentity({ email: 'a@b.co', employeeId: 'a@b.co' })).not.toBe(personIdentity({ email: 'a@b.co' }));
  });
});
