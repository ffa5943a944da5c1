// test --> normalizeEmail / parseRoster / parseHrEvent: addresses at the edges of what a roster may carry
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_EMAIL_LENGTH, normalizeEmail, parseEmail, tryNormalizeEmail } from '../../functions/sync/email.ts';
import { parseRoster } from '../../functions/sync/roster.ts';
import { parseHrEvent } from '../../functions/sync/events.ts';
import { InputError } from '../../functions/sync/errors.ts';
import { LosantEmailSchema } from '../../functions/losant/schemas.ts';
import { isSchemaEmail } from '../../emulator/contract.ts';

/** An address of exactly `length` characters: `a…a@<63 b>.com`. */
function addressOfLength(length: number): string {
  const domain = `${'b'.repeat(63)}.com`;
  return `${'a'.repeat(length - domain.length - 1)}@${domain}`;
}

function inputErrorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError, got a result');
}

describe('Function: normalizeEmail', () => {
  it.each([
    ['  Jane.Doe@Example.COM ', 'jane.doe@example.com'],
    ['\tJANE@EXAMPLE.COM\n', 'jane@example.com'],
    ['Jan+HR@Example.com', 'jan+hr@example.com'],
    ['jan+hr+2024@example.com', 'jan+hr+2024@example.com'],
    ['jan@Müller.de', 'jan@xn--mller-kva.de'],
    [' Jan.Kowalski+HR@MÜLLER.DE ', 'jan.kowalski+hr@xn--mller-kva.de'],
    ['ann@bücher.example', 'ann@xn--bcher-kva.example'],
    ['ann@xn--bcher-kva.example', 'ann@xn--bcher-kva.example'],
    ['li@例え.テスト', 'li@xn--r8jz45g.xn--zckzah'],
    ['A*B@X.com', 'a*b@x.com'],
    ['a?b@x.com', 'a?b@x.com'],
  ])('returns %j as %j', (raw, expected) => {
    // Act
    const email = normalizeEmail(raw);

    // Assess
    expect(email).toBe(expected);
  });

  it('returns the same form for an IDN domain written in Unicode and in punycode', () => {
    // Act / Assess
    expect(normalizeEmail('Ann@BÜCHER.example')).toBe(normalizeEmail('ann@XN--BCHER-KVA.example'));
  });

  it('returns different addresses for different + tags (a tag is part of the address)', () => {
    // Act / Assess
    expect(normalizeEmail('jan+a@example.com')).not.toBe(normalizeEmail('jan+b@example.com'));
    expect(normalizeEmail('jan+a@example.com')).not.toBe(normalizeEmail('jan@example.com'));
  });

  it('returns an address of exactly 1 024 characters, and refuses one of 1 025 naming the limit', () => {
    // Arrange
    const atLimit = addressOfLength(MAX_EMAIL_LENGTH);
    const over = addressOfLength(MAX_EMAIL_LENGTH + 1);

    // Act
    const accepted = normalizeEmail(`  ${atLimit.toUpperCase()}  `);
    const refused = inputErrorOf(() => normalizeEmail(over));

    // Assess
    expect(accepted).toBe(atLimit);
    expect(accepted).toHaveLength(1024);
    expect(refused.message).toMatch(/longer than 1024/);
    expect(refused.issues[0]?.path).toBe('email');
  });

  it('refuses an IDN address whose punycode form is longer than 1 024 characters', () => {
    // Arrange: 1 020 characters as typed, 1 026 once the domain is in ASCII (xn--mller-kva.de)
    const domain = 'müller.de';
    const raw = `${'a'.repeat(1020 - domain.length - 1)}@${domain}`;
    expect(raw.length).toBe(1020);

    // Act
    const result = parseEmail(raw);

    // Assess
    expect(result).toEqual({ ok: false, reason: 'email longer than 1024 characters' });
  });

  it.each(['', '   ', 'plainaddress', 'a@b', '@example.com', 'a@@example.com', 'a@b@example.com', 'jöhn@example.com', 'a..b@example.com', '.a@example.com', 'a@-x.com', 'a b@example.com'])(
    'refuses %j with an InputError',
    (raw) => {
      // Act / Assess
      expect(inputErrorOf(() => normalizeEmail(raw)).issues[0]?.path).toBe('email');
    },
  );

  it('returns only addresses that Losant POST schema accepts, and is idempotent', () => {
    // Arrange: addresses with random case, padding, tags and IDN labels
    const label = fc.stringMatching(/^[a-zß-ÿ0-9]{1,10}$/);
    const raw = fc
      .tuple(fc.emailAddress(), fc.boolean(), fc.option(label), fc.constantFrom('', ' ', '\t'))
      .map(([e, upper, idn, pad]) => {
        const [local = '', domain = ''] = e.split('@');
        const withIdn = idn ? `${local}@${idn}.${domain}` : e;
        return `${pad}${upper ? withIdn.toUpperCase() : withIdn}${pad}`;
      });

    // Act / Assess
    fc.assert(
      fc.property(raw, (text) => {
        const email = tryNormalizeEmail(text);
        if (email === null) return;
        expect(LosantEmailSchema.safeParse(email).success).toBe(true);
        expect(isSchemaEmail(email)).toBe(true);
        expect(normalizeEmail(email)).toBe(email);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe('Function: parseRoster', () => {
  it('refuses the same email twice with different attributes as a bad row naming both lines (CSV)', () => {
    // Arrange
    const csv = ['email,department', 'jane@example.com,Engineering', 'bob@example.com,Sales', ' JANE@Example.com ,Sales'].join('\n');

    // Act
    const err = inputErrorOf(() => parseRoster(csv, 'csv', { origin: 'people.csv' }));

    // Assess
    expect(err.message).toBe('people.csv: 1 bad row');
    expect(err.issues).toEqual([{ line: 4, path: 'email', message: 'same person as line 2' }]);
  });

  it('refuses the same employeeId twice with different emails as a bad row naming both lines (JSON)', () => {
    // Arrange
    const json = JSON.stringify(
      [
        { email: 'jane@example.com', employeeId: 'E1', department: 'Engineering' },
        { email: 'bob@example.com', employeeId: 'E2' },
        { email: 'jane.doe@example.com', employeeId: 'E1', department: 'Sales' },
      ],
      null,
      2,
    );

    // Act
    const err = inputErrorOf(() => parseRoster(json, 'json', { origin: 'people.json' }));

    // Assess: elements start on lines 2, 7 and 11 of the pretty-printed file
    expect(err.issues).toEqual([{ line: 11, path: 'employeeId', message: 'same person as line 2' }]);
  });

  it('returns the first row and lists the repeat when bad rows are tolerated', () => {
    // Arrange
    const csv = ['email,department', 'a+hr@example.com,Engineering', 'A+HR@EXAMPLE.COM,Sales', 'a@example.com,Sales'].join('\n');

    // Act
    const { people, badRows } = parseRoster(csv, 'csv', { maxBadRows: 1 });

    // Assess: `+hr` is a different address from the untagged one; the case-only repeat is the bad row
    expect(people.map((p) => [p.email, p.attributes.department])).toEqual([
      ['a+hr@example.com', 'Engineering'],
      ['a@example.com', 'Sales'],
    ]);
    expect(badRows).toEqual([{ line: 3, field: 'email', message: 'same person as line 2' }]);
  });

  it('returns an IDN address in punycode and a 1 024-character address as is; refuses 1 025 by line', () => {
    // Arrange
    const atLimit = addressOfLength(1024);
    const csv = ['email', 'Jan@Müller.de', atLimit, addressOfLength(1025)].join('\n');

    // Act
    const { people, badRows } = parseRoster(csv, 'csv', { maxBadRows: 1 });

    // Assess
    expect(people.map((p) => p.email)).toEqual(['jan@xn--mller-kva.de', atLimit]);
    expect(badRows).toEqual([{ line: 4, field: 'email', message: 'email longer than 1024 characters' }]);
  });
});

describe('Function: parseHrEvent', () => {
  it('refuses a snapshot listing the same person twice, naming both entries', () => {
    // Arrange
    const doc = {
      id: 'evt-1',
      type: 'roster.snapshot',
      occurredAt: '2024-05-01T08:00:00Z',
      people: [
        { email: 'Jane@Example.com', department: 'Engineering' },
        { email: 'bob@example.com' },
        { email: 'jane@example.com ', department: 'Sales' },
      ],
    };

    // Act
    const err = inputErrorOf(() => parseHrEvent(doc));

    // Assess
    expect(err.message).toBe('people.2.email: same person as people.0 (email)');
  });
});
