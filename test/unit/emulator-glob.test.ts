// test --> emulator glob (the `filter` query parameter)
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { globMatch } from '../../emulator/glob.ts';

describe('Function: globMatch', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything@example.com', true],
    ['ann@example.com', 'ANN@Example.COM', true],
    ['ann@example.com', 'ann@example.com.au', false],
    ['ann@example.com', 'xann@example.com', false],
    ['*@example.com', 'ann@example.com', true],
    ['*@example.com', 'ann@example.org', false],
    ['a*b', 'ab', true],
    ['a*b', 'a-x-b', true],
    ['a*b', 'a-x-bc', false],
    ['a*b*c', 'abbbc', true],
    ['a?b', 'a?b', true],
    ['a?b', 'axb', false],
    ['a.b', 'axb', false],
    ['a+b', 'aab', false],
    ['a+b', 'a+b', true],
    ['(x)', '(x)', true],
    ['**', 'abc', true],
    ['', '', true],
    ['', 'a', false],
  ])('returns for pattern %j and value %j: %s', (pattern, value, expected) => {
    expect(globMatch(pattern, value)).toBe(expected);
  });

  it('returns the same answer as an escaped-regex reference on small alphabets', () => {
    // Arrange: the reference turns * into .* and escapes everything else
    const reference = (pattern: string, value: string): boolean =>
      new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*')}$`, 'i').test(value);
    const chars = (alphabet: string[], max: number) => fc.array(fc.constantFrom(...alphabet), { maxLength: max }).map((a) => a.join(''));

    // Act / Assess
    fc.assert(
      fc.property(chars(['a', 'B', '*', '?', '.', '+'], 8), chars(['a', 'b', 'A', '?', '.', '+'], 10), (pattern, value) => {
        expect(globMatch(pattern, value)).toBe(reference(pattern, value));
      }),
      { numRuns: 2000 },
    );
  });

  it('returns true for prefix* and *suffix of any value', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !s.includes('*')), fc.nat(), (s, cut) => {
        const at = s.length === 0 ? 0 : cut % (s.length + 1);
        return globMatch(`${s.slice(0, at)}*`, s) && globMatch(`*${s.slice(at)}`, s);
      }),
    );
  });

  it('returns quickly for a pathological pattern (no catastrophic backtracking)', () => {
    // Arrange
    const pattern = `${'a*'.repeat(200)}b`;
    const value = 'a'.repeat(5000);

    // Act
    const t0 = performance.now();
    const matched = globMatch(pattern, value);
    const ms = performance.now() - t0;

    // Assess
    expect(matched).toBe(false);
    expect(ms).toBeLessThan(1000);
  });
});
