// CLI roster file / snapshot body --> parseRoster --> Person[] + bad rows (by file line and field)
import { parse as parseCsv } from 'csv-parse/sync';
import type { Person } from './types.ts';
import { InputError } from './errors.ts';
import { HrPersonSchema, isReservedName, RESERVED_NAME_MESSAGE } from './people.ts';
import { listConflicts } from './identity.ts';
import { inputIssues } from './parse-with.ts';

export type RosterFormat = 'json' | 'csv';

/** One problem in one roster row. `line` is a 1-based file line (see parseRoster). */
export interface RowError {
  line: number;
  field: string;
  message: string;
}

export interface RosterResult {
  people: Person[];
  badRows: RowError[];
}

export interface ParseRosterOptions {
  /** how many bad rows are tolerated (they are left out); more throw InputError. Default 0 */
  maxBadRows?: number;
  /** names the input in messages, e.g. the file path. Default 'roster' */
  origin?: string;
  /** more checks of a valid row (e.g. sync/dates.ts dateIssues): each issue makes the row bad, naming its field */
  check?: (person: Person) => { path: string; message: string }[];
}

/** Longest CSV record accepted (characters); a longer one is almost surely an unclosed quote. */
const MAX_CSV_RECORD = 1_000_000;

/**
 * Picks the roster format from a file name: `.json` or `.csv` (case-insensitive).
 * @example formatFromPath('people/roster.CSV') // 'csv'
 */
export function formatFromPath(path: string): RosterFormat {
  const m = /\.(json|csv)$/i.exec(path);
  if (!m?.[1]) throw new InputError(`${path}: unknown roster format (use a .json or .csv file)`, [{ path, message: 'unknown roster format' }]);
  return m[1].toLowerCase() as RosterFormat;
}

/**
 * Parses a roster into people. Rows that fail validation, and the later of two rows for the same
 * person (same employeeId, or same email when there is no employeeId), are bad rows; they are
 * left out and returned in `badRows`. More than `maxBadRows` distinct bad rows throw InputError
 * `<origin>: N bad rows` whose `issues` list every problem (`line`, `path` = field, `message`).
 *
 * - CSV: a header row is required (names trimmed, one must be `email`, no blanks or repeats);
 *   a BOM is fine; an empty cell means the attribute is absent. `line` is the file line where the
 *   record starts (the header is line 1; quoted line breaks are counted). A row with the wrong
 *   number of cells is a bad row; broken quoting fails the whole file.
 * - JSON: an array of people or `{ "people": [...] }`. `line` is the file line where the element
 *   starts (if that cannot be worked out, e.g. an escaped `"people"` key, the 1-based item number).
 *
 * Never throws anything but InputError, whatever the text.
 * @example const { people } = parseRoster(text, formatFromPath(file), { origin: file, maxBadRows: 5 })
 */
export function parseRoster(text: string, format: RosterFormat, opts: ParseRosterOptions = {}): RosterResult {
  const origin = opts.origin ?? 'roster';
  const rows = format === 'csv' ? readCsv(text, origin) : readJson(text, origin);
  const people: Person[] = [];
  const badRows: RowError[] = [...rows.structural];
  const valid: { line: number; person: Person }[] = [];
  for (const { line, value } of rows.items) {
    const result = HrPersonSchema.safeParse(value);
    if (!result.success) {
      for (const issue of inputIssues(result.error)) {
        badRows.push({ line, field: issue.path === '(root)' ? '(row)' : issue.path, message: issue.message });
      }
      continue;
    }
    const more = opts.check?.(result.data) ?? [];
    if (more.length) {
      for (const issue of more) badRows.push({ line, field: issue.path, message: issue.message });
      continue;
    }
    valid.push({ line, person: result.data });
  }
  // the same person twice, or two active people with one email: the later row is bad (sync/identity.ts)
  const clashes = new Map(listConflicts(valid.map((v) => v.person)).map((c) => [c.index, c]));
  valid.forEach(({ line, person }, i) => {
    const c = clashes.get(i);
    if (c === undefined) people.push(person);
    else {
      const firstLine = valid[c.first]!.line;
      badRows.push({ line, field: c.field, message: c.reason === 'samePerson' ? `same person as line ${firstLine}` : `a second active person with the email of line ${firstLine}` });
    }
  });
  badRows.sort((a, b) => a.line - b.line);
  const badLines = new Set(badRows.map((r) => r.line)).size;
  if (badLines > (opts.maxBadRows ?? 0)) {
    throw new InputError(
      `${origin}: ${badLines} bad row${badLines === 1 ? '' : 's'}`,
      badRows.map((r) => ({ line: r.line, path: r.field, message: r.message })),
    );
  }
  return { people, badRows };
}

interface RawRows {
  items: { line: number; value: unknown }[];
  /** rows that could not even be read as records (wrong number of cells) */
  structural: RowError[];
}

function fatal(origin: string, message: string, line?: number): InputError {
  const where = line !== undefined ? `line ${line}: ` : '';
  return new InputError(`${origin}: ${where}${message}`, [{ path: '(file)', message, ...(line !== undefined ? { line } : {}) }]);
}

const CSV_PROBLEMS: Partial<Record<string, string>> = {
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted cell (quote the whole cell and double inner quotes)',
  CSV_INVALID_CLOSING_QUOTE: 'text after a closing quote (double quotes inside a quoted cell)',
  CSV_MAX_RECORD_SIZE: `a record longer than ${MAX_CSV_RECORD} characters (an unclosed quote?)`,
};

