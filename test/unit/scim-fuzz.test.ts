// unit: hostile input to the SCIM parsers ends as a ScimError (a 4xx), never as another exception
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { filterMatches, parseFilter, parsePath } from '../../functions/scim/filter.ts';
import { applyPatch } from '../../functions/scim/patch.ts';
import { project } from '../../functions/scim/projection.ts';
import { PATCH_OP_SCHEMA, ScimError } from '../../functions/scim/errors.ts';
import { parseGroup, parseUser, stamp, toScimUser } from '../../functions/scim/resources.ts';

const at = { id: 'u-1', now: '2026-01-02T03:04:05.000Z', version: 'W/"1"' };
const user = stamp(parseUser({ userName: 'jane@x.com', emails: [{ value: 'jane@x.com', type: 'work' }], name: { givenName: 'J' } }), 'User', at);
const rendered = toScimUser(user, 'https://x.example/scim/v2');

/** Runs fn; true when it returned, false on a 4xx ScimError; rethrows anything else. */
function returnsOrRefuses(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof ScimError && e.status >= 400 && e.status < 500) return false;
    throw e;
  }
}

// filter-shaped text: the grammar's own tokens in random order, plus random characters
const token = fc.constantFrom('userName', 'emails', 'emails.value', 'name.givenName', 'urn:ietf:params:scim:schemas:core:2.0:User:userName', 'eq', 'ne', 'co', 'sw', 'pr', 'gt', 'and', 'or', 'not', '(', ')', '[', ']', '"x"', '"a\\"b"', 'true', 'null', '12', 'type', '.value', ' ');
const filterText = fc.oneof(fc.array(token, { maxLength: 20 }).map((t) => t.join(' ')), fc.array(token, { maxLength: 20 }).map((t) => t.join('')), fc.string({ maxLength: 60 }));

describe('Property: parsers refuse with ScimError only', () => {
  it('parseFilter (and filterMatches on what it accepts)', () => {
    fc.assert(
      fc.property(filterText, (text) => {
        returnsOrRefuses(() => filterMatches(rendered, parseFilter(text)));
      }),
      { numRuns: 2000 },
    );
  });

  it('parsePath', () => {
    fc.assert(fc.property(filterText, (text) => void returnsOrRefuses(() => parsePath(text))), { numRuns: 1000 });
  });

  it('applyPatch on any JSON operations leaves the input unchanged', () => {
    const op = fc.record(
      {
        op: fc.oneof(fc.constantFrom('add', 'Replace', 'REMOVE', 'move'), fc.jsonValue()),
        path: fc.oneof(filterText, fc.constantFrom('members', 'emails[type eq "work"].value', 'active', 'id', 'meta.version'), fc.jsonValue()),
        value: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 5 }), fc.constantFrom('User', 'Group') as fc.Arbitrary<'User' | 'Group'>, (ops, kind) => {
        const resource = kind === 'User' ? user : stamp(parseGroup({ displayName: 'G', members: [{ value: 'u-1' }] }), 'Group', at);
        const before = structuredClone(resource);
        returnsOrRefuses(() => applyPatch(resource, { schemas: [PATCH_OP_SCHEMA], Operations: ops }, kind));
        expect(resource).toEqual(before);
      }),
      { numRuns: 1000 },
    );
  });

  it('parseUser and project on any JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), filterText, (body, attrs) => {
        returnsOrRefuses(() => parseUser(body));
        returnsOrRefuses(() => parseUser({ userName: 'a', ...(body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {}) }));
        returnsOrRefuses(() => project(rendered, { attributes: attrs }));
        returnsOrRefuses(() => project(rendered, { excludedAttributes: attrs }));
      }),
      { numRuns: 1000 },
    );
  });
});
