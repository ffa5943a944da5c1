// unit: SCIM PATCH (RFC 7644 §3.5.2) as Okta and Entra send it, and a model-based property (functions/scim/patch.ts)
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyPatch } from '../../functions/scim/patch.ts';
import { ENTERPRISE_USER_SCHEMA, PATCH_OP_SCHEMA } from '../../functions/scim/errors.ts';
import { parseGroup, parseUser, stamp, type ScimGroup, type ScimUser } from '../../functions/scim/resources.ts';
import { scimError } from '../helpers/errors.ts';
import { attrs, cleanModel, groupSteps, memberId, startUser, userSteps } from '../helpers/scim-patch-model.ts';

const at = { id: 'u-1', now: '2026-01-02T03:04:05.000Z', version: 'W/"1"' };
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations });

const user = (body: Record<string, unknown> = {}): ScimUser =>
  stamp(
    parseUser({
      userName: 'jane@example.com',
      active: true,
      name: { givenName: 'Jane', familyName: 'Doe' },
      emails: [
        { value: 'jane@example.com', type: 'work', primary: true },
        { value: 'jane@home.example', type: 'home' },
      ],
      ...body,
    }),
    'User',
    at,
  );
const group = (members: string[] = ['u-1', 'u-2']): ScimGroup =>
  stamp(parseGroup({ displayName: 'Losant-Admins', members: members.map((value) => ({ value })) }), 'Group', { ...at, id: 'g-1' });

describe('Function: applyPatch (Okta)', () => {
  it('deactivates with a path-less replace (Okta SCIM 2.0 guide)', () => {
    const out = applyPatch(user(), { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'replace', value: { active: false } }] }, 'User');
    expect(out.active).toBe(false);
    expect(out.userName).toBe('jane@example.com');
    expect(out.id).toBe('u-1');
    expect(out.meta).toEqual(user().meta);
  });

  it('renames a group with a path-less replace that repeats the id', () => {
    const out = applyPatch(group(), patch({ op: 'replace', value: { id: 'g-1', displayName: 'Losant-Editors' } }), 'Group');
    expect(out.displayName).toBe('Losant-Editors');
    expect(out.members).toEqual([{ value: 'u-1' }, { value: 'u-2' }]);
  });

  it('adds members (once each) and removes one by a value filter', () => {
    const added = applyPatch(group(['u-1']), patch({ op: 'add', path: 'members', value: [{ value: 'u-2', display: 'bob@example.com' }, { value: 'u-1' }] }), 'Group');
    expect(added.members).toEqual([{ value: 'u-1' }, { value: 'u-2', display: 'bob@example.com' }]);
    const removed = applyPatch(added, patch({ op: 'remove', path: 'members[value eq "u-1"]' }), 'Group');
    expect(removed.members).toEqual([{ value: 'u-2', display: 'bob@example.com' }]);
  });

  it('replaces the member list', () => {
    expect(applyPatch(group(), patch({ op: 'replace', path: 'members', value: [{ value: 'u-9' }] }), 'Group').members).toEqual([{ value: 'u-9' }]);
  });
});