/** Line breaks as a reader counts them: `\r\n`, `\n` or `\r` each count once. */
function lineBreaks(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10) n++;
    else if (c === 13 && s.charCodeAt(i + 1) !== 10) n++;
  }
  return n;
}

/** csv-parse counts `\r` and `\n` of a quoted `\r\n` separately; this is how many extra that makes. */
function crlfCount(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\r\n'); i >= 0; i = s.indexOf('\r\n', i + 2)) n++;
  return n;
}

function readCsv(text: string, origin: string): RawRows {
  const items: RawRows['items'] = [];
  const structural: RowError[] = [];
  let header: string[] | undefined;
  let extra = 0; // csv-parse's line count minus the real one, so far
  let broken: InputError | undefined;

  const lineOf = (endLine: number, cells: readonly unknown[]): number => {
    let breaks = 0;
    for (const cell of cells) {
      if (typeof cell !== 'string') continue;
      extra += crlfCount(cell);
      breaks += lineBreaks(cell);
    }
    return endLine - extra - breaks;
  };

  try {
    parseCsv(text, {
      bom: true,
      columns: (names: string[]) => {
        header = names.map((n) => String(n).trim());
        checkHeader(header, origin);
        return header;
      },
      relax_column_count: false,
      skip_empty_lines: true,
      trim: true,
      max_record_size: MAX_CSV_RECORD,
      skip_records_with_error: true,
      on_skip: (err) => {
        if (!err) return undefined;
        const cells: unknown[] = Array.isArray(err.record) ? err.record : [];
        const endLine = typeof err.lines === 'number' ? err.lines : 0;
        const line = lineOf(endLine, cells);
        if (err.code === 'CSV_RECORD_INCONSISTENT_COLUMNS' || err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
          structural.push({ line, field: '(row)', message: `expected ${header?.length ?? '?'} cells, got ${cells.length}` });
        } else if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
          broken ??= fatal(origin, 'a quoted field is not closed by the end of the file');
        } else {
          broken ??= fatal(origin, CSV_PROBLEMS[err.code] ?? `not valid CSV (${err.code})`, endLine - extra);
        }
        return undefined;
      },
      on_record: (record: Record<string, string>, ctx) => {
        const line = lineOf(ctx.lines, Object.values(record));
        const value: Record<string, string> = {};
        for (const [k, v] of Object.entries(record)) if (v !== '') value[k] = v; // an empty cell is absent
        items.push({ line, value });
        return null;
      },
    });
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw fatal(origin, `not valid CSV: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (broken) throw broken;
  if (!header) throw fatal(origin, 'no header row (the first line must name the columns, one of them "email")');
  return { items, structural };
}

function checkHeader(names: string[], origin: string): void {
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (name === '') throw fatal(origin, `column ${i + 1} has no name`, 1);
    if (seen.has(name)) throw fatal(origin, `column "${name}" appears twice`, 1);
    if (isReservedName(name)) throw fatal(origin, `column "${name}" ${RESERVED_NAME_MESSAGE}`, 1);
    seen.add(name);
  });
  if (!seen.has('email')) throw fatal(origin, 'no "email" column', 1);
}

function readJson(text: string, origin: string): RawRows {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw fatal(origin, `not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  let list: unknown[];
  let key: string | null;
  if (Array.isArray(doc)) {
    list = doc;
    key = null;
  } else if (doc !== null && typeof doc === 'object' && Array.isArray((doc as { people?: unknown }).people)) {
    list = (doc as { people: unknown[] }).people;
    key = 'people';
  } else {
    throw fatal(origin, 'expected an array of people or { "people": [...] }');
  }
  const lines = elementLines(body, key);
  const exact = lines !== null && lines.length === list.length;
  return { items: list.map((value, i) => ({ line: exact ? lines[i]! : i + 1, value })), structural: [] };
}

/**
 * Start lines of the elements of the root array (key null) or of the root object's `key` array,
 * by one linear scan of JSON text that JSON.parse already accepted. Null when not found.
 */
function elementLines(text: string, key: string | null): number[] | null {
  let result: number[] | null = null;
  let current: number[] | null = null; // collecting while inside the target array
  let line = 1;
  let depth = 0;
  const rootIsObject = key !== null;
  let expectKey = false; // at depth 1 of the root object, the next string is a key
  let lastKey: string | null = null;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13) continue;
    const inTarget = current !== null && depth === (rootIsObject ? 2 : 1);
    if (inTarget && expectElement && c !== 93 /* ] */) {
      current!.push(line);
      expectElement = false;
    }
    if (c === 34 /* " */) {
      const start = i + 1;
      for (i = start; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 92 /* \ */) i++;
        else if (s === 34) break;
      }
      if (rootIsObject && depth === 1 && expectKey) {
        lastKey = text.slice(start, i);
        expectKey = false;
      }
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      depth++;
      if (depth === 1 && c === 91 && !rootIsObject) {
        current = [];
        expectElement = true;
      } else if (depth === 1 && c === 123 && rootIsObject) {
        expectKey = true;
      } else if (depth === 2 && c === 91 && rootIsObject && lastKey === key) {
        current = []; // a repeated key: JSON.parse keeps the last one, so do we
        expectElement = true;
      }
    } else if (c === 93 || c === 125 /* } */) {
      if (current !== null && depth === (rootIsObject ? 2 : 1)) {
        result = current;
        current = null;
      }
      depth--;
    } else if (c === 44 /* , */) {
      if (inTarget) expectElement = true;
      if (rootIsObject && depth === 1) expectKey = true;
    }
  }
  return result;
}
