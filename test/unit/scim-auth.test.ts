// SCIM tokens: SCIM_TOKEN and the secret's [{ token, source }] parsed strictly (errors never carry a token),
// bearer matching, and the per-token throttle (token bucket on an injected clock).
import { describe, expect, it } from 'vitest';
import { bearerToken, parseScimTokenSecret, parseServeScimTokens, ScimTokenConfigError, secretScimAuth, staticScimAuth, TokenThrottle, tokenIdOf } from '../../functions/scim/auth.ts';

const A = 'a'.repeat(24);
const B = 'b'.repeat(30);

describe('SCIM tokens', () => {
  it('SCIM_TOKEN: space-separated, each ≥ 24 characters, source scim; a short one is named by position, not value', () => {
    expect(parseServeScimTokens(`  ${A}\n ${B} `)).toEqual([
      { token: A, source: 'scim' },
      { token: B, source: 'scim' },
    ]);
    expect(() => parseServeScimTokens(`${A} shorty`)).toThrow(new ScimTokenConfigError('SCIM_TOKEN: token 2 is 6 characters; each must be at least 24'));
    expect(() => parseServeScimTokens('   ')).toThrow(ScimTokenConfigError);
  });

  it('the secret: a non-empty JSON array of { token, source } with valid source names', () => {
    expect(parseScimTokenSecret(JSON.stringify([{ token: A, source: 'okta' }]))).toEqual([{ token: A, source: 'okta' }]);
    for (const bad of ['not json', '[]', '{}', JSON.stringify([{ token: A }]), JSON.stringify([{ token: 'short', source: 'okta' }]), JSON.stringify([{ token: A, source: 'bad source' }])]) {
      let err: unknown;
      try {
        parseScimTokenSecret(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(ScimTokenConfigError);
      expect((err as Error).message).not.toContain(A);
    }
  });

  it('bearerToken reads `Bearer <token>` (any case), nothing else', () => {
    expect(bearerToken(`Bearer ${A}`)).toBe(A);
    expect(bearerToken(`bearer   ${A} `)).toBe(A);
    expect(bearerToken(`Basic ${A}`)).toBeUndefined();
    expect(bearerToken(`Bearer ${A} extra`)).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('staticScimAuth matches a listed token to its source, with a token id that is not the token', async () => {
    const auth = staticScimAuth([
      { token: A, source: 'okta' },
      { token: B, source: 'entra' },
    ]);
    expect(await auth.authenticate(`Bearer ${B}`)).toEqual({ source: 'entra', tokenId: tokenIdOf(B) });
    expect(tokenIdOf(B)).not.toContain('bbbb');
    expect(await auth.authenticate(`Bearer ${A}x`)).toBeNull();
    expect(await auth.authenticate(undefined)).toBeNull();
  });

  it('secretScimAuth asks for a refresh only when no token matches', async () => {
    const calls: boolean[] = [];
    // a cached secret: a plain get returns what was fetched, a refresh fetches the current value
    let value = JSON.stringify([{ token: A, source: 'okta' }]);
    let cached = value;
    const auth = secretScimAuth({
      get: (o) => {
        calls.push(o?.refresh === true);
        if (o?.refresh) cached = value;
        return Promise.resolve(cached);
      },
    });
    expect(await auth.authenticate(`Bearer ${A}`)).toMatchObject({ source: 'okta' });
    expect(calls).toEqual([false]);
    value = JSON.stringify([{ token: B, source: 'entra' }]);
    expect(await auth.authenticate(`Bearer ${B}`)).toMatchObject({ source: 'entra' });
    expect(calls).toEqual([false, false, true]);
  });

  it('TokenThrottle: burst, then refills at the rate; buckets are per token', () => {
    const clock = { ms: 0 };
    const t = new TokenThrottle({ ratePerSecond: 2, burst: 3, now: () => clock.ms });
    expect([t.take('x'), t.take('x'), t.take('x'), t.take('x')]).toEqual([true, true, true, false]);
    expect(t.retryAfterSeconds('x')).toBe(1);
    expect(t.take('y')).toBe(true);
    clock.ms += 500;
    expect([t.take('x'), t.take('x')]).toEqual([true, false]);
  });
});
