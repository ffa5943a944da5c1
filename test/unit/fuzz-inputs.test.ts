// fuzz (fast-check) --> parseHrEvent / parseRoster: hostile input ends in a value or an InputError, never anything else
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseHrEvent, HR_EVENT_TYPES } from '../../functions/sync/events.ts';
import { parseRoster } from '../../functions/sync/roster.ts';
import { parseEmail } from '../../functions/sync/email.ts';
import { InputError } from '../../functions/sync/errors.ts';

const FULL = process.env.INVITE_SYNC_CHAOS === 'full';
/** FUZZ_EXPLORE=<n>: n runs with a random seed (to hunt for new counterexamples by hand). */
const EXPLORE = Number(process.env.FUZZ_EXPLORE ?? 0);
const RUNS = EXPLORE || (FULL ? 1_000 : 300);
/** Fixed seeds in CI so a failure replays; a random one when exploring. */
const params = (seed: number) => (EXPLORE ? { numRuns: RUNS } : { numRuns: RUNS, seed });
/** One call taking longer than this counts as a hang (generous for a loaded 2-core CI box). */
const MAX_CALL_MS = 2_000;

/** Runs `fn`; returns 'ok' or 'input' and rethrows anything that is not an InputError. Fails on a slow call. */
function outcome(fn: () => unknown): 'ok' | 'input' {
  const started = performance.now();
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    expect(err.message.length).toBeGreaterThan(0);
    return 'input';
  } finally {
    expect(performance.now() - started).toBeLessThan(MAX_CALL_MS);
  }
}

// --- arbitraries that reach past the first check ---

const emailish = fc.oneof(
  fc.emailAddress(),
  fc.emailAddress().map((e) => ` ${e.toUpperCase()} `),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('a*b@x.com', 'a?b@x.com', 'jan+hr@müller.de', '@', 'a@b', 'a@@b.com', 'x'.repeat(1025) + '@x.com', ''),
);
const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const wellFormedPerson = fc.record({
  email: fc.emailAddress(),
  department: fc.constantFrom('Engineering', 'Sales', ''),
});
const personish = fc.oneof(
  wellFormedPerson,
  wellFormedPerson,
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      email: fc.oneof(emailish, scalar),
      employeeId: fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), scalar),
      status: fc.oneof(fc.constantFrom('active', 'terminated', 'ACTIVE ', 'gone'), scalar),
      department: fc.oneof(scalar, fc.jsonValue({ maxDepth: 2 })),
    },
    { requiredKeys: [] },
  ),
);
const isoish = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2024-05-01T08:00:00+02:00', '2024-02-30T00:00:00Z', '2024-05-01', 'yesterday', '9999-12-31T23:59:59.999Z'),
  fc.string({ maxLength: 30 }),
);
/** Mostly well-formed events with one or two fields gone wrong: they reach the deep checks. */
const nearEvent = fc
  .record({
    id: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('', 'x'.repeat(257))),
    type: fc.constantFrom(...HR_EVENT_TYPES),
    occurredAt: isoish,
    source: fc.constantFrom('default', 'hr', 'hr.eu-1', 'a#b', ''),
    person: personish,
    people: fc.array(personish, { maxLength: 6 }),
    split: fc.option(fc.record({ snapshotId: fc.constantFrom('s1', 'bad id', ''), part: fc.integer({ min: 0, max: 4 }), parts: fc.integer({ min: 0, max: 4 }) })),
    extra: fc.option(fc.jsonValue({ maxDepth: 2 }), { freq: 8 }),
  })
  .map(({ type, person, people, split, extra, ...base }) => ({
    ...base,
    type,
    ...(type === 'roster.snapshot' ? { people, ...(split ?? {}) } : { person }),
    ...(extra === null ? {} : { extra }),
  }));
const wildEvent = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 300 }), scalar),
    type: fc.oneof(fc.constantFrom(...HR_EVENT_TYPES), fc.string({ maxLength: 20 }), scalar),
    occurredAt: fc.oneof(isoish, scalar),
    source: fc.oneof(fc.constantFrom('default', 'hr', 'a#b', ''), fc.string({ maxLength: 70 })),
    person: personish,
    people: fc.oneof(fc.array(personish, { maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })),
    snapshotId: fc.oneof(fc.string({ maxLength: 20 }), scalar),
    part: fc.oneof(fc.integer({ min: -2, max: 1_002 }), scalar),
    parts: fc.oneof(fc.integer({ min: -2, max: 1_002 }), scalar),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);
const eventish = fc.oneof({ arbitrary: nearEvent, weight: 3 }, { arbitrary: wildEvent, weight: 1 });
/** `[[[…]]]` nested `depth` levels, built without recursion. */
function deepArray(depth: number): unknown {
  return JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown;
}

