// unit: roster text --> people + bad rows (functions/sync/roster.ts), against fixtures and fuzzed text
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatFromPath, parseRoster } from '../../functions/sync/roster.ts';
import { InputError } from '../../functions/sync/errors.ts';
import { inputError } from '../helpers/errors.ts';
import { fixtureText } from '../helpers/fixtures.ts';

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');
const fixture = (name: string): string => fixtureText(`rosters/${name}`);


describe('Function: parseRoster (CSV)', () => {
  it('returns the example roster: 12 people, emails normalised, empty cells absent', () => {
    // Act
    const { people, badRows } = parseRoster(read('../../examples/roster.csv'), 'csv');

    // Assert
    expect(badRows).toEqual([]);
    expect(people).toHaveLength(12);
    expect(people[0]).toEqual({
      email: 'ada.lovelace@example.com',
      employeeId: 'E1001',
      status: 'active',
      attributes: {
        firstName: 'Ada', lastName: 'Lovelace', department: 'Engineering', title: 'Engineering Manager, Platform',
        employeeType: 'employee', location: 'London',
      },
    });
    expect(people.map((p) => p.email)).toContain('lena.schmidt@xn--mller-kva.de');
    expect(people.filter((p) => p.status === 'terminated').map((p) => p.employeeId)).toEqual(['E1010']);
    const ken = people.find((p) => p.email === 'ken.thompson+hr@example.com');
    expect(ken && 'employeeId' in ken).toBe(false);
  });

  it('returns the same people from the example JSON roster', () => {
    const csv = parseRoster(read('../../examples/roster.csv'), 'csv').people;
    const json = parseRoster(read('../../examples/roster.json'), 'json').people;
    expect(json).toEqual(csv);
  });

  it('returns bad rows by file line and field when they are tolerated', () => {
    // Act
    const { people, badRows } = parseRoster(fixture('bad-rows.csv'), 'csv', { maxBadRows: 10 });

    // Assert
    expect(people.map((p) => p.employeeId)).toEqual(['E1', 'E6']);
    expect(badRows).toEqual([
      { line: 3, field: 'email', message: 'invalid email' },
      { line: 4, field: 'email', message: 'required' },
      { line: 5, field: 'status', message: 'must be "active" or "terminated"' },
      { line: 6, field: '(row)', message: 'expected 4 cells, got 3' },
    ]);
  });

  it('throws InputError "<origin>: N bad rows" listing every bad row when there are more than maxBadRows', () => {
    // Act
    const err = inputError(() => parseRoster(fixture('bad-rows.csv'), 'csv', { maxBadRows: 3, origin: 'bad-rows.csv' }));

    // Assert
    expect(err.message).toBe('bad-rows.csv: 4 bad rows');
    expect(err.issues).toEqual([
      { line: 3, path: 'email', message: 'invalid email' },
      { line: 4, path: 'email', message: 'required' },
      { line: 5, path: 'status', message: 'must be "active" or "terminated"' },
      { line: 6, path: '(row)', message: 'expected 4 cells, got 3' },
    ]);
  });

  it('throws InputError for one bad row by default (maxBadRows 0)', () => {
    const err = inputError(() => parseRoster('email\nok@x.io\nbad\n', 'csv'));
    expect([err.message, err.issues]).toEqual(['roster: 1 bad row', [{ line: 3, path: 'email', message: 'invalid email' }]]);
  });

  it('returns the later of two rows for the same person as a bad row naming both lines', () => {
    // Act
    const { people, badRows } = parseRoster(fixture('duplicates.csv'), 'csv', { maxBadRows: 5 });

    // Assert
    expect(people.map((p) => p.email)).toEqual(['jane.doe@example.com', 'john@example.com', 'anna@example.com']);
    expect(badRows).toEqual([
      { line: 5, field: 'employeeId', message: 'same person as line 2' },
      { line: 6, field: 'email', message: 'same person as line 4' },
    ]);
  });

  it('returns people from a file with a BOM and CRLF line ends', () => {
    const { people } = parseRoster(fixture('bom-crlf.csv'), 'csv');
    expect(people).toEqual([
      { email: 'jane.doe@example.com', status: 'active', attributes: { department: 'Engineering' } },
      { email: 'bob@example.com', status: 'active', attributes: { department: 'Sales' } },
    ]);
  });

  it('returns quoted cells with commas, doubled quotes and line breaks, and trims unquoted cells', () => {
    // Act
    const { people } = parseRoster(fixture('quoted.csv'), 'csv');

    // Assert
    expect(people.map((p) => p.attributes)).toEqual([
      { title: 'Manager, Platform', notes: 'She said "hi"' },
      { title: 'Engineer', notes: 'two\nlines' },
      { title: 'Engineer' },
    ]);
  });

  it('returns the line where a record starts, counting quoted line breaks (LF, CRLF and CR)', () => {
    // Arrange
    const text = 'email,notes\r\na@x.io,"one\r\ntwo"\r\nbad,x\r\nb@x.io,"p\rq\nr"\r\nworse,y\r\n';

    // Act
    const { badRows } = parseRoster(text, 'csv', { maxBadRows: 5 });

    // Assert
    expect(badRows.map((r) => r.line)).toEqual([4, 8]);
  });

  it('returns lines that skip blank lines correctly', () => {
    const { badRows } = parseRoster('email\n\nok@x.io\n\n\nbad\n', 'csv', { maxBadRows: 1 });
    expect(badRows).toEqual([{ line: 6, field: 'email', message: 'invalid email' }]);
  });

  it('returns no people for a header-only file', () => {
    expect(parseRoster('email,department\n', 'csv')).toEqual({ people: [], badRows: [] });
  });

  it.each([
    ['', 'roster: no header row (the first line must name the columns, one of them "email")'],
    ['name,department\nx,y\n', 'roster: line 1: no "email" column'],
    ['email,,department\n', 'roster: line 1: column 2 has no name'],
    ['email, email\n', 'roster: line 1: column "email" appears twice'],
    ['email,__proto__\na@b.co,x\n', 'roster: line 1: column "__proto__" is a reserved name (__proto__, constructor, prototype) and cannot be used'],
    ['email,constructor\na@b.co,x\n', 'roster: line 1: column "constructor" is a reserved name (__proto__, constructor, prototype) and cannot be used'],
    ['email,name\n"a@x.io,b\nc,d\n', 'roster: a quoted field is not closed by the end of the file'],
    ['email,name\na@x.io,b"c\n', 'roster: line 2: a quote inside an unquoted cell (quote the whole cell and double inner quotes)'],
    ['email,name\n"a@x.io"x,b\n', 'roster: line 2: text after a closing quote (double quotes inside a quoted cell)'],
  ])('throws InputError for the malformed file %j', (text, message) => {
    expect(inputError(() => parseRoster(text, 'csv', { maxBadRows: 100 })).message).toBe(message);
  });
});

