// planner --> compileRules once, then ruleIndexIn per person (first matching rule of a target wins) --> matchGlob
// desiredRoles / roleFor: the same rules for a whole roster or one person (rule warnings, tests)
import type { AttributeValue, OrgRole, Person, Rule, StoredPerson } from './types.ts';
import { speakingPeople } from './people.ts';

/**
 * The glob of a rule as a RegExp: case-insensitive, whole value, `*` matches any run (also empty),
 * every other character is literal. For matching prefer matchGlob, which never backtracks badly.
 * @example globToRegExp('*Manager*').test('Engineering manager') // true
 */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/\*+/g, '*')
    .split('*')
    .map((part) => part.replace(/[\\^$.|?+()[\]{}/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 'isu');
}

/** A glob prepared for repeated matching: lower-cased literal pieces between the stars. */
interface CompiledGlob {
  /** pieces[0] must start the value, the last piece must end it; without stars there is one piece */
  pieces: string[];
  /** first character of each piece in upper case ('' when it has none): where to look for a piece */
  uppers: string[];
  stars: boolean;
  /** every piece is ASCII: values can be compared without lower-casing them first */
  ascii: boolean;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

function compileGlob(glob: string): CompiledGlob {
  const lower = glob.toLowerCase();
  const pieces = lower.split('*');
  return { pieces, uppers: pieces.map((p) => (p[0] ?? '').toUpperCase()), stars: pieces.length > 1, ascii: isAscii(lower) };
}

/** value[pos ..] starts with the lower-case ASCII piece, folding A-Z of value */
function pieceAt(value: string, pos: number, piece: string): boolean {
  for (let j = 0; j < piece.length; j++) {
    let c = value.charCodeAt(pos + j);
    if (c >= 65 && c <= 90) c |= 32;
    if (c !== piece.charCodeAt(j)) return false;
  }
  return true;
}

/** First index ≥ from where the lower-case ASCII piece occurs in value (folding A-Z), ending by `end`; else -1. */
function pieceIndex(value: string, piece: string, upper: string, from: number, end: number): number {
  const lower = piece[0]!;
  const twoCases = upper !== lower;
  for (let i = from; i + piece.length <= end; i++) {
    // jump to the next place the first character occurs (either case), then compare the rest
    const a = value.indexOf(lower, i);
    const b = twoCases ? value.indexOf(upper, i) : -1;
    i = a < 0 ? b : b < 0 ? a : Math.min(a, b);
    if (i < 0 || i + piece.length > end) return -1;
    if (pieceAt(value, i, piece)) return i;
  }
  return -1;
}

/**
 * Whole-value match. `fold`: compare with ASCII case folding (value as given, pieces ASCII);
 * otherwise value must already be lower-cased. Greedy leftmost pieces: O(value × glob) at worst.
 */
function matchCompiled(g: CompiledGlob, value: string, fold: boolean): boolean {
  const { pieces } = g;
  const head = pieces[0]!;
  if (!g.stars) return value.length === head.length && (fold ? pieceAt(value, 0, head) : value === head);
  const tail = pieces[pieces.length - 1]!;
  const end = value.length - tail.length;
  if (end < head.length) return false;
  if (fold ? !pieceAt(value, 0, head) || !pieceAt(value, end, tail) : !value.startsWith(head) || !value.endsWith(tail)) return false;
  let pos = head.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i]!;
    if (piece.length === 0) continue;
    const at = fold ? pieceIndex(value, piece, g.uppers[i]!, pos, end) : value.indexOf(piece, pos);
    if (at < 0 || at + piece.length > end) return false;
    pos = at + piece.length;
  }
  return true;
}

/**
 * Case-insensitive match as if both sides were lower-cased. With an ASCII glob, folding A-Z of the
 * value is exact unless the value holds one of the two characters whose lower case is ASCII
 * (U+0130 İ → i̇, U+212A Kelvin K → k); only then is the value lower-cased in full.
 */
function matchValue(g: CompiledGlob, value: string): boolean {
  if (g.ascii) {
    if (matchCompiled(g, value, true)) return true;
    if (value.indexOf('\u0130') < 0 && value.indexOf('\u212a') < 0) return false;
  }
  return matchCompiled(g, value.toLowerCase(), false);
}

/**
 * Case-insensitive whole-value glob match (`*` = any run, also empty; all else literal).
 * @example matchGlob('*@example.com', 'Jane@EXAMPLE.com') // true
 */
export function matchGlob(glob: string, value: string): boolean {
  return matchValue(compileGlob(glob), value);
}

interface CompiledCondition {
  key: string;
  globs: CompiledGlob[];
  /** the globs as written, when none has a star: a value equal to one matches without lower-casing */
  literals: string[] | null;
}

interface CompiledRule {
  conditions: CompiledCondition[];
  role: OrgRole | null;
}

/**
 * Recent answers of one condition by value: people share few distinct values of most attributes
 * (department, title), so a short list compared with === saves matching the globs again. A key with
 * many distinct values (email, employeeId) turns the memo off after MEMO_MISSES misses once full.
 */
interface ConditionMemo {
  values: string[];
  results: boolean[];
  misses: number;
  on: boolean;
}

const MEMO_SIZE = 8;
const MEMO_MISSES = 64;

/** Rules prepared for matching many people (see compileRules). */
export interface RuleSet {
  readonly rules: readonly CompiledRule[];
  /** per rule, per condition (this set's own, so no state is shared between calls) */
  readonly memos?: readonly (readonly ConditionMemo[])[];
}

const compiled = new WeakMap<Rule, CompiledRule>();

