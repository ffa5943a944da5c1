// transport answer chunks (as received, not copied, not decoded) --> the raw items whose `email` is one address
import type { ChunkWatch } from './routes.ts';
//
// The POST /invites answer is the whole collection (~2.5 MB at 5 000 pending); the client needs one item of it.
// This finds that item in the bytes: Buffer.indexOf for `"email":"<address>"` (every hit, across chunk
// boundaries), then, per hit, the object holding it, read from a bounded window around the hit and parsed
// alone. It never guesses: anything it cannot settle locally (no hit, a window exceeded, a parse failure, an
// address JSON would escape) gives undefined, and the caller falls back to the full parse (client.ts).
//
// Why a local read is sound for a JSON answer: the address is plain printable ASCII without `"` or `\`, so in
// valid JSON the needle's second and third quotes are unescaped (preceded by `l` and `:`), hence delimiters,
// and `email` cannot be bare text: the needle is a key `…email` with the string value `"<address>"`. A first
// quote not preceded by `\` makes the key exactly `email`. A slice from a `{` that JSON.parse accepts, and in
// which the hit is a key at the slice's top level, starts outside every string of the answer: a slice read
// from inside a string would see each quote with the opposite role up to the hit (JSON allows a backslash
// only inside strings, so neither reading can re-align), and would read `email` as bare text. So the slice is
// the object holding the key. It is then checked to be an array element (`[` or `,` before, `,` or `]` after).
// What a local read cannot see is how deep that array is: an object nested in another item's array, with the
// same address and every field of an invite, would be read as an item (the caller's checks then still demand
// the published schema, the address and the role sent). Losant's invites hold no such arrays of objects.

/** How far around a hit the object holding it is looked for, each way (an invite is a few hundred bytes). */
export const ITEM_WINDOW_BYTES = 64 * 1024;
/** The window tried first (copying 128 KB per POST showed in the garbage collector's work). */
const SMALL_WINDOW_BYTES = 4 * 1024;
/** How many `{` before a hit are tried as the start of its object, and how many bytes all tries may read. */
const MAX_STARTS = 32;
const MAX_MATCHED_BYTES = 4 * ITEM_WINDOW_BYTES; // per window tried

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const isSpace = (c: number | undefined): boolean => c === 32 || c === 9 || c === 10 || c === 13;

/** The needles for `email`: `"email":"<address>"` as sent and lower-cased; undefined when JSON would escape a character of it. */
export function emailNeedles(email: string): Buffer[] | undefined {
  const needles: Buffer[] = [];
  for (const form of new Set([email, email.toLowerCase()])) {
    if (!/^[\x20-\x7e]+$/.test(form) || form.includes('"') || form.includes('\\')) return undefined;
    needles.push(Buffer.from(`"email":"${form}"`, 'latin1'));
  }
  return needles;
}

/** The answer's chunks as one address space: offsets into the whole body, bytes copied only where a range crosses chunks. */
class ChunkedBytes {
  readonly length: number;
  private readonly starts: number[] = [];

  constructor(readonly chunks: readonly Buffer[]) {
    let at = 0;
    for (const c of chunks) {
      this.starts.push(at);
      at += c.length;
    }
    this.length = at;
  }

  /** The bytes [start, end) (clamped to the body): a view of one chunk when the range lies in one, else a copy. */
  range(start: number, end: number): Buffer {
    const from = Math.max(0, start);
    const to = Math.min(this.length, end);
    if (to <= from) return Buffer.alloc(0);
    const first = this.chunkAt(from);
    const base = this.starts[first]!;
    const chunk = this.chunks[first]!;
    if (to <= base + chunk.length) return chunk.subarray(from - base, to - base);
    const parts: Buffer[] = [];
    for (let i = first; i < this.chunks.length && this.starts[i]! < to; i++) {
      const s = this.starts[i]!;
      const c = this.chunks[i]!;
      parts.push(c.subarray(Math.max(0, from - s), Math.min(c.length, to - s)));
    }
    return Buffer.concat(parts, to - from);
  }