describe('Function: parseRoster (JSON)', () => {
  it('returns people from a plain array, numbers as strings and status in any case', () => {
    // Act
    const { people } = parseRoster(fixture('people.json'), 'json');

    // Assert
    expect(people).toEqual([
      { email: 'jane.doe@example.com', employeeId: 'E1', status: 'active', attributes: { department: 'Engineering' } },
      { email: 'bob@example.com', employeeId: '2', status: 'active', attributes: { onLeave: 'false' } },
      { email: 'carol@example.com', status: 'terminated', attributes: {} },
    ]);
  });

  it('returns bad rows by the line where each element starts', () => {
    // Act
    const { people, badRows } = parseRoster(fixture('bad.json'), 'json', { maxBadRows: 10 });

    // Assert
    expect(people.map((p) => p.email)).toEqual(['jane.doe@example.com']);
    expect(badRows).toEqual([
      { line: 5, field: 'manager', message: 'must be a string, number or boolean, or a list of strings' },
      { line: 9, field: '(row)', message: 'must be an object' },
      { line: 10, field: 'employeeId', message: 'same person as line 4' },
    ]);
  });

  it('returns lines for elements of a repeated "people" key as JSON.parse reads it (the last one)', () => {
    const text = '{"people": [{"email": "x"}],\n"people": [\n{"email": "a@b.co"},\n{"email": "y"}]}';
    expect(parseRoster(text, 'json', { maxBadRows: 1 }).badRows).toEqual([{ line: 4, field: 'email', message: 'invalid email' }]);
  });

  it('returns item numbers when the element lines cannot be found (an escaped key)', () => {
    const text = '{"peo\\u0070le": [\n{"email": "a@b.co"},\n{"email": "y"}]}';
    expect(parseRoster(text, 'json', { maxBadRows: 1 }).badRows).toEqual([{ line: 2, field: 'email', message: 'invalid email' }]);
  });

  it('returns people from a file with a BOM', () => {
    expect(parseRoster('\uFEFF[{"email":"a@b.co"}]', 'json').people).toHaveLength(1);
  });

  it.each([
    ['not json', /^roster: not valid JSON/],
    ['{"people": 5}', /^roster: expected an array of people or \{ "people": \[\.\.\.\] \}$/],
    ['"a@b.co"', /^roster: expected an array/],
    ['null', /^roster: expected an array/],
  ])('throws InputError for %j', (text, message) => {
    expect(inputError(() => parseRoster(text, 'json')).message).toMatch(message);
  });
});