function compileRule(rule: Rule): CompiledRule {
  let c = compiled.get(rule);
  if (!c) {
    c = {
      conditions: Object.entries(rule.when).map(([key, g]) => {
        const list = Array.isArray(g) ? g : [g];
        const globs = list.map(compileGlob);
        return { key, globs, literals: globs.every((x) => !x.stars) ? list : null };
      }),
      role: rule.role === 'skip' ? null : rule.role,
    };
    compiled.set(rule, c);
  }
  return c;
}

/**
 * Prepares rules once for matching many people with roleIn.
 * @example const set = compileRules(target.rules); people.map((p) => roleIn(p, set))
 */
export function compileRules(rules: readonly Rule[]): RuleSet {
  const list = rules.map(compileRule);
  return { rules: list, memos: list.map((r) => r.conditions.map(() => ({ values: [], results: [], misses: 0, on: true }))) };
}

/**
 * The value a `when` key looks at: `email`, `employeeId`, `status`, else the attribute of that name
 * (a string, or a list of strings such as a SCIM user's `groups`).
 * @example attributeOf(person, 'department') // 'Engineering', or undefined when the person has none
 */
export function attributeOf(person: Person, key: string): AttributeValue | undefined {
  if (key === 'email') return person.email;
  if (key === 'employeeId') return person.employeeId;
  if (key === 'status') return person.status;
  // attributes hold strings and lists of strings only; what an object inherits (functions, `__proto__`) never is one
  const value: unknown = person.attributes[key];
  if (typeof value === 'string') return value;
  return Array.isArray(value) ? (value as string[]) : undefined;
}

function valueHolds(cond: CompiledCondition, value: string): boolean {
  if (cond.literals !== null && cond.literals.includes(value)) return true;
  for (const g of cond.globs) if (matchValue(g, value)) return true;
  return false;
}

function conditionHolds(cond: CompiledCondition, person: Person, memo: ConditionMemo | undefined): boolean {
  const value = attributeOf(person, cond.key);
  if (value === undefined) return false;
  // a list matches when any element does (`{ "groups": "Losant-*" }`); an empty list matches nothing
  if (typeof value !== 'string') return value.some((v) => typeof v === 'string' && scalarHolds(cond, v, memo));
  return scalarHolds(cond, value, memo);
}

function scalarHolds(cond: CompiledCondition, value: string, memo: ConditionMemo | undefined): boolean {
  if (memo === undefined || !memo.on) return valueHolds(cond, value);
  const { values } = memo;
  for (let i = 0; i < values.length; i++) if (values[i] === value) return memo.results[i]!;
  const holds = valueHolds(cond, value);
  if (values.length < MEMO_SIZE) {
    values.push(value);
    memo.results.push(holds);
  } else if (++memo.misses > MEMO_MISSES) memo.on = false;
  return holds;
}

/** roleFor with rules already compiled. */
export function roleIn(person: Person, set: RuleSet): OrgRole | null {
  const r = ruleIndexIn(person, set);
  return r < 0 ? null : set.rules[r]!.role;
}

/**
 * Which rule decides a person's role: the 0-based index of the first rule whose `when` matches, or -1.
 * `set.rules[i].role` is null for a `skip` rule.
 * @example const i = ruleIndexIn(person, compileRules(target.rules)); // target.rules[i]
 */
export function ruleIndexIn(person: Person, set: RuleSet): number {
  const { rules, memos } = set;
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r]!;
    const memo = memos?.[r];
    let all = true;
    for (let c = 0; c < rule.conditions.length; c++) {
      if (!conditionHolds(rule.conditions[c]!, person, memo?.[c])) {
        all = false;
        break;
      }
    }
    if (all) return r;
  }
  return -1;
}

/**
 * The role a person gets in a target: the first rule whose `when` matches wins (keys AND, list
 * items OR; an empty `when` matches everyone). `skip`, or no matching rule, gives null.
 * A missing attribute matches nothing, not even `*` (so `{ employeeId: '*' }` means "has one"); a list
 * attribute matches when any element does (`{ groups: 'Losant-*' }`), an empty list matches nothing.
 * @example roleFor(person, [{ when: { title: '*Manager*' }, role: 'admin' }, { when: {}, role: 'view' }])
 */
export function roleFor(person: Person, rules: readonly Rule[]): OrgRole | null {
  return roleIn(person, compileRules(rules));
}

export interface DesiredRole {
  role: OrgRole;
  /** lastEventAt of the stored person the role comes from */
  personEventAt: string;
}

/**
 * The stored person that speaks for each email (people.ts `speakingPeople`: each person's newest
 * record across sources decides; terminated people and people their source no longer lists are out;
 * ties to the greater source, then identity).
 */
export function latestPeople(people: readonly StoredPerson[]): Map<string, StoredPerson> {
  const newest = new Map<string, StoredPerson>();
  // speakingPeople keeps at most one record per email, each active and still listed
  for (const p of speakingPeople(people)) newest.set(p.email, p);
  return newest;
}

/**
 * Desired `email → role` of one target: latestPeople, then roleFor each (null roles are left out).
 * @example desiredRoles(await store.listPeople(), target.rules).get('jane@example.com')?.role
 */
export function desiredRoles(people: readonly StoredPerson[], rules: readonly Rule[]): Map<string, DesiredRole> {
  const set = compileRules(rules);
  const desired = new Map<string, DesiredRole>();
  latestPeople(people).forEach((p, email) => {
    const role = roleIn(p, set);
    if (role !== null) desired.set(email, { role, personEventAt: p.lastEventAt });
  });
  return desired;
}