  private chunkAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/**
 * Every offset where one of `needles` starts in a body fed chunk by chunk (the transport's ChunkWatch): each
 * chunk searched with Buffer.indexOf as it arrives, still in cache (searching a whole answer afterwards read it
 * back from memory: about three times the CPU here, 16 answers of 2.3 MB in flight), plus the bytes straddling
 * each boundary (the last needle length − 1 bytes seen, however many chunks they came in, and the next chunk's first).
 * @example const scan = new NeedleScan([Buffer.from('ab')]); scan.push(Buffer.from('xa')); scan.push(Buffer.from('b')); scan.hits // [{ at: 1, needle: 0 }]
 */
export class NeedleScan implements ChunkWatch {
  readonly hits: { at: number; needle: number }[] = [];
  private seen = 0;
  private tail: Buffer = Buffer.alloc(0);
  private readonly reach: number;

  constructor(readonly needles: readonly Buffer[]) {
    this.reach = Math.max(0, ...needles.map((n) => n.length - 1));
  }

  push(chunk: Buffer): void {
    const tail = this.tail;
    if (tail.length > 0) {
      const window = Buffer.concat([tail, chunk.subarray(0, this.reach)]);
      const from = this.seen - tail.length;
      for (const [i, needle] of this.needles.entries()) {
        for (let at = window.indexOf(needle); at !== -1 && at < tail.length; at = window.indexOf(needle, at + 1)) {
          if (at + needle.length > tail.length) this.hits.push({ at: from + at, needle: i });
        }
      }
    }
    for (const [i, needle] of this.needles.entries()) {
      for (let at = chunk.indexOf(needle); at !== -1; at = chunk.indexOf(needle, at + 1)) this.hits.push({ at: this.seen + at, needle: i });
    }
    this.seen += chunk.length;
    const keep = Math.min(this.reach, this.seen);
    this.tail = chunk.length >= keep ? chunk.subarray(chunk.length - keep) : Buffer.concat([tail, chunk]).subarray(-keep);
  }
}

/** The first (forward) or last byte of `bytes` that is not JSON whitespace, from `from`; undefined at the edge. */
function nonSpace(bytes: Buffer, from: number, step: 1 | -1): number | undefined {
  for (let k = from; k >= 0 && k < bytes.length; k += step) if (!isSpace(bytes[k])) return k;
  return undefined;
}

/**
 * A string-aware bracket match from the `{` at `start`: the index just past its `}`, and whether the string at
 * `hit` is read as a key of the object at `start` itself (depth 1). Undefined when `bytes` (or `limit`) ends first.
 */
function matchObject(bytes: Buffer, start: number, hit: number, limit: number): { end: number; hitOnTop: boolean } | undefined {
  let depth = 0;
  let hitOnTop = false;
  const stop = Math.min(bytes.length, limit);
  for (let k = start; k < stop; k++) {
    const c = bytes[k];
    if (c === QUOTE) {
      if (k === hit && depth === 1) hitOnTop = true;
      for (k += 1; k < stop && bytes[k] !== QUOTE; k++) if (bytes[k] === BACKSLASH) k += 1;
      if (k >= stop) return undefined;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth += 1;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth -= 1;
      if (depth === 0) return { end: k + 1, hitOnTop };
    }
  }
  return undefined;
}

/** The object holding the key at `hit` (offsets into `bytes`): its span and its parsed value; undefined when not certain. */
function objectAt(bytes: Buffer, hit: number, form: string): { start: number; end: number; item: Record<string, unknown> } | undefined {
  if (bytes[hit - 1] === BACKSLASH) return undefined; // a key ending in `\"email` (or a text that is not JSON)
  let start = hit;
  let budget = MAX_MATCHED_BYTES;
  for (let tries = 0; tries < MAX_STARTS && budget > 0; tries++) {
    start = bytes.lastIndexOf(OPEN_BRACE, start - 1);
    if (start === -1) return undefined;
    const match = matchObject(bytes, start, hit, start + budget);
    budget -= (match?.end ?? bytes.length) - start;
    if (!match) continue; // the window ends first: a `{` inside a string, or an object too long to settle here
    if (match.end <= hit) continue; // an object that closes before the hit: not the one holding it
    if (!match.hitOnTop) continue; // a `{` inside a string, or an ancestor: look further back
    let item: unknown;
    try {
      item = JSON.parse(bytes.toString('utf8', start, match.end));
    } catch {
      continue;
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
    // the hit is the key JSON.parse kept (a later duplicate `email` key would win)
    if ((item as { email?: unknown }).email !== form) return undefined;
    return { start, end: match.end, item: item as Record<string, unknown> };
  }
  return undefined;
}

/** The array element holding the key at `at` (offsets into the body), read from a window of `reach` bytes each way. */
function elementAt(body: ChunkedBytes, at: number, form: string, reach: number): { start: number; end: number; item: Record<string, unknown> } | undefined {
  const from = Math.max(0, at - reach);
  const window = body.range(from, at + reach);
  const local = objectAt(window, at - from, form);
  if (!local) return undefined;
  const before = nonSpace(window, local.start - 1, -1);
  const after = nonSpace(window, local.end, 1);
  if (before === undefined || after === undefined) return undefined;
  if (window[before] !== OPEN_BRACKET && window[before] !== COMMA) return undefined;
  if (window[after] !== COMMA && window[after] !== CLOSE_BRACKET) return undefined;
  return { start: from + local.start, end: from + local.end, item: local.item };
}

/**
 * The raw items of a collection answer (given as the chunks it came in) whose `email` is `email` as sent or
 * lower-cased, in answer order, found without decoding or parsing the answer (see the file's comment).
 * `scanned`: the NeedleScan (of emailNeedles(email)) the transport fed the chunks to; without it they are searched here.
 * Undefined when that is not certain: the address is not plain ASCII, no hit, the answer does not start with `{`
 * and end with `}`, a hit whose object is not found within ITEM_WINDOW_BYTES or is not an array element, two
 * hits nested one in the other. The caller then parses the whole answer.
 * @example itemsForEmail([Buffer.from('{"items":[{"id":"a","email":"ann@x.com"}]}')], 'ann@x.com') // [{ id: 'a', email: 'ann@x.com' }]
 */
export function itemsForEmail(chunks: readonly Buffer[], email: string, scanned?: NeedleScan): Record<string, unknown>[] | undefined {
  const needles = emailNeedles(email);
  if (!needles) return undefined;
  let scan = scanned;
  if (!scan || scan.needles.length !== needles.length || scan.needles.some((n, i) => !n.equals(needles[i]!))) {
    scan = new NeedleScan(needles);
    for (const chunk of chunks) scan.push(chunk);
  }
  const body = new ChunkedBytes(chunks);
  const head = body.range(0, Math.min(body.length, 4096));
  const tail = body.range(Math.max(0, body.length - 4096), body.length);
  const first = nonSpace(head, 0, 1);
  const last = nonSpace(tail, tail.length - 1, -1);
  if (first === undefined || last === undefined || head[first] !== OPEN_BRACE || tail[last] !== CLOSE_BRACE) return undefined;
  const forms = needles.map((n) => n.toString('latin1', 9, n.length - 1));
  const hits = scan.hits.map(({ at, needle }) => ({ at, form: forms[needle]! }));
  if (hits.length === 0) return undefined;
  hits.sort((a, b) => a.at - b.at);
  const found: { start: number; end: number; item: Record<string, unknown> }[] = [];
  for (const { at, form } of hits) {
    // a small window first (a view of one chunk, mostly: nothing copied), the whole window when it does not settle
    const span = elementAt(body, at, form, SMALL_WINDOW_BYTES) ?? elementAt(body, at, form, ITEM_WINDOW_BYTES);
    if (!span) return undefined;
    const previous = found.at(-1);
    if (previous && previous.start === span.start) continue; // two hits in one object (JSON.parse kept one)
    if (previous && span.start < previous.end) return undefined; // one object inside the other
    found.push(span);
  }
  return found.map((f) => f.item);
}