describe('Function: parseRoster (fuzz)', () => {
  it('returns a result or throws InputError for any text read as CSV', () => {
    const csvish = fc.array(
      fc.oneof(fc.string(), fc.constantFrom('email', ',', '"', '""', '\n', '\r\n', '\r', 'a@b.co', '\uFEFF', ' ')),
      { maxLength: 30 },
    ).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), csvish, csvish.map((t) => `email,name\n${t}`)), fc.nat(5), (text, maxBadRows) => {
        try {
          const { people, badRows } = parseRoster(text, 'csv', { maxBadRows });
          expect(new Set(badRows.map((r) => r.line)).size).toBeLessThanOrEqual(maxBadRows);
          for (const p of people) expect(p.email).toBe(p.email.toLowerCase());
        } catch (err) {
          expect(err).toBeInstanceOf(InputError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('returns a result or throws InputError for any JSON value or text read as JSON', () => {
    const doc = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v, null, 1)),
      fc.array(fc.jsonValue()).map((v) => JSON.stringify({ people: v }, null, 2)),
      fc.string(),
    );
    fc.assert(
      fc.property(doc, (text) => {
        try {
          const { people } = parseRoster(text, 'json', { maxBadRows: 1000 });
          expect(Array.isArray(people)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(InputError);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('returns element lines that match where each element starts in pretty-printed JSON', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ email: fc.constantFrom('bad', 'also-bad') }), { minLength: 1, maxLength: 8 }), fc.nat(3), (list, indent) => {
        // Arrange: one line per element start is known from the printer
        const text = JSON.stringify({ people: list }, null, indent === 0 ? undefined : indent);
        const expected = indent === 0 ? list.map(() => 1) : list.map((_, i) => 3 + i * 3);

        // Act
        const { badRows } = parseRoster(text, 'json', { maxBadRows: 100 });

        // Assert
        expect(badRows.map((r) => r.line)).toEqual(expected);
      }),
    );
  });
});

describe('Function: formatFromPath', () => {
  it.each([
    ['roster.csv', 'csv'],
    ['/tmp/People.JSON', 'json'],
    ['dir.v2/roster.Csv', 'csv'],
  ])('returns the format of %s', (path, format) => {
    expect(formatFromPath(path)).toBe(format);
  });

  it.each(['roster.xlsx', 'roster', 'csv'])('throws InputError for %s', (path) => {
    expect(() => formatFromPath(path)).toThrow(InputError);
  });
});
