// transport answer chunks (as received, not copied, not decoded) --> NeedleScan (keeps what it needs) --> the newest items of one address
import type { ChunkWatch } from './routes.ts';
//
// The POST /invites answer is the whole collection (~2.5 MB at 5 000 pending); the client needs one item of it.
// Losant lists newest first by default and says so (`sortField` inviteDate, `sortDirection` desc), so the new
// invite is the address's first item. This finds that item in the bytes as they arrive: Buffer.indexOf for
// `"email":"<address>"` until the first hit (across chunk boundaries), then the object holding it, read from a
// bounded window around the hit and parsed alone, and the items after it up to the first older one (parsed
// alone too). The rest of the answer is read to its end but neither searched nor kept: only the head up to two
// windows past the hit and the last 4 KB (where the order is stated, and the closing brace). It never guesses:
// anything it cannot settle locally (no hit, no stated order, a window exceeded, a parse failure, an item out of
// the stated order, an address JSON would escape) gives undefined, and the caller falls back (client.ts).
// What it trusts is the order the answer states: an item for the address further down, older than one read
// past the hit, is not read.
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
/** How much of the body past the first hit is kept: the item's window and the window read after the item. */
export const KEEP_AFTER_HIT = 2 * ITEM_WINDOW_BYTES + 4096;
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

/**
 * A POST answer's watcher (the transport's ChunkWatch): searches each chunk as it arrives (still in cache) for the
 * first place one of `needles` (of one length, as emailNeedles gives) starts, the bytes straddling each boundary
 * too, and keeps the chunks that itemsForEmail may read: all of them up to KEEP_AFTER_HIT bytes past that hit, then
 * only the last ≥ 4 KB. From there on `push` answers true: the transport then holds none of the body.
 * @example const scan = new NeedleScan([Buffer.from('ab')]); scan.push(Buffer.from('xa')); scan.push(Buffer.from('b')); scan.hit // { at: 1, needle: 0 }
 */
export class NeedleScan implements ChunkWatch {
  /** where the first needle starts in the body, once seen */
  hit: { at: number; needle: number } | undefined;
  /** the body's length so far */
  length = 0;
  private readonly parts: Buffer[] = [];
  private readonly starts: number[] = [];
  private head: number | undefined;
  private straddle: Buffer = Buffer.alloc(0);
  private readonly reach: number;

  constructor(readonly needles: readonly Buffer[]) {
    this.reach = Math.max(0, ...needles.map((n) => n.length - 1));
  }

  push(chunk: Buffer): boolean {
    const at = this.length;
    const straddle = this.straddle;
    this.length += chunk.length;
    if (!this.hit) {
      const edge = Buffer.concat([straddle, chunk.subarray(0, this.reach)]);
      for (const [needle, n] of this.needles.entries()) {
        // one that starts before the chunk comes first; else the chunk's first
        let k = edge.indexOf(n);
        if (k !== -1 && k < straddle.length) k += at - straddle.length;
        else if ((k = chunk.indexOf(n)) !== -1) k += at;
        if (k !== -1 && (!this.hit || k < this.hit.at)) this.hit = { at: k, needle };
      }
      this.straddle = chunk.length >= this.reach ? chunk.subarray(chunk.length - this.reach) : Buffer.concat([straddle, chunk]).subarray(-this.reach);
    }
    const taken = this.hit !== undefined && at >= this.hit.at + KEEP_AFTER_HIT;
    if (taken) this.head ??= this.parts.length;
    this.parts.push(chunk);
    this.starts.push(at);
    const k = this.head ?? 0;
    while (taken && this.parts.length > k + 1 && this.length - this.starts[k + 1]! >= 4096) {
      this.parts.splice(k, 1);
      this.starts.splice(k, 1);
    }
    return taken;
  }

