// unit: hashPlan (functions/sync/plan-hash.ts)
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
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

  // approvals are bound to the hash: these digests were computed before any change to hashPlan and must never move
  it('returns the known digests of fixed plans', () => {
    const C: Action = { kind: 'revoke', email: 'Zo\u00eb@ex\u00e4mple.com', role: 'admin', inviteId: '575ec8687ae143cd83dc4a98' };
    const D: Action = { kind: 'fixRole', email: 'c@example.com', role: 'collaborate', inviteId: '575ec8687ae143cd83dc4a99', personEventAt: '2024-05-01T00:00:00.000Z' };
    expect(hashPlan([])).toBe('2a802fef66454874db19bbd9ce8a026d24620b4c24a14d2d3008392cadb94cb6');
    expect(hashPlan([A, B, C, D])).toBe('a777110632d58262fd87b30db73d7912030359ccd7fa2cee34a624fbff0a9432');
    const many = Array.from({ length: 5000 }, (_, i): Action => ({ kind: 'invite', email: `p${i}@example.com`, role: 'view', personEventAt: 'x' }));
    expect(hashPlan(many)).toBe('ff7b9af6e9e5a4dd08035d5a22358a3dc50c9ce348e133f4b645561cd8a5e27a');
  });

  it('returns the digest of the whole canonical text, also for any strings and across chunk boundaries', () => {
    // the definition: sha256 of the header and one line per action in canonical order, as one string
    const reference = (actions: readonly Action[]): string => {
      const lines = [...actions]
        .sort((a, b) => {
          const ka = [a.kind, a.email, a.inviteId ?? '', a.role];
          const kb = [b.kind, b.email, b.inviteId ?? '', b.role];
          for (let i = 0; i < 4; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
          return 0;
        })
        .map((a) => `${a.kind}\u0000${a.email}\u0000${a.role}\u0000${a.inviteId ?? ''}\n`);
      return createHash('sha256').update('invite-sync/plan/v1\n').update(lines.join('')).digest('hex');
    };
    const anyAction = fc.record({
      kind: fc.constantFrom('invite', 'renew', 'fixRole', 'revoke'),
      email: fc.string({ unit: 'binary', maxLength: 6 }),
      role: fc.constantFrom(...ORG_ROLES),
      inviteId: fc.option(fc.string({ unit: 'binary', maxLength: 4 }), { nil: undefined }),
    }) as fc.Arbitrary<Action>;
    fc.assert(
      fc.property(fc.array(anyAction, { minLength: 200, maxLength: 700 }), (actions) => {
        expect(hashPlan(actions)).toBe(reference(actions));
      }),
      { numRuns: 30 },
    );
  });

  it('returns different hashes for no actions, one action and the same action twice', () => {
    expect(new Set([hashPlan([]), hashPlan([A]), hashPlan([A, A])]).size).toBe(3);
  });
});
