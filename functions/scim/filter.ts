// `filter=` text --> parseFilter (RFC 7644 §3.4.2.2) --> ScimFilter --> filterMatches(resource) / indexedTerms (the
// store's O(1) lookups). Also the PATCH `path` grammar (parsePath) and paging (pageWindow). Pure.
import { ScimError } from './errors.ts';
import { COMMON_ATTRIBUTES, ENTERPRISE_USER_ATTRIBUTES, GROUP_ATTRIBUTES, USER_ATTRIBUTES, findAttr, type AttrDef } from './resources.ts';
import { GROUP_SCHEMA, USER_SCHEMA } from './errors.ts';

/** Most resources one list page returns (`count` is capped to it; ServiceProviderConfig says so). */
export const MAX_PAGE = 200;
/** Longest filter text accepted, and deepest nesting of parentheses / `not`. */
export const MAX_FILTER_LENGTH = 4096;
const MAX_DEPTH = 32;

/** `[uri:]attr[.sub]` as written (names keep the client's case; matching ignores it). */
export interface AttrPath {
  uri?: string;
  attr: string;
  sub?: string;
}

export const COMPARE_OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];
export type CompValue = string | number | boolean | null;

export type ScimFilter =
  | { op: 'and' | 'or'; left: ScimFilter; right: ScimFilter }
  | { op: 'not'; filter: ScimFilter }
  | { op: 'pr'; path: AttrPath }
  | { op: CompareOp; path: AttrPath; value: CompValue }
  /** `emails[type eq "work"]`: some element of the multi-valued `path` matches `filter` (paths in it are sub-attributes) */
  | { op: 'valuePath'; path: AttrPath; filter: ScimFilter };

/** A PATCH `path` (RFC 7644 §3.5.2): `attrPath`, or `valuePath` optionally followed by `.subAttr`. */
export interface ScimPath {
  path: AttrPath;
  filter?: ScimFilter;
  /** the sub-attribute after `]`, e.g. `value` of `emails[type eq "work"].value` */
  sub?: string;
}

// ---------- tokens ----------

type Token = { t: '(' | ')' | '[' | ']'; at: number } | { t: 'str'; v: string; at: number } | { t: 'word'; v: string; at: number };

class Fail extends Error {}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      out.push({ t: c, at: i });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw new Fail(`unterminated string at ${i + 1}`);
      let v: unknown;
      try {
        v = JSON.parse(text.slice(i, j + 1));
      } catch {
        throw new Fail(`bad string escape at ${i + 1}`);
      }
      out.push({ t: 'str', v: v as string, at: i });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s()[\]"]/.test(text[j] as string)) j++;
      out.push({ t: 'word', v: text.slice(i, j), at: i });
      i = j;
    }
  }
  return out;
}