describe('Function: applyPatch (Entra)', () => {
  it('applies the "Update User [Multi-valued properties]" request', () => {
    const out = applyPatch(
      user(),
      patch(
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
      ),
      'User',
    );
    expect(out.emails).toEqual([
      { value: 'updatedEmail@microsoft.com', type: 'work', primary: true },
      { value: 'jane@home.example', type: 'home' },
    ]);
    expect(out.name).toEqual({ givenName: 'Jane', familyName: 'updatedFamilyName' });
  });

  it('adds a work email to a user who has none (the filter describes the new element)', () => {
    const out = applyPatch(user({ emails: [] }), patch({ op: 'Add', path: 'emails[type eq "work"].value', value: 'x@y.com' }), 'User');
    expect(out.emails).toEqual([{ type: 'work', value: 'x@y.com' }]);
  });

  it('reads "active": "False" and "True"', () => {
    expect(applyPatch(user(), patch({ op: 'Replace', path: 'active', value: 'False' }), 'User').active).toBe(false);
    expect(applyPatch(user({ active: false }), patch({ op: 'Replace', path: 'active', value: 'True' }), 'User').active).toBe(true);
  });

  it('sets, changes and removes enterprise attributes by their URN paths (manager as a bare id)', () => {
    const dept = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department';
    const mgr = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager';
    const set = applyPatch(user(), patch({ op: 'Add', path: dept, value: 'Sales' }, { op: 'Add', path: mgr, value: '2819c223' }), 'User');
    expect(set[ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'Sales', manager: { value: '2819c223' } });
    const removed = applyPatch(set, patch({ op: 'Remove', path: mgr }, { op: 'remove', path: dept }), 'User');
    expect(removed[ENTERPRISE_USER_SCHEMA]).toBeUndefined();
  });

  it('adds members by a value list, removes them by a filter and by a value list (older Entra)', () => {
    const added = applyPatch(group([]), patch({ op: 'Add', path: 'members', value: [{ value: 'id-1' }, { value: 'id-2' }, { value: 'id-3' }] }), 'Group');
    expect(added.members?.map((m) => m.value)).toEqual(['id-1', 'id-2', 'id-3']);
    const one = applyPatch(added, patch({ op: 'Remove', path: 'members[value eq "id-1"]' }), 'Group');
    expect(one.members?.map((m) => m.value)).toEqual(['id-2', 'id-3']);
    const two = applyPatch(one, patch({ op: 'Remove', path: 'members', value: [{ value: 'id-3' }] }), 'Group');
    expect(two.members?.map((m) => m.value)).toEqual(['id-2']);
    // removing someone who is not a member is not an error (IdPs retry)
    expect(applyPatch(two, patch({ op: 'Remove', path: 'members[value eq "nobody"]' }), 'Group').members).toEqual(two.members);
  });

  it('applies a path-less add whose keys are paths', () => {
    const out = applyPatch(
      user({ emails: [] }),
      patch({ op: 'Add', value: { displayName: 'Jane D', 'emails[type eq "work"].value': 'jd@x.com', 'name.givenName': 'Janet', favouriteColour: 'blue' } }),
      'User',
    );
    expect(out.displayName).toBe('Jane D');
    expect(out.emails).toEqual([{ type: 'work', value: 'jd@x.com' }]);
    expect(out.name).toEqual({ givenName: 'Janet', familyName: 'Doe' });
  });

  it('applies a path-less replace holding the enterprise extension object', () => {
    const out = applyPatch(user(), patch({ op: 'replace', value: { [ENTERPRISE_USER_SCHEMA]: { employeeNumber: 42, costCenter: 'CC1' } } }), 'User');
    expect(out[ENTERPRISE_USER_SCHEMA]).toEqual({ employeeNumber: '42', costCenter: 'CC1' });
  });
});

