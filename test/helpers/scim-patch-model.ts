// tests --> a plain object model of SCIM PATCH (RFC 7644 §3.5.2): fast-check steps, each an operation as Okta or
// Entra sends it and what it does to a plain object. Used by the pure property (test/unit/scim-patch.test.ts) and the
// stored-user property over HTTP (test/integration/scim-patch-property.int.test.ts).
import fc from 'fast-check';
import { ENTERPRISE_USER_SCHEMA } from '../../functions/scim/errors.ts';
import type { ScimGroup, ScimUser } from '../../functions/scim/resources.ts';

export type Model = Record<string, unknown>;
export type Step = { op: unknown; model: (m: Model) => void };

export const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
const opCase = (op: string) => fc.constantFrom(op, op.toUpperCase(), op[0]!.toUpperCase() + op.slice(1));
const nameCase = (name: string) => fc.constantFrom(name, name.toLowerCase(), name.toUpperCase());
export const emailType = fc.constantFrom('work', 'home', 'other');
const DEPT = `${ENTERPRISE_USER_SCHEMA}:department`;

const setOrDelete = (m: Model, k: string, v: unknown) => {
  if (v === undefined) delete m[k];
  else m[k] = v;
};
const emailsOf = (m: Model) => (m.emails as { type: string; value: string }[] | undefined) ?? [];

export const userSteps: fc.Arbitrary<Step>[] = [
  // add/replace of a simple attribute, path written in any case
  fc.tuple(fc.constantFrom('title', 'displayName', 'nickName', 'userType', 'locale'), fc.constantFrom('add', 'replace'), word).chain(([attr, op, v]) =>
    fc.tuple(opCase(op), nameCase(attr)).map(([o, p]) => ({ op: { op: o, path: p, value: v }, model: (m: Model) => void (m[attr] = v) })),
  ),
  fc.constantFrom('title', 'displayName', 'nickName').chain((attr) =>
    opCase('remove').map((o) => ({ op: { op: o, path: attr }, model: (m: Model) => void delete m[attr] })),
  ),
  // active as a boolean or as Entra's "True"/"False", with or without a path
  fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()).chain(([v, asString, withPath]) =>
    opCase('replace').map((o) => {
      const value = asString ? (v ? 'True' : 'False') : v;
      return { op: withPath ? { op: o, path: 'active', value } : { op: o, value: { active: value } }, model: (m: Model) => void (m.active = v) };
    }),
  ),
  // name.givenName / name.familyName
  fc.tuple(fc.constantFrom('givenName', 'familyName'), fc.constantFrom('add', 'replace', 'remove'), word).map(([sub, op, v]) => ({
    op: op === 'remove' ? { op, path: `name.${sub}` } : { op, path: `name.${sub}`, value: v },
    model: (m: Model) => {
      const name = { ...((m.name as Model | undefined) ?? {}) };
      setOrDelete(name, sub, op === 'remove' ? undefined : v);
      setOrDelete(m, 'name', Object.keys(name).length ? name : undefined);
    },
  })),
  // emails[type eq "T"].value: set on every element of that type, else a new element
  fc.tuple(emailType, fc.constantFrom('add', 'replace'), word).chain(([type, op, v]) =>
    opCase(op).map((o) => ({
      op: { op: o, path: `emails[type eq "${type}"].value`, value: `${v}@x.com` },
      model: (m: Model) => {
        const list = emailsOf(m);
        m.emails = list.some((e) => e.type === type)
          ? list.map((e) => (e.type === type ? { ...e, value: `${v}@x.com` } : e))
          : [...list, { type, value: `${v}@x.com` }];
      },
    })),
  ),
  emailType.map((type) => ({
    op: { op: 'remove', path: `emails[type eq "${type}"]` },
    model: (m: Model) => setOrDelete(m, 'emails', emailsOf(m).filter((e) => e.type !== type).length ? emailsOf(m).filter((e) => e.type !== type) : undefined),
  })),
  fc.array(fc.record({ type: emailType, value: word.map((w) => `${w}@y.com`) }), { maxLength: 3 }).map((list) => ({
    op: { op: 'replace', path: 'emails', value: list },
    model: (m: Model) => setOrDelete(m, 'emails', list.length ? list : undefined),
  })),
  // enterprise department by its URN path
  fc.tuple(fc.constantFrom('add', 'replace', 'remove'), word).map(([op, v]) => ({
    op: op === 'remove' ? { op, path: DEPT } : { op, path: DEPT, value: v },
    model: (m: Model) => {
      const ext = { ...((m[ENTERPRISE_USER_SCHEMA] as Model | undefined) ?? {}) };
      setOrDelete(ext, 'department', op === 'remove' ? undefined : v);
      setOrDelete(m, ENTERPRISE_USER_SCHEMA, Object.keys(ext).length ? ext : undefined);
    },
  })),
  // a path-less replace of several attributes
  fc.tuple(word, word).map(([t, d]) => ({
    op: { op: 'replace', value: { title: t, displayName: d } },
    model: (m: Model) => Object.assign(m, { title: t, displayName: d }),
  })),
];