  /** The bytes [start, end) of the body (clamped to it): a view of one chunk kept, else a copy; empty over a part not kept. */
  range(start: number, end: number): Buffer {
    const to = Math.min(this.length, end);
    const parts: Buffer[] = [];
    let at = Math.max(0, start);
    for (const [i, c] of this.parts.entries()) {
      const s = this.starts[i]!;
      if (s + c.length <= at || at >= to) continue;
      if (s > at) return Buffer.alloc(0);
      parts.push(c.subarray(at - s, to - s));
      at = Math.min(to, s + c.length);
    }
    return at < to ? Buffer.alloc(0) : parts.length === 1 ? parts[0]! : Buffer.concat(parts);
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
function elementAt(body: NeedleScan, at: number, form: string, reach: number): { start: number; end: number; item: Record<string, unknown> } | undefined {
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

const NEWEST_FIRST = ['"sortField":"inviteDate"', '"sortDirection":"desc"'].map((n) => Buffer.from(n));

/**
 * For an answer that lists newest first: the item `first` (the address's first in the answer) and the items after
 * it with the same `inviteDate` and the address (in one of `forms`), read up to the first older item or the end of the
 * array: the items after an older one are older still, so none of them is newer (sync/invites.ts isNewerInvite).
 * This trusts the order the answer states. Undefined when that is not settled within ITEM_WINDOW_BYTES, or an item
 * breaks the order (an item newer than `first`, or without a date).
 */
function newestByOrder(body: NeedleScan, first: { end: number; item: Record<string, unknown> }, forms: readonly string[]): Record<string, unknown>[] | undefined {
  const date = typeof first.item.inviteDate === 'string' ? Date.parse(first.item.inviteDate) : NaN;
  if (Number.isNaN(date)) return undefined;
  for (const reach of [SMALL_WINDOW_BYTES, ITEM_WINDOW_BYTES]) {
    const window = body.range(first.end, first.end + reach);
    const found = [first.item];
    for (let k = 0; ;) {
      const sep = nonSpace(window, k, 1);
      if (sep === undefined) break; // the window ends first
      if (window[sep] === CLOSE_BRACKET) return found;
      if (window[sep] !== COMMA) return undefined;
      const start = nonSpace(window, sep + 1, 1);
      if (start === undefined) break;
      if (window[start] !== OPEN_BRACE) return undefined;
      const match = matchObject(window, start, -1, window.length);
      if (!match) break;
      let next: unknown;
      try {
        next = JSON.parse(window.toString('utf8', start, match.end));
      } catch {
        return undefined;
      }
      const at = Date.parse((next as { inviteDate?: unknown } | null)?.inviteDate as string);
      if (Number.isNaN(at) || at > date) return undefined;
      if (at < date) return found;
      if (forms.includes((next as { email: string }).email)) found.push(next as Record<string, unknown>);
      k = match.end;
    }
  }
  return undefined;
}

/**
 * The raw items of a POST answer whose `email` is the address as sent or lower-cased (emailNeedles), from what `scan`
 * kept of it: the address's first item and those after it as new as it, found without decoding or parsing the
 * answer (see the file's comment). Undefined when that is not certain: no hit, the answer does not start with `{`,
 * end with `}` and state the order newest first, the item is not found within ITEM_WINDOW_BYTES or is not an array
 * element, the items after it do not settle it (newestByOrder). The caller then parses the whole answer if it was
 * kept, else looks the invite up.
 * @example itemsForEmail(scanned('{"items":[{"id":"a","email":"ann@x.com","inviteDate":"…"}],"sortField":"inviteDate","sortDirection":"desc"}'))
 */
export function itemsForEmail(scan: NeedleScan): Record<string, unknown>[] | undefined {
  const hit = scan.hit;
  if (!hit) return undefined;
  const head = scan.range(0, 4096);
  const tail = scan.range(scan.length - 4096, scan.length);
  const first = nonSpace(head, 0, 1);
  const last = nonSpace(tail, tail.length - 1, -1);
  if (first === undefined || last === undefined || head[first] !== OPEN_BRACE || tail[last] !== CLOSE_BRACE) return undefined;
  if (!NEWEST_FIRST.every((n) => head.includes(n) || tail.includes(n))) return undefined;
  const forms = scan.needles.map((n) => n.toString('latin1', 9, n.length - 1));
  const form = forms[hit.needle]!;
  // a small window first (a view of one chunk, mostly: nothing copied), the whole window when it does not settle
  const item = elementAt(scan, hit.at, form, SMALL_WINDOW_BYTES) ?? elementAt(scan, hit.at, form, ITEM_WINDOW_BYTES);
  return item && newestByOrder(scan, item, forms);
}