const NAME = /^[A-Za-z$][A-Za-z0-9_$-]*$/;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** `urn:…:User:manager.value` → { uri, attr: 'manager', sub: 'value' }. */
export function parseAttrPath(word: string): AttrPath {
  let uri: string | undefined;
  let rest = word;
  if (/^urn:/i.test(word)) {
    const colon = word.lastIndexOf(':');
    uri = word.slice(0, colon);
    rest = word.slice(colon + 1);
  }
  const parts = rest.split('.');
  if (parts.length > 2 || !parts.every((p) => NAME.test(p))) throw new Fail(`"${word}" is not an attribute path`);
  const path: AttrPath = { attr: parts[0] as string };
  if (uri !== undefined) path.uri = uri;
  if (parts[1] !== undefined) path.sub = parts[1];
  return path;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  done(): boolean {
    return this.i >= this.tokens.length;
  }
  next(): Token {
    const tok = this.tokens[this.i++];
    if (tok === undefined) throw new Fail('unexpected end');
    return tok;
  }
  isWord(tok: Token | undefined, word: string): boolean {
    return tok?.t === 'word' && tok.v.toLowerCase() === word;
  }
  expect(t: ')' | ']'): void {
    if (this.done()) throw new Fail(`expected "${t}" at the end`);
    const tok = this.next();
    if (tok.t !== t) throw new Fail(`expected "${t}" at ${tok.at + 1}`);
  }

  or(inValuePath: boolean): ScimFilter {
    let left = this.and(inValuePath);
    while (this.isWord(this.peek(), 'or')) {
      this.i++;
      left = { op: 'or', left, right: this.and(inValuePath) };
    }
    return left;
  }
  and(inValuePath: boolean): ScimFilter {
    let left = this.unary(inValuePath);
    while (this.isWord(this.peek(), 'and')) {
      this.i++;
      left = { op: 'and', left, right: this.unary(inValuePath) };
    }
    return left;
  }
  unary(inValuePath: boolean): ScimFilter {
    if (++this.depth > MAX_DEPTH) throw new Fail(`nested deeper than ${MAX_DEPTH}`);
    try {
      const tok = this.peek();
      if (this.isWord(tok, 'not') && this.tokens[this.i + 1]?.t === '(') {
        this.i += 2;
        const filter = this.or(inValuePath);
        this.expect(')');
        return { op: 'not', filter };
      }
      if (tok?.t === '(') {
        this.i++;
        const filter = this.or(inValuePath);
        this.expect(')');
        return filter;
      }
      return this.attrExp(inValuePath);
    } finally {
      this.depth--;
    }
  }
  attrExp(inValuePath: boolean): ScimFilter {
    const tok = this.next();
    if (tok.t !== 'word') throw new Fail(`expected an attribute at ${tok.at + 1}`);
    const path = parseAttrPath(tok.v);
    if (this.peek()?.t === '[') {
      if (inValuePath) throw new Fail(`a value filter inside a value filter at ${tok.at + 1}`);
      if (path.sub !== undefined) throw new Fail(`"${tok.v}" has a sub-attribute before "["`);
      this.i++;
      const filter = this.or(true);
      this.expect(']');
      const after = this.peek();
      if (after?.t === 'word' && after.v.startsWith('.')) {
        // Entra: `emails[type eq "work"].value eq "x"` reads as `emails[type eq "work" and value eq "x"]`
        this.i++;
        const sub = after.v.slice(1);
        if (!NAME.test(sub)) throw new Fail(`"${sub}" is not a sub-attribute`);
        const right = this.comparison({ attr: sub }, after.at);
        return { op: 'valuePath', path, filter: { op: 'and', left: filter, right } };
      }
      return { op: 'valuePath', path, filter };
    }
    return this.comparison(path, tok.at);
  }
  comparison(path: AttrPath, at: number): ScimFilter {
    if (this.done()) throw new Fail(`expected an operator after ${at + 1}`);
    const opTok = this.next();
    if (opTok.t !== 'word') throw new Fail(`expected an operator at ${opTok.at + 1}`);
    const op = opTok.v.toLowerCase();
    if (op === 'pr') return { op: 'pr', path };
    if (!(COMPARE_OPS as readonly string[]).includes(op)) throw new Fail(`unsupported operator "${opTok.v}"`);
    const value = this.compValue();
    const cop = op as CompareOp;
    if (typeof value === 'boolean' && cop !== 'eq' && cop !== 'ne') throw new Fail(`"${opTok.v}" cannot compare a boolean`);
    if (value === null && cop !== 'eq' && cop !== 'ne') throw new Fail(`"${opTok.v}" cannot compare null`);
    if (typeof value === 'number' && (cop === 'co' || cop === 'sw' || cop === 'ew')) throw new Fail(`"${opTok.v}" cannot compare a number`);
    return { op: cop, path, value };
  }
  compValue(): CompValue {
    const tok = this.next();
    if (tok.t === 'str') return tok.v;
    if (tok.t === 'word') {
      const w = tok.v.toLowerCase();
      if (w === 'true') return true;
      if (w === 'false') return false;
      if (w === 'null') return null;
      if (NUMBER.test(tok.v)) return Number(tok.v);
    }
    throw new Fail(`expected a value at ${tok.at + 1}`);
  }
}