export const memberId: fc.Arbitrary<string> = fc.constantFrom('u-1', 'u-2', 'u-3', 'u-4');
const membersOf = (m: Model) => (m.members as { value: string }[] | undefined) ?? [];
export const groupSteps: fc.Arbitrary<Step>[] = [
  fc.array(memberId, { maxLength: 3 }).chain((ids) =>
    opCase('add').map((o) => ({
      op: { op: o, path: 'members', value: ids.map((value) => ({ value })) },
      model: (m: Model) => {
        const list = [...membersOf(m)];
        for (const value of ids) if (!list.some((e) => e.value === value)) list.push({ value });
        setOrDelete(m, 'members', list.length ? list : undefined);
      },
    })),
  ),
  memberId.chain((id) =>
    opCase('remove').map((o) => ({
      op: { op: o, path: `members[value eq "${id}"]` },
      model: (m: Model) => setOrDelete(m, 'members', membersOf(m).filter((e) => e.value !== id).length ? membersOf(m).filter((e) => e.value !== id) : undefined),
    })),
  ),
  fc.array(memberId, { minLength: 1, maxLength: 2 }).map((ids) => ({
    op: { op: 'Remove', path: 'members', value: ids.map((value) => ({ value })) },
    model: (m: Model) => setOrDelete(m, 'members', membersOf(m).filter((e) => !ids.includes(e.value)).length ? membersOf(m).filter((e) => !ids.includes(e.value)) : undefined),
  })),
  fc.uniqueArray(memberId, { maxLength: 3 }).map((ids) => ({
    op: { op: 'replace', path: 'members', value: ids.map((value) => ({ value })) },
    model: (m: Model) => setOrDelete(m, 'members', ids.length ? ids.map((value) => ({ value })) : undefined),
  })),
  fc.tuple(word, fc.boolean()).map(([name, withPath]) => ({
    op: withPath ? { op: 'Replace', path: 'displayName', value: name } : { op: 'replace', value: { id: 'g-1', displayName: name } },
    model: (m: Model) => void (m.displayName = name),
  })),
];

export const startUser = fc.record(
  {
    title: word,
    nickName: word,
    active: fc.boolean(),
    name: fc.record({ givenName: word, familyName: word }, { requiredKeys: [] }),
    emails: fc.array(fc.record({ type: emailType, value: word.map((w) => `${w}@s.com`) }), { minLength: 1, maxLength: 3 }),
    [ENTERPRISE_USER_SCHEMA]: fc.record({ department: word }),
  },
  { requiredKeys: [] },
);

/** The stored attributes without id and meta, minus empty objects (a user with `name: {}` has no name). */
export function attrs(r: ScimUser | ScimGroup): Model {
  const { id: _id, meta: _meta, ...rest } = r;
  return rest as Model;
}
export function cleanModel(m: Model): Model {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => !(v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)));
}