describe('Function: applyPatch (RFC 7644 §3.5.2 semantics)', () => {
  it('merges a complex value, replaces a multi-valued one, removes an attribute', () => {
    const out = applyPatch(
      user({ title: 'Engineer' }),
      patch(
        { op: 'add', path: 'name', value: { middleName: 'Q' } },
        { op: 'replace', path: 'emails', value: [{ value: 'only@x.com', type: 'work' }] },
        { op: 'remove', path: 'title' },
      ),
      'User',
    );
    expect(out.name).toEqual({ givenName: 'Jane', familyName: 'Doe', middleName: 'Q' });
    expect(out.emails).toEqual([{ value: 'only@x.com', type: 'work' }]);
    expect(out.title).toBeUndefined();
  });

  it('removes a sub-attribute of matched elements and whole elements', () => {
    const noHome = applyPatch(user(), patch({ op: 'remove', path: 'emails[type eq "home"]' }), 'User');
    expect(noHome.emails).toEqual([{ value: 'jane@example.com', type: 'work', primary: true }]);
    const noPrimary = applyPatch(user(), patch({ op: 'remove', path: 'emails[type eq "work"].primary' }), 'User');
    expect(noPrimary.emails?.[0]).toEqual({ value: 'jane@example.com', type: 'work' });
  });

  it('never mutates the resource it is given', () => {
    const u = user();
    const before = structuredClone(u);
    applyPatch(u, patch({ op: 'replace', path: 'emails[type eq "work"].value', value: 'z@z.com' }, { op: 'remove', path: 'name.givenName' }), 'User');
    expect(u).toEqual(before);
  });

  it.each([
    [{ Operations: [{ op: 'add', path: 'title', value: 'x' }] }, 'invalidSyntax', 'schemas: must include urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    [{ schemas: [PATCH_OP_SCHEMA] }, 'invalidSyntax', 'Operations: must be a non-empty list'],
    [patch({ op: 'move', path: 'title', value: 'x' }), 'invalidSyntax', 'Operations.0.op: must be add, replace or remove'],
    [patch({ op: 'add', path: 'title' }), 'invalidSyntax', 'Operations.0.path: value is required'],
    [patch({ op: 'remove' }), 'noTarget', 'Operations.0: remove needs a path'],
    [patch({ op: 'replace', value: 'x' }), 'invalidSyntax', 'Operations.0.value: must be an object when there is no path'],
    [patch({ op: 'replace', path: 'id', value: 'other' }), 'mutability', 'Operations.0.path: id is read-only'],
    [patch({ op: 'replace', path: 'meta.created', value: 'x' }), 'mutability', 'Operations.0.path: meta is read-only'],
    [patch({ op: 'replace', value: { id: 'other' } }), 'mutability', 'Operations.0.value.id: is read-only'],
    [patch({ op: 'add', path: 'groups', value: [{ value: 'g' }] }), 'mutability', 'Operations.0.path: groups is read-only'],
    [patch({ op: 'replace', path: 'favouriteColour', value: 'x' }), 'invalidPath', 'Operations.0.path: unknown attribute "favouriteColour"'],
    [patch({ op: 'replace', path: 'name.nick', value: 'x' }), 'invalidPath', 'Operations.0.path: unknown sub-attribute "nick" of name'],
    [patch({ op: 'replace', path: 'urn:example:custom:2.0:User:x', value: 'x' }), 'invalidPath', 'Operations.0.path: unknown schema "urn:example:custom:2.0:User"'],
    [patch({ op: 'replace', path: 'emails[type eq "work"', value: 'x' }), 'invalidPath', 'path: expected "]" at the end'],
    [patch({ op: 'replace', path: 'title[value eq "x"]', value: 'x' }), 'invalidPath', 'Operations.0.path: title is not multi-valued'],
    [patch({ op: 'replace', path: 'emails[value co "nobody"].value', value: 'x' }), 'noTarget', 'Operations.0.path: the filter matches no value'],
    [patch({ op: 'replace', path: 'userName', value: '' }), 'invalidValue', 'userName: required'],
    [patch({ op: 'remove', path: 'userName' }), 'invalidValue', 'userName: required'],
    [patch({ op: 'replace', path: 'active', value: 'perhaps' }), 'invalidValue', 'active: must be true or false'],
    [patch({ op: 'add', path: 'emails', value: [{ value: 7, type: { x: 1 } }] }), 'invalidValue', 'emails.2.type: must be a string'],
  ])('refuses %j with 400 %s', (body, scimType, detail) => {
    const u = user();
    const e = scimError(() => applyPatch(u, body, 'User'));
    expect([e.status, e.scimType, e.message]).toEqual([400, scimType, detail]);
    expect(u).toEqual(user());
  });

  it('refuses a member without a value', () => {
    expect(scimError(() => applyPatch(group(), patch({ op: 'add', path: 'members', value: [{ display: 'x' }] }), 'Group')).message).toBe('members.2.value: required');
  });
});

// ---------- property: PATCH equals a plain object model (test/helpers/scim-patch-model.ts) ----------

describe('Property: applyPatch equals the plain object model', () => {
  it('for any sequence of operations on a random user (one PATCH, or one PATCH per operation)', () => {
    fc.assert(
      fc.property(startUser, fc.array(fc.oneof(...userSteps), { minLength: 1, maxLength: 12 }), (start, steps) => {
        const u = stamp(parseUser({ userName: 'jane@example.com', ...start }), 'User', at);
        const before = structuredClone(u);
        const model = cleanModel(structuredClone(attrs(u)));
        for (const s of steps) s.model(model);

        const once = applyPatch(u, patch(...steps.map((s) => s.op)), 'User');
        const oneByOne = steps.reduce((cur, s) => applyPatch(cur, patch(s.op), 'User'), u);

        expect(attrs(once)).toEqual(model);
        expect(attrs(oneByOne)).toEqual(model);
        expect(once.id).toBe('u-1');
        expect(once.meta).toEqual(before.meta);
        expect(u).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });

  it('for any sequence of member and name operations on a random group', () => {
    fc.assert(
      fc.property(fc.uniqueArray(memberId, { maxLength: 4 }), fc.array(fc.oneof(...groupSteps), { minLength: 1, maxLength: 12 }), (ids, steps) => {
        const g = group(ids);
        const before = structuredClone(g);
        const model = structuredClone(attrs(g));
        for (const s of steps) s.model(model);

        const once = applyPatch(g, patch(...steps.map((s) => s.op)), 'Group');
        const oneByOne = steps.reduce((cur, s) => applyPatch(cur, patch(s.op), 'Group'), g);

        expect(attrs(once)).toEqual(model);
        expect(attrs(oneByOne)).toEqual(model);
        expect(g).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Function: applyPatch (hostile keys)', () => {
  it('never lets a __proto__ key reach an object\'s prototype', () => {
    const body = JSON.parse('{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"name","value":{"__proto__":{"givenName":"Mallory","polluted":true},"familyName":"X"}},{"op":"add","path":"emails","value":[{"__proto__":{"type":"work"},"value":"m@x.com"}]}]}');
    const out = applyPatch(user({ name: {}, emails: [] }), body, 'User');
    expect(out.name).toEqual({ familyName: 'X' });
    expect(Object.getPrototypeOf(out.name)).toBe(Object.prototype);
    expect(out.emails).toEqual([{ value: 'm@x.com' }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