/**
 * Parses a SCIM filter: `eq ne co sw ew gt ge lt le pr`, `and`, `or`, `not (…)`, parentheses and value
 * filters `emails[type eq "work"]`; operators and attribute names case-insensitive.
 * Throws ScimError 400 `invalidFilter` naming what is wrong.
 * @example parseFilter('userName eq "bjensen" and active eq true')
 */
export function parseFilter(text: string): ScimFilter {
  if (text.length > MAX_FILTER_LENGTH) throw new ScimError(400, 'invalidFilter', `filter: longer than ${MAX_FILTER_LENGTH} characters`);
  try {
    const p = new Parser(tokenize(text));
    if (p.done()) throw new Fail('empty');
    const f = p.or(false);
    const rest = p.peek();
    if (rest !== undefined) throw new Fail(`unexpected "${rest.t === 'word' || rest.t === 'str' ? rest.v : rest.t}" at ${rest.at + 1}`);
    return f;
  } catch (e) {
    if (e instanceof Fail) throw new ScimError(400, 'invalidFilter', `filter: ${e.message}`);
    throw e;
  }
}

/**
 * Parses a PATCH operation's `path`: `title`, `name.givenName`, `urn:…:enterprise:2.0:User:department`,
 * `members[value eq "2819c223"]`, `emails[type eq "work"].value`. Throws ScimError 400 `invalidPath`.
 */
export function parsePath(text: string): ScimPath {
  if (text.length > MAX_FILTER_LENGTH) throw new ScimError(400, 'invalidPath', `path: longer than ${MAX_FILTER_LENGTH} characters`);
  try {
    const tokens = tokenize(text);
    const first = tokens[0];
    if (first?.t !== 'word') throw new Fail('expected an attribute');
    // `emails[type eq "work"].value`: the tokenizer reads `.value` as a word after `]`
    const path = parseAttrPath(first.v);
    const out: ScimPath = { path };
    if (tokens.length === 1) return out;
    if (tokens[1]?.t !== '[' || path.sub !== undefined) throw new Fail(`unexpected text after "${first.v}"`);
    const last = tokens[tokens.length - 1];
    let end = tokens.length;
    if (last?.t === 'word' && last.v.startsWith('.')) {
      const sub = last.v.slice(1);
      if (!NAME.test(sub)) throw new Fail(`"${sub}" is not a sub-attribute`);
      out.sub = sub;
      end--;
    }
    if (tokens[end - 1]?.t !== ']') throw new Fail('expected "]" at the end');
    const p = new Parser(tokens.slice(2, end - 1));
    if (p.done()) throw new Fail('empty value filter');
    out.filter = p.or(true);
    if (!p.done()) throw new Fail('unexpected text in the value filter');
    return out;
  } catch (e) {
    if (e instanceof Fail) throw new ScimError(400, 'invalidPath', `path: ${e.message}`);
    if (e instanceof ScimError) throw new ScimError(400, 'invalidPath', e.message.replace(/^filter:/, 'path:'));
    throw e;
  }
}

