// unit: list attributes of a person (a SCIM user's `groups`) through validation, rules, storage and change detection
import { describe, expect, it } from 'vitest';
import { toPerson } from '../../functions/sync/people.ts';
import { compileRules, roleFor, roleIn } from '../../functions/sync/rules.ts';
import { parseRoster } from '../../functions/sync/roster.ts';
import { parseHrEvent } from '../../functions/sync/events.ts';
import { samePerson } from '../../functions/state/store-rules.ts';
import { PersonItemSchema } from '../../functions/state/items.schema.ts';
import type { Person, Rule, StoredPerson } from '../../functions/sync/types.ts';
import { inputError } from '../helpers/errors.ts';

const stored = (over: Partial<StoredPerson> = {}): StoredPerson => ({
  email: 'jane@example.com',
  status: 'active',
  attributes: { department: 'Ops' },
  identity: 'scim:u-1',
  source: 'scim',
  lastEventAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

describe('toPerson with list attributes', () => {
  it('keeps lists of strings (items trimmed, numbers as text, empty items and empty lists dropped)', () => {
    expect(toPerson({ email: 'a@b.co', groups: [' Losant-Admins ', 7, '', 'All'], tags: [] })).toEqual({
      email: 'a@b.co',
      status: 'active',
      attributes: { groups: ['Losant-Admins', '7', 'All'] },
    });
  });

  it.each([
    [{ email: 'a@b.co', groups: Array.from({ length: 101 }, (_, i) => `g${i}`) }, 'groups: more than 100 items'],
    [{ email: 'a@b.co', groups: ['ok', 'x'.repeat(257)] }, 'groups.1: longer than 256 characters'],
    [{ email: 'a@b.co', groups: ['ok', { name: 'x' }] }, 'groups.1: must be a string, number or boolean'],
    [{ email: 'a@b.co', groups: [['nested']] }, 'groups.0: must be a string, number or boolean'],
    [{ email: 'a@b.co', groups: { a: 1 } }, 'groups: must be a string, number or boolean, or a list of strings'],
  ])('refuses %j naming the field', (raw, message) => {
    expect(inputError(() => toPerson(raw)).message).toBe(message);
  });

  it('accepts exactly 100 items of 256 characters', () => {
    const groups = Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(256, 'x'));
    expect(toPerson({ email: 'a@b.co', groups }).attributes.groups).toEqual(groups);
  });
});

describe('rules on list attributes', () => {
  const rules: Rule[] = [
    { when: { groups: 'Losant-Admins' }, role: 'admin' },
    { when: { groups: 'Losant-*' }, role: 'view' },
  ];
  const person = (attributes: Person['attributes']): Person => ({ email: 'a@b.co', status: 'active', attributes });

  it('matches when any element matches, and a string attribute as before', () => {
    expect(roleFor(person({ groups: ['Sales', 'losant-admins'] }), rules)).toBe('admin');
    expect(roleFor(person({ groups: ['Sales', 'Losant-Viewers'] }), rules)).toBe('view');
    expect(roleFor(person({ groups: ['Sales'] }), rules)).toBeNull();
    expect(roleFor(person({ groups: 'Losant-Admins' }), rules)).toBe('admin');
    expect(roleFor(person({ groups: [] }), [{ when: { groups: '*' }, role: 'view' }])).toBeNull();
  });

  it('gives the same answers through one compiled set (its memo) for many people', () => {
    const set = compileRules(rules);
    const people = Array.from({ length: 300 }, (_, i) => person({ groups: i % 3 === 0 ? ['x', 'Losant-Admins'] : i % 3 === 1 ? [`g${i}`, 'Losant-V'] : [`g${i}`] }));
    expect(people.map((p) => roleIn(p, set))).toEqual(people.map((p) => roleFor(p, rules)));
    expect(people.slice(0, 3).map((p) => roleIn(p, set))).toEqual(['admin', 'view', null]);
  });
});

describe('stored people with list attributes', () => {
  const item = { pk: 'PEOPLE', sk: 'hr#email:jane@example.com', source: 'hr', identity: 'email:jane@example.com', lastEventAt: '2025-01-01T00:00:00.000Z', leftSource: false, email: 'jane@example.com', status: 'active' };

  it('reads an item written before lists existed, and one with a list', () => {
    expect(PersonItemSchema.parse({ ...item, attributes: { department: 'Ops' } }).attributes).toEqual({ department: 'Ops' });
    expect(PersonItemSchema.parse({ ...item, attributes: { department: 'Ops', groups: ['A', 'B'] } }).attributes).toEqual({ department: 'Ops', groups: ['A', 'B'] });
    expect(PersonItemSchema.safeParse({ ...item, attributes: { groups: [1] } }).success).toBe(false);
  });

  it('sees a changed, added or removed list element as a change', () => {
    const s = stored({ attributes: { department: 'Ops', groups: ['A', 'B'] } });
    const p = (attributes: Person['attributes']): Person => ({ email: s.email, status: 'active', attributes });
    expect(samePerson(s, p({ department: 'Ops', groups: ['A', 'B'] }))).toBe(true);
    expect(samePerson(s, p({ department: 'Ops', groups: ['A'] }))).toBe(false);
    expect(samePerson(s, p({ department: 'Ops', groups: ['A', 'C'] }))).toBe(false);
    expect(samePerson(s, p({ department: 'Ops', groups: 'A' }))).toBe(false);
    expect(samePerson(stored(), p({ department: ['Ops'] }))).toBe(false);
  });
});

describe('rosters', () => {
  it('a CSV roster still gives strings only', () => {
    const { people } = parseRoster('email,groups\njane@example.com,"Losant-Admins,All"\n', 'csv');
    expect(people[0]?.attributes).toEqual({ groups: 'Losant-Admins,All' });
  });

  it('a JSON roster row may carry a list, as an HR event may', () => {
    const { people } = parseRoster(JSON.stringify([{ email: 'jane@example.com', groups: ['Losant-Admins', 'All'] }]), 'json');
    expect(people[0]?.attributes).toEqual({ groups: ['Losant-Admins', 'All'] });
  });
});

describe('HR events', () => {
  const event = (person: Record<string, unknown>) => ({ id: 'e1', type: 'person.upserted', occurredAt: '2020-01-01T00:00:00.000Z', source: 'hr', person });

  it('carry list attributes, and a bad item is named under person', () => {
    const ok = parseHrEvent(event({ email: 'a@b.co', groups: ['Losant-Admins'] }));
    expect(ok.type === 'person.upserted' && ok.person.attributes).toEqual({ groups: ['Losant-Admins'] });
    expect(inputError(() => parseHrEvent(event({ email: 'a@b.co', groups: ['ok', 'x'.repeat(300)] }))).message).toBe('person.groups.1: longer than 256 characters');
  });
});
