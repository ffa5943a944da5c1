// unit: hashPlan (functions/sync/plan-hash.ts)
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hashPlan } from '../../functions/sync/plan-hash.ts';
import { ORG_ROLES, type Action } from '../../functions/sync/types.ts';

const A: Action = { kind: 'invite', email: 'a@example.com', role: 'view', personEventAt: '2024-05-01T00:00:00.000Z' };
const B: Action = { kind: 'renew', email: 'b@example.com', role: 'edit', inviteId: '575ec8687ae143cd83dc4a97', renewals: 1 };

const actionArb = fc.record({
  kind: fc.constantFrom('invite', 'renew', 'fixRole', 'revoke'),
  email: fc.emailAddress(),
  role: fc.constantFrom(...ORG_ROLES),
  inviteId: fc.option(fc.stringMatching(/^[0-9a-f]{24}$/), { nil: undefined }),
}) as fc.Arbitrary<Action>;

describe('Function: hashPlan', () => {
  it('returns a sha256 hex digest', () => {
    expect(hashPlan([A, B])).toMatch(/^[0-9a-f]{64}$/);
  });

  it('returns the same hash in any order', () => {
    fc.assert(
      fc.property(fc.array(actionArb, { maxLength: 20 }), (actions) => {
        expect(hashPlan([...actions].reverse())).toBe(hashPlan(actions));
      }),
    );
  });

  it('returns a hash that ignores personEventAt and renewals', () => {
    expect(hashPlan([{ ...A, personEventAt: '2030-01-01T00:00:00.000Z' }, { ...B, renewals: 3 }])).toBe(hashPlan([A, B]));
  });

  it.each<[string, Action]>([
    ['kind', { ...B, kind: 'fixRole' }],
    ['email', { ...B, email: 'c@example.com' }],
    ['role', { ...B, role: 'admin' }],
    ['inviteId', { ...B, inviteId: '575ec8687ae143cd83dc4a98' }],
  ])('returns a different hash when the %s of an action changes', (_field, changed) => {
    expect(hashPlan([A, changed])).not.toBe(hashPlan([A, B]));
  });

  it('returns different hashes for no actions, one action and the same action twice', () => {
    expect(new Set([hashPlan([]), hashPlan([A]), hashPlan([A, A])]).size).toBe(3);
  });
});