// ---------- matching ----------

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The own key of `o` equal to `name` ignoring case. */
export function keyOf(o: Json, name: string): string | undefined {
  if (Object.hasOwn(o, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(o).find((k) => k.toLowerCase() === lower);
}

const CORE_URNS = [USER_SCHEMA.toLowerCase(), GROUP_SCHEMA.toLowerCase()];

/** The object a path's attribute lives in: the resource, or the extension object its URI names. */
function containerOf(resource: Json, path: AttrPath): Json | undefined {
  if (path.uri === undefined || CORE_URNS.includes(path.uri.toLowerCase())) return resource;
  const k = keyOf(resource, path.uri);
  const v = k === undefined ? undefined : resource[k];
  return isObject(v) ? v : undefined;
}

function childOf(o: Json, name: string): unknown {
  const k = keyOf(o, name);
  return k === undefined ? undefined : o[k];
}

/** The leaf values a path selects (multi-valued: every element; complex without a sub-attribute: its `value`). */
function leaves(resource: Json, path: AttrPath): unknown[] {
  const c = containerOf(resource, path);
  if (c === undefined) return [];
  const v = childOf(c, path.attr);
  const items = Array.isArray(v) ? v : v === undefined ? [] : [v];
  const out: unknown[] = [];
  for (const item of items) {
    if (path.sub !== undefined) {
      if (isObject(item)) {
        const s = childOf(item, path.sub);
        if (Array.isArray(s)) out.push(...s);
        else if (s !== undefined && s !== null) out.push(s);
      }
    } else if (isObject(item)) {
      const s = childOf(item, 'value');
      if (s !== undefined && s !== null) out.push(s);
    } else if (item !== null) out.push(item);
  }
  return out;
}

const ALL_DEFS: AttrDef[] = [...COMMON_ATTRIBUTES, ...USER_ATTRIBUTES, ...GROUP_ATTRIBUTES, ...ENTERPRISE_USER_ATTRIBUTES];

/** The definition a path points at (across core, enterprise and group schemas), for caseExact and type. */
function defOf(path: AttrPath): AttrDef | undefined {
  const top = findAttr(ALL_DEFS, path.attr);
  if (top === undefined || path.sub === undefined) return top?.type === 'complex' ? findAttr(top.subAttributes ?? [], 'value') ?? top : top;
  return findAttr(top.subAttributes ?? [], path.sub);
}

function compare(op: CompareOp, leaf: unknown, value: CompValue, def: AttrDef | undefined): boolean {
  if (value === null) return false;
  if (typeof value === 'boolean') return leaf === value;
  if (typeof value === 'number') {
    if (typeof leaf !== 'number') return op === 'ne' ? true : false;
    return cmp(op, leaf - value);
  }
  if (typeof leaf !== 'string') return false;
  if (def?.type === 'dateTime' && (op === 'gt' || op === 'ge' || op === 'lt' || op === 'le')) {
    const a = Date.parse(leaf);
    const b = Date.parse(value);
    if (!Number.isNaN(a) && !Number.isNaN(b)) return cmp(op, a - b);
  }
  const exact = def?.caseExact ?? false;
  const a = exact ? leaf : leaf.toLowerCase();
  const b = exact ? value : value.toLowerCase();
  switch (op) {
    case 'co':
      return a.includes(b);
    case 'sw':
      return a.startsWith(b);
    case 'ew':
      return a.endsWith(b);
    default:
      return cmp(op, a < b ? -1 : a > b ? 1 : 0);
  }
}

function cmp(op: CompareOp, d: number): boolean {
  switch (op) {
    case 'eq':
      return d === 0;
    case 'ne':
      return d !== 0;
    case 'gt':
      return d > 0;
    case 'ge':
      return d >= 0;
    case 'lt':
      return d < 0;
    case 'le':
      return d <= 0;
    default:
      return false;
  }
}

function matches(resource: Json, f: ScimFilter, parent: AttrPath | undefined): boolean {
  switch (f.op) {
    case 'and':
      return matches(resource, f.left, parent) && matches(resource, f.right, parent);
    case 'or':
      return matches(resource, f.left, parent) || matches(resource, f.right, parent);
    case 'not':
      return !matches(resource, f.filter, parent);
    case 'valuePath': {
      const c = containerOf(resource, f.path);
      const v = c === undefined ? undefined : childOf(c, f.path.attr);
      const items = Array.isArray(v) ? v : v === undefined ? [] : [v];
      return items.some((item) => isObject(item) && matches(item, f.filter, f.path));
    }
    case 'pr':
      return leaves(resource, f.path).some((v) => v !== '' && !(Array.isArray(v) && v.length === 0));
    default: {
      // inside a value filter, `type` means `<parent>.type`
      const def = defOf(parent === undefined ? f.path : { attr: parent.attr, sub: f.path.attr });
      const found = leaves(resource, f.path);
      if (f.value === null) return f.op === 'eq' ? found.length === 0 : found.length > 0;
      if (f.op === 'ne') return !found.some((leaf) => compare('eq', leaf, f.value, def));
      return found.some((leaf) => compare(f.op as CompareOp, leaf, f.value, def));
    }
  }
}

/**
 * True when `resource` (stored or rendered, plain JSON) satisfies `f`. Strings compare ignoring case
 * unless the attribute is caseExact (`id`, `externalId`, `members.value`, `meta.version`, `$ref`).
 * A multi-valued attribute matches when any of its values does.
 */
export function filterMatches(resource: object, f: ScimFilter): boolean {
  return matches(resource as Json, f, undefined);
}

/**
 * True when one element of the multi-valued attribute `parent` satisfies a value filter (the `[…]`
 * of `emails[type eq "work"]`, whose paths are sub-attributes of `parent`).
 */
export function elementMatches(element: object, f: ScimFilter, parent: AttrPath): boolean {
  return matches(element as Json, f, parent);
}

export type IndexedAttr = 'userName' | 'externalId' | 'id' | 'emails.value' | 'displayName';
export interface IndexedTerm {
  attr: IndexedAttr;
  value: string;
}

function indexedAttr(path: AttrPath): IndexedAttr | undefined {
  if (path.uri !== undefined && !CORE_URNS.includes(path.uri.toLowerCase())) return undefined;
  const a = path.attr.toLowerCase();
  const s = path.sub?.toLowerCase();
  if (s === undefined) {
    if (a === 'username') return 'userName';
    if (a === 'externalid') return 'externalId';
    if (a === 'id') return 'id';
    if (a === 'displayname') return 'displayName';
    if (a === 'emails') return 'emails.value';
  } else if (a === 'emails' && s === 'value') return 'emails.value';
  return undefined;
}

/**
 * The `eq` terms on `userName`, `externalId`, `id`, `emails.value` and `displayName` that are AND-ed at the
 * top of `f` (so each one alone narrows the result): the store answers from one lookup, then checks the
 * whole filter with filterMatches. Empty when the filter has none (an `or` at the top, say).
 * @example indexedTerms(parseFilter('userName eq "Jane" and active eq true')) // [{ attr: 'userName', value: 'Jane' }]
 */
export function indexedTerms(f: ScimFilter): IndexedTerm[] {
  if (f.op === 'and') return [...indexedTerms(f.left), ...indexedTerms(f.right)];
  if (f.op === 'eq' && typeof f.value === 'string') {
    const attr = indexedAttr(f.path);
    return attr === undefined ? [] : [{ attr, value: f.value }];
  }
  if (f.op === 'valuePath' && f.path.attr.toLowerCase() === 'emails' && indexedAttr(f.path) !== undefined) {
    // every AND-ed `value eq` inside `emails[…]` narrows to users having that address
    const inner: IndexedTerm[] = [];
    const walk = (g: ScimFilter): void => {
      if (g.op === 'and') {
        walk(g.left);
        walk(g.right);
      } else if (g.op === 'eq' && typeof g.value === 'string' && g.path.attr.toLowerCase() === 'value' && g.path.sub === undefined && g.path.uri === undefined) {
        inner.push({ attr: 'emails.value', value: g.value });
      }
    };
    walk(f.filter);
    return inner;
  }
  return [];
}

/**
 * List paging (RFC 7644 §3.4.2.4): `startIndex` 1-based (below 1 → 1), `count` 0…MAX_PAGE (absent →
 * MAX_PAGE, negative → 0, above → MAX_PAGE). Text that is not an integer → 400 `invalidValue`.
 */
export function pageWindow(query: { startIndex?: string | undefined; count?: string | undefined }): { startIndex: number; count: number } {
  const int = (name: string, raw: string | undefined): number | undefined => {
    if (raw === undefined || raw.trim() === '') return undefined;
    if (!/^\s*-?\d+\s*$/.test(raw)) throw new ScimError(400, 'invalidValue', `${name}: must be an integer`);
    return Number.parseInt(raw, 10);
  };
  const start = int('startIndex', query.startIndex);
  const count = int('count', query.count);
  return {
    startIndex: start === undefined || start < 1 ? 1 : start,
    count: count === undefined ? MAX_PAGE : Math.min(Math.max(count, 0), MAX_PAGE),
  };
}