describe('Function: parseHrEvent', () => {
  it('returns an event or throws InputError for any JSON value', () => {
    // Arrange
    const seen = { ok: 0, input: 0 };

    // Act / Assess
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (doc) => {
        seen[outcome(() => parseHrEvent(doc))]++;
      }),
      params(4242),
    );
    expect(seen.ok + seen.input).toBe(RUNS);
  });

  it('returns only events whose people carry normalised emails, or throws InputError, for event-shaped input', () => {
    // Arrange
    const seen = { ok: 0, input: 0 };

    // Act / Assess
    fc.assert(
      fc.property(eventish, (doc) => {
        let event: ReturnType<typeof parseHrEvent> | undefined;
        seen[outcome(() => (event = parseHrEvent(doc)))]++;
        if (!event) return;
        const people = event.type === 'roster.snapshot' ? event.people : [event.person];
        for (const p of people) {
          const again = parseEmail(p.email);
          expect(again).toEqual({ ok: true, email: p.email });
        }
        expect(event.occurredAt).toBe(new Date(Date.parse(event.occurredAt)).toISOString());
      }),
      params(4343),
    );
    // the arbitrary must reach both outcomes, or it proves little
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.input).toBeGreaterThan(0);
  });

  it('throws InputError for 100 000 levels of nested arrays, wherever they sit', () => {
    // Arrange
    const deep = deepArray(100_000);
    const docs = [
      deep,
      { id: 'e1', type: 'person.upserted', occurredAt: '2024-05-01T08:00:00Z', person: { email: 'a@x.com', department: deep } },
      { id: 'e2', type: 'roster.snapshot', occurredAt: '2024-05-01T08:00:00Z', people: deep },
      { id: 'e3', type: 'roster.snapshot', occurredAt: '2024-05-01T08:00:00Z', people: [], extra: deep },
    ];

    // Act / Assess
    for (const doc of docs) expect(outcome(() => parseHrEvent(doc))).toBe('input');
  });
});

const csvChars = fc.constantFrom('email', 'department', 'employeeId', 'status', ',', ',', '"', '""', '\n', '\r\n', '\r', ' ', 'a@x.com', 'B@X.COM', 'x', '\uFEFF', '@', 'é', '\u0000');
const csvText = fc.array(csvChars, { maxLength: 60 }).map((parts) => parts.join(''));
const csvWithHeader = fc
  .tuple(fc.constantFrom('email', 'email,department', 'email,employeeId,status', ' email , department '), csvText)
  .map(([header, body]) => `${header}\n${body}`);
const jsonRosterText = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.array(personish, { maxLength: 8 }).map((people) => JSON.stringify(people, null, 1)),
  fc.array(personish, { maxLength: 8 }).map((people) => JSON.stringify({ people }, null, 2)),
  fc.string({ maxLength: 80 }),
);

describe('Function: parseRoster', () => {
  it('returns people or throws InputError for any string read as CSV', () => {
    // Arrange
    const seen = { ok: 0, input: 0 };

    // Act / Assess
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200, unit: 'grapheme' }), csvText, csvWithHeader), fc.nat(3), (text, maxBadRows) => {
        let result: ReturnType<typeof parseRoster> | undefined;
        seen[outcome(() => (result = parseRoster(text, 'csv', { maxBadRows })))]++;
        if (!result) return;
        expect(new Set(result.badRows.map((r) => r.line)).size).toBeLessThanOrEqual(maxBadRows);
        for (const p of result.people) expect(parseEmail(p.email)).toEqual({ ok: true, email: p.email });
      }),
      params(4444),
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.input).toBeGreaterThan(0);
  });

  it('returns people or throws InputError for any string read as JSON', () => {
    // Arrange
    const seen = { ok: 0, input: 0 };

    // Act / Assess
    fc.assert(
      fc.property(jsonRosterText, fc.nat(3), (text, maxBadRows) => {
        let result: ReturnType<typeof parseRoster> | undefined;
        seen[outcome(() => (result = parseRoster(text, 'json', { maxBadRows })))]++;
        if (!result) return;
        const identities = result.people.map((p) => p.employeeId ?? p.email);
        expect(new Set(identities).size).toBe(identities.length);
      }),
      params(4545),
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.input).toBeGreaterThan(0);
  });

  it('throws InputError, quickly, for pathological files (deep nesting, an unclosed quote, a huge record)', () => {
    // Arrange
    const texts: [string, 'csv' | 'json'][] = [
      ['['.repeat(100_000) + ']'.repeat(100_000), 'json'],
      ['['.repeat(100_000), 'json'],
      [`email\n"${'a'.repeat(200_000)}`, 'csv'],
      [`email,department\n${'"'.repeat(50_001)}`, 'csv'],
      [`email\n${'x'.repeat(1_100_000)}`, 'csv'],
    ];

    // Act / Assess
    for (const [text, format] of texts) expect(outcome(() => parseRoster(text, format))).toBe('input');
  });
});
